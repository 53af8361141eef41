// Issue 14 (workers everywhere): `crystallize bundle <graph>` refuses with a clear message naming
// the graph and `crystallize run <graph>`; a bundle whose experiment lists parallel() in its
// plugins runs its replicates on worker threads started from the bundle itself, with node, from a
// folder without node_modules.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, compiledProject, repo } from "../runtime/compiled-project.js";

const MODULE = `import { artifact, experiment, graph, input, parallel, pipeline, source, step } from "crystallize-ts";
import { isMainThread } from "node:worker_threads";

const values = artifact<number[]>("values.json");
const draw = step("draw", { metrics: ["inWorker", "mean"] }, (_x: null, ctx) => {
  const xs = Array.from({ length: 5 }, () => ctx.random());
  ctx.artifacts.write(values, xs);
  ctx.record("inWorker", isMainThread ? 0 : 1);
  ctx.record("mean", xs.reduce((a, b) => a + b, 0) / xs.length);
  return xs;
});
export const onWorkers = experiment("onWorkers", {
  source: source("none", () => null),
  pipeline: pipeline(draw),
  outputs: [values],
  replicates: 4,
  seed: 3,
  plugins: [parallel({ workers: 2, idleTimeoutMs: 0 })],
});
export const plain = experiment("plain", {
  source: source("none", () => null),
  pipeline: pipeline(draw),
  replicates: 4,
  seed: 3,
});
const reader = step("reader", (x: { v: number[] }) => x.v.length);
export const reads = experiment("reads", { source: input({ v: onWorkers.output(values) }), pipeline: pipeline(reader) });
export const flow = graph("flow", [onWorkers, reads]);
`;

let dir: string;
let tmp: string;
beforeAll(() => {
  dir = compiledProject("cry-bundle-workers-", { "src/flow.ts": MODULE });
  // The checker must see parallel() too: the DSL's sources plus its declaration (the test tsconfig maps the DSL alone).
  const dsl = join(repo, "src/dsl");
  writeFileSync(
    join(dir, "crystallize.d.ts"),
    `export * from "${dsl}/index.js";\nexport declare function parallel(options?: { workers?: number; idleTimeoutMs?: number }): import("${dsl}/plugin.js").ExecutionStrategy;\n`,
  );
  const tsconfig = JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8")) as { compilerOptions: { paths: Record<string, string[]> } };
  tsconfig.compilerOptions.paths = { "crystallize-ts": [join(dir, "crystallize.d.ts")] };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
  tmp = mkdtempSync(join(tmpdir(), "cry-bundle-workers-run-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

const node = (file: string, args: string[]) => spawnSync(process.execPath, [file, ...args], { cwd: tmp, encoding: "utf8", timeout: 60_000 });
type Json = { metrics: { baseline: Record<string, number[]> }; errors: unknown[] };

describe("crystallize bundle and workers", () => {
  it("refuses a graph, naming it and `crystallize run <graph>`", () => {
    const r = cli(["bundle", "flow", "--project", dir, "-o", join(tmp, "flow.mjs")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"flow" is a graph');
    expect(r.stderr).toContain("crystallize run flow");
    expect(r.stderr).toContain("crystallize bundle onWorkers");
  }, 120_000);

  it("a bundle whose experiment lists parallel() runs on workers started from the bundle, like a serial bundle", () => {
    const a = join(tmp, "onWorkers.mjs");
    const b = cli(["bundle", "onWorkers", "--project", dir, "-o", a]);
    expect(b.code, b.stderr).toBe(0);
    const r = node(a, ["--json", "--out", join(tmp, "out-a")]);
    expect(r.status, r.stderr).toBe(0);
    const par = JSON.parse(r.stdout) as Json;
    expect(par.errors).toEqual([]);
    expect(par.metrics.baseline.inWorker).toEqual([1, 1, 1, 1]);
    // The same draws as an experiment without parallel() (same seed and step).
    const p = join(tmp, "plain.mjs");
    expect(cli(["bundle", "plain", "--project", dir, "-o", p]).code).toBe(0);
    const s = node(p, ["--json", "--out", join(tmp, "out-p")]);
    expect(s.status, s.stderr).toBe(0);
    const ser = JSON.parse(s.stdout) as Json;
    expect(ser.metrics.baseline.inWorker).toEqual([0, 0, 0, 0]);
    expect(par.metrics.baseline.mean).toEqual(ser.metrics.baseline.mean);
  }, 120_000);
});
