// Issue 14 (workers everywhere): project code that reads data relative to import.meta.url finds
// it from compiled runners (`crystallize run`, the runner run with node from elsewhere, workers,
// a graph's bundle), because each bundled module's import.meta.url is its own source file's URL.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, compiledProject } from "../runtime/compiled-project.js";

const READER = `import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
// data.json sits beside this file, in src/lib/.
export function weights(): number[] {
  return JSON.parse(readFileSync(new URL("./data.json", import.meta.url), "utf8")) as number[];
}
export const where = (): string => fileURLToPath(import.meta.url);
`;
const EXPERIMENT = `import { artifact, experiment, graph, input, pipeline, source, step } from "crystallize-ts";
import { weights, where } from "./lib/reader.js";

const total = artifact<number>("total.json");
const weigh = step("weigh", { metrics: ["total", "fromReader"] }, (_x: null, ctx) => {
  const t = weights().reduce((a, b) => a + b, 0);
  ctx.record("total", t);
  ctx.record("fromReader", where().endsWith("reader.ts") ? 1 : 0);
  ctx.artifacts.write(total, t);
  return t;
});
export const weighed = experiment("weighed", { source: source("none", () => null), pipeline: pipeline(weigh), outputs: [total], replicates: 2 });
const double = step("double", { metrics: ["doubled"] }, (x: { t: number }, ctx) => {
  ctx.record("doubled", x.t * 2 + weights().length);
  return x.t;
});
export const doubled = experiment("doubled", { source: input({ t: weighed.output(total) }), pipeline: pipeline(double), replicates: 2 });
export const pair = graph("pair", [weighed, doubled]);
`;

let dir: string;
beforeAll(() => {
  dir = compiledProject("cry-meta-url-", { "package.json": "{ \"type\": \"module\" }\n", "src/lib/reader.ts": READER, "src/lib/data.json": "[1, 2, 3.5]\n", "src/exp.ts": EXPERIMENT });
  const r = cli(["compile", "--project", dir]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Json = { metrics: { baseline: Record<string, number[]> }; errors: unknown[] };

describe("import.meta.url in compiled runners", () => {
  it("crystallize run, serial and on workers: the module reads data.json beside its source", () => {
    for (const extra of [[], ["--workers", "2"]]) {
      const r = cli(["run", "weighed", "--project", dir, "--json", "--no-cache", ...extra]);
      expect(r.code, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout) as Json;
      expect(json.errors).toEqual([]);
      expect(json.metrics.baseline.total).toEqual([6.5, 6.5]);
      expect(json.metrics.baseline.fromReader).toEqual([1, 1]);
    }
  }, 120_000);

  it("the runner run with node from another folder", () => {
    const r = spawnSync(process.execPath, [join(dir, ".crystallize/runners/weighed.mjs"), "--json", "--no-cache", "--out", join(dir, "elsewhere")], { cwd: tmpdir(), encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Json).metrics.baseline.total).toEqual([6.5, 6.5]);
  }, 60_000);

  it("crystallize run <graph>", () => {
    const r = cli(["run", "pair", "--project", dir, "--json", "--no-cache"]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { results: Record<string, Json> };
    expect(json.results.doubled!.metrics.baseline.doubled).toEqual([16, 16]);
  }, 120_000);
});
