import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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
