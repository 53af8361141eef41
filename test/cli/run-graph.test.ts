import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cli, compiledProject } from "../runtime/compiled-project.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin/crystallize.js");

describe("crystallize run <graph>", () => {
  it("runs the graph's experiments in order and prints each result (JSON keyed by experiment)", () => {
    // The default output folder (examples/.crystallize): runners import `crystallize-ts` from there.
    {
      const r = spawnSync(process.execPath, [bin, "run", "study", "--project", join(repo, "examples/tsconfig.json"), "--replicates", "3", "--no-cache", "--json"], {
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout) as { graph: string; results: Record<string, { replicates: number; metrics: { treatments: Record<string, unknown> } }> };
      expect(json.graph).toBe("study");
      expect(Object.keys(json.results)).toEqual(["prepare", "train", "evaluate"]);
      expect(json.results.evaluate!.replicates).toBe(3);
      expect(Object.keys(json.results.evaluate!.metrics.treatments)).toEqual(["noisier"]);
      // Progress goes to stderr, in topological order.
      expect(r.stderr.indexOf("prepare end")).toBeLessThan(r.stderr.indexOf("evaluate start"));
    }
  }, 150_000);
});

describe("crystallize run <graph> uses the manifest's step hashes", () => {
  // Both experiments have a step named "work" with different code: hashes are per experiment.
  const GRAPH = `import { artifact, experiment, graph, input, pipeline, source, step } from "crystallize-ts";
export const numbers = artifact<number[]>("numbers.json");
const start = source("start", () => [1, 2, 3]);
const work1 = step("work", { cacheable: true }, (xs: number[], ctx) => {
  ctx.artifacts.write(numbers, xs);
  return xs.map((x) => x + 1);
});
export const first = experiment("first", { source: start, pipeline: pipeline(work1), outputs: [numbers], replicates: 2, seed: 1 });
const work2 = step("work", { cacheable: true, metrics: ["sum"] }, ({ data }: { data: number[] }, ctx) => {
  const sum = data.reduce((a, b) => a + b, 0);
  ctx.record("sum", sum);
  return sum;
});
export const second = experiment("second", { source: input({ data: first.output(numbers) }), pipeline: pipeline(work2), replicates: 2, seed: 1 });
export const study = graph("study", [first, second]);
`;

  it("per experiment, for the cache keys and the resume fingerprint", async () => {
    const dir = compiledProject("cry-run-graph-", { "src/study.ts": GRAPH });
    try {
      const r = cli(["run", "study", "--project", dir, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const manifest = JSON.parse(readFileSync(join(dir, ".crystallize/manifest.json"), "utf8")) as { experiments: { name: string; steps: { name: string; hash: string }[] }[] };
      const hashOf = (e: string) => manifest.experiments.find((x) => x.name === e)!.steps[0]!.hash;
      expect(hashOf("first")).not.toBe(hashOf("second"));
      const json = JSON.parse(r.stdout) as { results: Record<string, { provenance: { steps: { stepHash: string }[] }[] }> };
      for (const e of ["first", "second"]) {
        expect(json.results[e]!.provenance.flatMap((t) => t.steps.map((s) => s.stepHash))).toEqual([hashOf(e), hashOf(e)]);
      }
      // The same graph run from a script (the TypeScript module, under vitest) finds the same
      // hashes in the manifest, so resume reuses both experiments the CLI ran.
      const mod = (await import(/* @vite-ignore */ pathToFileURL(join(dir, "src/study.ts")).href)) as {
        study: { run(o: Record<string, unknown>): Promise<{ reused: readonly string[]; results: Record<string, { provenance: readonly { steps: readonly { stepHash: string }[] }[] }> }> };
      };
      const again = await mod.study.run({ outDir: join(dir, ".crystallize"), resume: true });
      expect(again.results.first!.provenance[0]!.steps[0]!.stepHash).toBe(hashOf("first"));
      expect([...again.reused].sort()).toEqual(["first", "second"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
