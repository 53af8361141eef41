// The host's static gate: what it refuses before any process sees the code, and what it produces.
import { describe, expect, it } from "vitest";
import { BoundedExecutionError } from "../../src/agentic/index.js";
import { createPreparer } from "../../src/agentic/sandbox/prepare.js";

const prepare = createPreparer(["tiny-stats"]);

async function refused(code: string): Promise<BoundedExecutionError> {
  const e = await prepare(code).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BoundedExecutionError);
  return e as BoundedExecutionError;
}

describe("the static gate", () => {
  it("drops imports TypeScript elides (unused bindings): nothing is loaded", async () => {
    expect((await prepare(`import fs from "fs"; export default 1;`)).imports).toEqual([]);
  });

  it("produces CommonJS without comments and lists the imports", async () => {
    const p = await prepare(`// a comment with import("x")\nimport { mean } from "tiny-stats";\n/** doc */\nexport default (xs: number[]): number => mean(xs);`);
    expect(p.imports).toEqual(["tiny-stats"]);
    expect(p.code).toContain('require("tiny-stats")');
    expect(p.code).not.toContain("a comment");
    expect(p.code).not.toContain("doc");
    expect(p.code).not.toContain(": number");
    expect(p.sourceHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses every spelling of an import it can see", async () => {
    for (const code of [
      `import fs from "fs"; export default () => fs.readdirSync("/");`,
      `export * from "node:fs"; export default 1;`,
      `export default () => require("child_process");`,
      `export default async () => import("os");`,
      `import "./side-effect.js"; export default 1;`,
      `import x from "tiny-stats/internal"; export default x;`,
    ]) {
      const e = await refused(code);
      expect(e.reason).toBe("forbidden-import");
      expect(e.details.specifier).toBeDefined();
    }
  });

  it("refuses dynamic import, direct eval, HTML-like comments and top-level await", async () => {
    expect((await refused(`export default (m: string) => import(m);`)).message).toMatch(/dynamic import/);
    expect((await refused(`export default () => eval("1");`)).message).toMatch(/direct eval/);
    expect((await refused(`export default () => "<!-- hi";`)).message).toMatch(/HTML-like comment/);
    // Printed back by esbuild as "a-- > b": no longer an HTML-like comment.
    await expect(prepare(`export default (a: number, b: number) => a-->b;`)).resolves.toMatchObject({ imports: [] });
    expect((await refused(`const x = await Promise.resolve(1); export default () => x;`)).message).toMatch(/does not compile/);
  });

  it("reports parse errors with their position", async () => {
    const e = await refused(`export default () => {\n  return 1 +;\n}`);
    expect(e.reason).toBe("forbidden-syntax");
    expect(e.message).toMatch(/guest\.ts:2:\d+/);
  });

  it("memoises by source (the same promise, also for failures)", () => {
    const code = `export default () => 1;`;
    expect(prepare(code)).toBe(prepare(code));
    const bad = `import "fs"; export default 1;`;
    const a = prepare(bad);
    a.catch(() => {});
    expect(prepare(bad)).toBe(a);
  });
});
