// The sandbox's ordinary behaviour: values, console capture, seeded randomness, whitelisted
// imports (CommonJS and ES modules), the static gate, limits, pools, and closing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BoundedExecutionError, createSandbox, type Sandbox } from "../../src/agentic/index.js";
import { defaultChildEntry } from "../../src/agentic/sandbox/host.js";
import { ValidationError } from "../../src/errors.js";

let sandbox: Sandbox;
let project: string;

function fail(p: Promise<unknown>): Promise<BoundedExecutionError> {
  return p.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(BoundedExecutionError);
      return e as BoundedExecutionError;
    },
  );
}

beforeAll(async () => {
  // A throwaway project with two packages: one CommonJS, one ES-module-only.
  project = mkdtempSync(join(tmpdir(), "crystallize-sandbox-test-"));
  const pkg = (name: string, files: Record<string, string>) => {
    const dir = join(project, "node_modules", name);
    mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  };
  pkg("tiny-stats", {
    "package.json": JSON.stringify({ name: "tiny-stats", version: "1.0.0", main: "index.js" }),
    "index.js": "exports.mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length; exports.config = { scale: 1 };",
  });
  pkg("esm-only", {
    "package.json": JSON.stringify({ name: "esm-only", version: "1.0.0", type: "module", exports: "./index.js" }),
    "index.js": "export const double = (x) => 2 * x; export default function triple(x) { return 3 * x; }",
  });
  sandbox = createSandbox({
    allowedImports: ["tiny-stats", "esm-only"],
    resolveFrom: project,
    timeoutMs: 5000,
    memoryMb: 96,
    maxOutputBytes: 64 * 1024,
  });
  await sandbox.ready();
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
  rmSync(project, { recursive: true, force: true });
});

