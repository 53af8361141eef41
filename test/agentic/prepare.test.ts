// The host's static gate: what it refuses before any process sees the code, and what it produces.
import { describe, expect, it } from "vitest";
import { BoundedExecutionError } from "../../src/agentic/index.js";
import fc from "fast-check";
import { gateServiceStats } from "../../src/agentic/sandbox/gate-compiler.js";
import { bracketDepth, createPreparer } from "../../src/agentic/sandbox/prepare.js";

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

  it("measures bracket nesting outside strings and comments", () => {
    expect(bracketDepth(`f([{ a: (1) }])`)).toBe(4);
    expect(bracketDepth(`const s = "[[[[" + '((('; // {{{{\n/* [[[[ */ x[0]`)).toBe(1);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.constantFrom("(", "[", "{"), (n, open) => {
        const close = { "(": ")", "[": "]", "{": "}" }[open];
        expect(bracketDepth(`x = ${open.repeat(n)}1${close.repeat(n)}; "${open.repeat(n)}"`)).toBe(n);
      }),
      { numRuns: 50, seed: 13 },
    );
  });

  it("a build overrunning its deadline restarts the service; a build in flight beside it is retried, not lost", async () => {
    const gate = createPreparer([]);
    const before = gateServiceStats();
    // Both take about a second to compile; the first may take 150 ms only.
    const overrun = gate(`export default () => ${"!".repeat(60_000)}1;`, { timeoutMs: 150 });
    const beside = gate(`export default () => ${"!".repeat(50_000)}2;`, { timeoutMs: 8000 });
    await expect(overrun).rejects.toMatchObject({ reason: "timeout" });
    const prepared = await beside;
    expect(prepared.code).toMatch(/module.exports/);
    const after = gateServiceStats();
    expect(after.restarts).toBeGreaterThan(before.restarts);
    expect(after.retries).toBeGreaterThan(before.retries);
    await expect(gate(`export default () => 41 + 1;`)).resolves.toMatchObject({ imports: [] });
  }, 20_000);

  it("holds a compile to its deadline, does not memoise the timeout, and keeps working", async () => {
    const gate = createPreparer([]);
    const slow = `export default () => ${"!".repeat(150_000)}1;`;
    const t0 = performance.now();
    const e = await gate(slow, { timeoutMs: 200 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(BoundedExecutionError);
    expect((e as BoundedExecutionError).reason).toBe("timeout");
    expect(performance.now() - t0).toBeLessThan(200 + 500);
    // Not memoised: a later call compiles again (and fails the same way within its own deadline).
    const first = gate(slow, { timeoutMs: 50 });
    await first.catch(() => {});
    const second = gate(slow, { timeoutMs: 50 });
    expect(second).not.toBe(first);
    await expect(second).rejects.toMatchObject({ reason: "timeout" });
    await expect(gate(`export default () => 7;`)).resolves.toMatchObject({ imports: [] });
  });
});
