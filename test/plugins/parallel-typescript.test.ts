// Issue 14 (workers everywhere): an experiment in a TypeScript module, with no compiled manifest
// and no loader in the process, runs on parallel() workers: the worker registers its own
// esbuild-based loader (src/plugins/execution/ts-loader.ts). vitest's transform does not reach
// worker threads, so without that loader these imports fail.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logging, parallel, serial } from "../../src/index.js";
import { compiledProject } from "../runtime/compiled-project.js";

// TypeScript-only syntax (an enum, a type annotation, `satisfies`) and the `./x.js` → `./x.ts` convention.
const HELPER = `export enum Scale { Double = 2, Triple = 3 }
export function scale(xs: readonly number[], k: number): number[] { return xs.map((x: number) => x * k); }
`;
const EXPERIMENT = (helper: string) => `import { experiment, pipeline, source, step, treatment } from "crystallize-ts";
import { isMainThread } from "node:worker_threads";
import { Scale, scale } from "${helper}";

interface Row { readonly n: number }
const numbers = source("numbers", (ctx) => Array.from({ length: 8 }, (): number => ctx.random()));
const scaled = step("scaled", { params: { factor: Scale.Double as number }, metrics: ["mean", "inWorker"] }, (xs: number[], ctx) => {
  const ys = scale(xs, ctx.params.factor);
  ctx.record("mean", ys.reduce((a, b) => a + b, 0) / ys.length);
  ctx.record("inWorker", isMainThread ? 0 : 1);
  return ys.map((n) => ({ n }) satisfies Row);
});

export const tsPar = experiment("tsPar", { source: numbers, pipeline: pipeline(scaled), treatments: [treatment("triple", { factor: Scale.Triple })], replicates: 4, seed: 5 });
`;
// A JavaScript module that imports TypeScript: the worker's first import fails with
// ERR_UNKNOWN_FILE_EXTENSION, then it registers the loader and retries.
const JS_EXPERIMENT = `import { experiment, pipeline, source, step } from "crystallize-ts";
import { isMainThread } from "node:worker_threads";
import { scale } from "./helper.ts";

const numbers = source("numbers", (ctx) => [ctx.random(), ctx.random()]);
const scaled = step("scaled", { metrics: ["sum", "inWorker"] }, (xs, ctx) => {
  ctx.record("sum", scale(xs, 2).reduce((a, b) => a + b, 0));
  ctx.record("inWorker", isMainThread ? 0 : 1);
  return xs;
});
export const jsPar = experiment("jsPar", { source: numbers, pipeline: pipeline(scaled), replicates: 3, seed: 2 });
`;

// A plain \`node\` host that imports the .ts module through a loader it registers itself with
// register() (as a tool or a notebook kernel may): Node does not pass such hooks to worker threads.
const HOST = `import { register } from "node:module";
register(${JSON.stringify(new URL("../../dist/plugins/execution/ts-loader-hooks.js", import.meta.url).href)});
const { parallel, serial, logging } = await import("crystallize-ts");
const { tsPar } = await import("./src/ts-par.ts");
const quiet = () => logging({ level: "silent", stream: { write: () => undefined, isTTY: false } });
const p = await tsPar.run({ outDir: "out-host", cache: false, plugins: [quiet()], execution: parallel({ workers: 2, idleTimeoutMs: 0 }) });
const s = await tsPar.run({ outDir: "out-host", cache: false, plugins: [quiet()], execution: serial() });
process.stdout.write(JSON.stringify({ p: p.metrics.baseline, s: s.metrics.baseline, errors: p.errors.length }));
`;

type Metrics = { baseline: Record<string, number[]>; treatments: Record<string, Record<string, number[]>> };
interface Runnable {
  run(options: Record<string, unknown>): Promise<{ metrics: Metrics; errors: readonly unknown[] }>;
}

let dir: string;
const quiet = () => logging({ level: "silent", stream: { write: () => undefined, isTTY: false } });
const load = async (file: string): Promise<Record<string, Runnable>> =>
  (await import(/* @vite-ignore */ pathToFileURL(join(dir, file)).href)) as Record<string, Runnable>;

beforeAll(() => {
  dir = compiledProject("cry-parallel-ts-", {
    "src/helper.ts": HELPER,
    "src/ts-par.ts": EXPERIMENT("./helper.js"),
    "src/js-par.mjs": JS_EXPERIMENT,
    "host.mjs": HOST,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parallel() with a TypeScript module and no compiled manifest", () => {
  it("workers transpile the .ts module (and its ./x.js imports of .ts files) and give serial()'s results", async () => {
    const { tsPar } = await load("src/ts-par.ts");
    const options = { outDir: join(dir, "out"), cache: false, plugins: [quiet()] };
    const p = await tsPar!.run({ ...options, execution: parallel({ workers: 2, idleTimeoutMs: 0 }) });
    const s = await tsPar!.run({ ...options, execution: serial() });
    expect(p.errors).toEqual([]);
    expect(p.metrics.baseline.mean).toHaveLength(4);
    expect(p.metrics.baseline.mean).toEqual(s.metrics.baseline.mean);
    expect(p.metrics.treatments.triple!.mean).toEqual(s.metrics.treatments.triple!.mean);
    expect(p.metrics.baseline.inWorker).toEqual([1, 1, 1, 1]);
    expect(s.metrics.baseline.inWorker).toEqual([0, 0, 0, 0]);
  });

  it("a plain node host (its own loader registered in-process, not inherited by workers) runs it on workers", () => {
    const r = spawnSync(process.execPath, [join(dir, "host.mjs")], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { p: Record<string, number[]>; s: Record<string, number[]>; errors: number };
    expect(out.errors).toBe(0);
    expect(out.p.inWorker).toEqual([1, 1, 1, 1]);
    expect(out.p.mean).toEqual(out.s.mean);
  }, 60_000);

  it("a JavaScript module that imports a .ts file runs on workers too", async () => {
    const { jsPar } = await load("src/js-par.mjs");
    const options = { outDir: join(dir, "out-js"), cache: false, plugins: [quiet()] };
    const p = await jsPar!.run({ ...options, execution: parallel({ workers: 2, idleTimeoutMs: 0 }) });
    const s = await jsPar!.run({ ...options, execution: serial() });
    expect(p.errors).toEqual([]);
    expect(p.metrics.baseline.sum).toEqual(s.metrics.baseline.sum);
    expect(p.metrics.baseline.inWorker).toEqual([1, 1, 1]);
  });
});