describe("createSandbox: running guest modules", () => {
  it("calls the default export with the input and returns value, stdout and duration", async () => {
    const r = await sandbox.run<{ total: number }>(
      `export default function (input) { console.log("rows:", input.rows.length); console.warn({ a: [1, 2] }); return { total: input.rows.reduce((s, r) => s + r.x, 0) }; }`,
      { rows: [{ x: 1 }, { x: 2 }, { x: 3.5 }] },
    );
    expect(r.value).toEqual({ total: 6.5 });
    expect(r.stdout).toBe("rows: 3\n{ a: [ 1, 2 ] }\n");
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("accepts TypeScript, async exports and named entries", async () => {
    const code = `
      interface Row { x: number }
      export async function mean(rows: Row[]): Promise<number> { await null; return rows.reduce((s, r) => s + r.x, 0) / rows.length; }
      export default async (rows: Row[]) => ({ n: rows.length });`;
    expect((await sandbox.run(code, [{ x: 2 }, { x: 4 }])).value).toEqual({ n: 2 });
    expect((await sandbox.run(code, [{ x: 2 }, { x: 4 }], { entry: "mean" })).value).toBe(3);
    const missing = await fail(sandbox.run(code, [], { entry: "median" }));
    expect(missing.reason).toBe("runtime-error");
    expect(missing.message).toContain('no exported function "median"');
  });

  it("copies rich plain data both ways: NaN, -0, undefined, bigint, Dates, typed arrays", async () => {
    const r = await sandbox.run<Record<string, unknown>>(
      `export default (input) => ({ nan: NaN, negZero: -0, u: undefined, big: 10n ** 20n, when: new Date(0), f: new Float64Array([1.5, 2.5]).subarray(1), echo: input })`,
      { t: new Uint8Array([1, 2]), d: new Date(5) },
    );
    expect(r.value.nan).toBeNaN();
    expect(Object.is(r.value.negZero, -0)).toBe(true);
    expect("u" in r.value).toBe(true);
    expect(r.value.big).toBe(10n ** 20n);
    expect(r.value.when).toEqual(new Date(0));
    expect(r.value.f).toEqual(new Float64Array([2.5]));
    expect(r.value.echo).toEqual({ t: new Uint8Array([1, 2]), d: new Date(5) });
  });

  it("gives the guest a seeded Math.random: same seed, same stream; other seed, other stream", async () => {
    const code = `export default () => [Math.random(), Math.random(), Math.random()]`;
    const a = await sandbox.run<number[]>(code, null, { seed: 7 });
    const b = await sandbox.run<number[]>(code, null, { seed: 7 });
    const c = await sandbox.run<number[]>(code, null, { seed: 8 });
    const d = await sandbox.run<number[]>(code, null);
    const e = await sandbox.run<number[]>(code, null, { seed: 0 });
    expect(a.value).toEqual(b.value);
    expect(c.value).not.toEqual(a.value);
    expect(d.value).toEqual(e.value);
    for (const x of a.value) expect(x >= 0 && x < 1).toBe(true);
    // The seeded Math is frozen and still has the usual functions.
    const frozen = await sandbox.run(`export default () => [Object.isFrozen(Math), Math.max(1, 3), Math.PI]`, null);
    expect(frozen.value).toEqual([true, 3, Math.PI]);
  });

  it("serves whitelisted CommonJS and ES modules, a fresh instance per job", async () => {
    const r = await sandbox.run(
      `import { mean } from "tiny-stats"; import triple, { double } from "esm-only";
       export default (xs: number[]) => [mean(xs), double(2), triple(2)];`,
      [1, 2, 3],
    );
    expect(r.value).toEqual([2, 4, 6]);
    // A job may change its own instance; the next job gets a fresh one.
    const mutate = await sandbox.run(`import * as s from "tiny-stats"; export default () => { s.config.scale = 2; return s.config.scale; }`, null);
    expect(mutate.value).toBe(2);
    const next = await sandbox.run(`import * as s from "tiny-stats"; export default () => s.config.scale;`, null);
    expect(next.value).toBe(1);
  });

  it("isolates jobs: globals set by one job are gone in the next", async () => {
    await sandbox.run(`export default () => { globalThis.leak = 42; return 1; }`, null);
    const r = await sandbox.run(`export default () => typeof globalThis.leak`, null);
    expect(r.value).toBe("undefined");
  });

  it("strips comments before SES sees them (an import( in a comment is harmless)", async () => {
    const r = await sandbox.run(`// see import("fs") for details\n/* and import(x) here */\nexport default () => 1;`, null);
    expect(r.value).toBe(1);
  });

  it("reports the guest's stack (guest frames only) and captured output for runtime errors", async () => {
    const e = await fail(
      sandbox.run(`function inner() { throw new TypeError("bad row"); }\nexport default () => { console.log("before"); inner(); };`, null),
    );
    expect(e.reason).toBe("runtime-error");
    expect(e.message).toContain("TypeError: bad row");
    expect(e.details.stdout).toBe("before\n");
    expect(e.details.guestStack).toMatch(/at inner \(guest\.js:\d+:\d+\)/);
    expect(e.details.guestStack).not.toMatch(/node_modules|ses/);
  });

  it("fails without a default export function", async () => {
    const e = await fail(sandbox.run(`export const x = 1;`, null));
    expect(e.reason).toBe("runtime-error");
    expect(e.message).toContain("no default export function");
  });

  it("reports syntax errors with a location as forbidden-syntax", async () => {
    const e = await fail(sandbox.run(`export default () => {`, null));
    expect(e.reason).toBe("forbidden-syntax");
    expect(e.message).toMatch(/guest\.ts:1:\d+/);
    const tla = await fail(sandbox.run(`await null; export default () => 1;`, null));
    expect(tla.reason).toBe("forbidden-syntax");
  });

  it("names the refused module", async () => {
    const e = await fail(sandbox.run(`import os from "os"; export default () => os.hostname();`, null));
    expect(e.reason).toBe("forbidden-import");
    expect(e.details.specifier).toBe("os");
    expect(e.message).toContain("esm-only, tiny-stats");
  });

  it("refuses inputs that cannot be copied", async () => {
    const e = await fail(sandbox.run(`export default (x) => x`, { f: () => 1 }));
    expect(e.reason).toBe("non-serialisable-input");
    expect((await sandbox.run(`export default () => 2`, null)).value).toBe(2);
  });

  it("caps the result size (maxOutputBytes)", async () => {
    expect((await sandbox.run(`export default () => "x".repeat(60 * 1024)`, null)).value).toHaveLength(60 * 1024);
    expect((await fail(sandbox.run(`export default () => "x".repeat(70 * 1024)`, null))).reason).toBe("output-too-large");
  });

  it("overrides the time limit per run", async () => {
    const e = await fail(sandbox.run(`export default () => { for (;;) {} }`, null, { timeoutMs: 200 }));
    expect(e.reason).toBe("timeout");
    expect((await sandbox.run(`export default () => 3`, null)).value).toBe(3);
  });

  it("checks code statically without running it", async () => {
    const ok = await sandbox.check(`import { mean } from "tiny-stats"; export default mean;`);
    expect(ok.imports).toEqual(["tiny-stats"]);
    expect(ok.sourceHash).toMatch(/^[0-9a-f]{64}$/);
    await expect(sandbox.check(`import "fs"; export default 1`)).rejects.toMatchObject({ reason: "forbidden-import" });
  });

  it("exposes its limits", () => {
    expect(sandbox.limits).toMatchObject({ allowedImports: ["esm-only", "tiny-stats"], timeoutMs: 5000, memoryMb: 96, maxOutputBytes: 64 * 1024 });
  });
});

describe("createSandbox: options, pools and closing", () => {
  it("validates options, listing every problem", () => {
    try {
      createSandbox({ allowedImports: ["fs", "./local", "node:path", ""], timeoutMs: 0, memoryMb: 4, poolSize: 0 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const problems = (e as ValidationError).problems.join("\n");
      expect(problems).toMatch(/"fs" is a Node built-in/);
      expect(problems).toMatch(/"\.\/local" must be a bare package specifier/);
      expect(problems).toMatch(/node:path/);
      expect(problems).toMatch(/timeoutMs/);
      expect(problems).toMatch(/memoryMb/);
      expect(problems).toMatch(/poolSize/);
    }
  });

  it("runs jobs in parallel on a pool, each in its own process", async () => {
    const pool = createSandbox({ poolSize: 2, warmSpare: false, timeoutMs: 5000 });
    try {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.run<number>(`export default (x) => x * 2`, i)));
      expect(results.map((r) => r.value)).toEqual([0, 2, 4, 6, 8, 10]);
      expect(pool.processesStarted).toBe(2);
      // One process may have served every job before the other finished starting: wait for both.
      await pool.ready();
      const startups = pool.startups();
      expect(startups).toHaveLength(2);
      for (const s of startups) {
        expect(s.childCpuMs).toBeGreaterThan(0);
        expect(s.hostMs).toBeGreaterThan(0);
        expect(["hit", "miss"]).toContain(s.codeCache);
      }
    } finally {
      await pool.close();
    }
  });

  it("replaces a killed process with the warm spare and starts a new spare", async () => {
    const pool = createSandbox({ timeoutMs: 300 });
    try {
      await pool.ready();
      expect(pool.processesStarted).toBe(2);
      await expect(pool.run(`export default () => { for (;;) {} }`, null)).rejects.toMatchObject({ reason: "timeout" });
      expect((await pool.run(`export default () => "alive"`, null)).value).toBe("alive");
      expect(pool.processesStarted).toBe(3);
    } finally {
      await pool.close();
    }
  });

  it("rejects pending and later jobs once closed", async () => {
    const pool = createSandbox({ timeoutMs: 5000, warmSpare: false });
    const forever = `export default async () => { for (;;) { await null; } }`;
    const quick = `export default () => 1`;
    // Through the static gate first (memoised), so that the jobs reach the pool in order.
    await Promise.all([pool.ready(), pool.check(forever), pool.check(quick)]);
    const running = pool.run(forever, null).catch((e: unknown) => e);
    const queued = pool.run(quick, null).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await pool.close();
    expect(await running).toMatchObject({ reason: "runtime-error", message: expect.stringMatching(/closed/) });
    expect(await queued).toMatchObject({ reason: "runtime-error", message: expect.stringMatching(/closed/) });
    await expect(pool.run(`export default () => 1`, null)).rejects.toThrow(/closed/);
  });

  it("serves allowed modules without a cache directory too (bundles in a private temp directory)", async () => {
    const pool = createSandbox({ allowedImports: ["tiny-stats"], resolveFrom: project, codeCacheDir: false, warmSpare: false });
    try {
      const r = await pool.run<number>(`import { mean } from "tiny-stats"; export default (xs: number[]) => mean(xs);`, [2, 4]);
      expect(r.value).toBe(3);
    } finally {
      await pool.close();
    }
  });

  it("reports an allowed import that cannot be loaded instead of respawning forever", async () => {
    const pool = createSandbox({ allowedImports: ["no-such-package-xyz"], resolveFrom: project, timeoutMs: 5000, warmSpare: false });
    try {
      const e = await fail(pool.run(`export default () => 1`, null));
      expect(e.reason).toBe("runtime-error");
      expect(e.message).toMatch(/cannot start|no-such-package-xyz/);
      expect(pool.processesStarted).toBeLessThanOrEqual(4);
    } finally {
      await pool.close();
    }
  });

  it("finds the child entry beside the built host, or in dist/ when running from sources", () => {
    expect(defaultChildEntry(pathToFileURL("/pkg/dist/agentic/sandbox/host.js").href)).toBe("/pkg/dist/agentic/sandbox/child.js");
    expect(defaultChildEntry(pathToFileURL("/pkg/src/agentic/sandbox/host.ts").href)).toBe("/pkg/dist/agentic/sandbox/child.js");
    expect(() => createSandbox({ childEntry: join(project, "missing.js") })).toThrow(/does not exist/);
  });
});
