// Issue 17: a compiled project's experiment, run with parallel() from its TypeScript module under
// vitest (whose transform the worker threads do not get), runs in workers through the compiled
// runner; when the manifest is stale, workers import the edited TypeScript source through their
// own loader (src/plugins/execution/ts-loader.ts).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logging, parallel, serial } from "../../src/index.js";
import { cli, compiledProject } from "../runtime/compiled-project.js";

const EXPERIMENT = `import { experiment, pipeline, source, step, treatment } from "crystallize-ts";
import { isMainThread, threadId } from "node:worker_threads";

const numbers = source("numbers", (ctx) => Array.from({ length: 8 }, () => ctx.random()));
const scaled = step("scaled", { params: { factor: 2 }, metrics: ["mean", "inWorker", "n"] }, (xs: number[], ctx) => {
  const ys = xs.map((x) => x * ctx.params.factor);
  ctx.record("mean", ys.reduce((a, b) => a + b, 0) / ys.length);
  ctx.record("inWorker", isMainThread ? 0 : threadId > 0 ? 1 : 0);
  ctx.record("n", ys.length);
  return ys;
});

export const par = experiment("par", { source: numbers, pipeline: pipeline(scaled), treatments: [treatment("triple", { factor: 3 })], replicates: 4, seed: 11 });
`;

interface ParModule {
  readonly par: {
    run(options: Record<string, unknown>): Promise<{ metrics: { baseline: Record<string, number[]>; treatments: Record<string, Record<string, number[]>> }; errors: readonly unknown[] }>;
  };
}

let dir: string;
const load = async (): Promise<ParModule> =>
  (await import(/* @vite-ignore */ `${pathToFileURL(join(dir, "src/par.ts")).href}?t=${Date.now()}`)) as ParModule;
const quiet = () => logging({ level: "silent", stream: { write: () => undefined, isTTY: false } });

beforeAll(() => {
  dir = compiledProject("cry-parallel-compiled-", { "src/par.ts": EXPERIMENT });
  const r = cli(["compile", "--project", dir]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parallel() with a compiled project, run from a TypeScript module under vitest", () => {
  it("workers import the compiled runner and give serial()'s results", async () => {
    const { par } = await load();
    const outDir = join(dir, ".crystallize");
    const p = await par.run({ outDir, cache: false, execution: parallel({ workers: 2, idleTimeoutMs: 0 }), plugins: [quiet()] });
    const s = await par.run({ outDir, cache: false, execution: serial(), plugins: [quiet()] });
    expect(p.errors).toEqual([]);
    expect(p.metrics.baseline.mean).toEqual(s.metrics.baseline.mean);
    expect(p.metrics.treatments.triple!.mean).toEqual(s.metrics.treatments.triple!.mean);
    // The tasks really ran in worker threads.
    expect(p.metrics.baseline.inWorker).toEqual([1, 1, 1, 1]);
    expect(s.metrics.baseline.inWorker).toEqual([0, 0, 0, 0]);
  });

  it("with a stale manifest, workers import the TypeScript source itself (their own loader), running the edited code", async () => {
    writeFileSync(join(dir, "src/par.ts"), readFileSync(join(dir, "src/par.ts"), "utf8").replace("length: 8", "length: 9"));
    const { par } = await load();
    const outDir = join(dir, ".crystallize");
    const p = await par.run({ outDir, cache: false, execution: parallel({ workers: 2, idleTimeoutMs: 0 }), plugins: [quiet()] });
    expect(p.errors).toEqual([]);
    // The edited code ran (the stale runner makes 8 numbers), in worker threads. (vitest's own
    // import keeps its transform of the old file, so serial() here is no reference.)
    expect(p.metrics.baseline.n).toEqual([9, 9, 9, 9]);
    expect(p.metrics.baseline.inWorker).toEqual([1, 1, 1, 1]);
  });
});
