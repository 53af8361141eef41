import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { experiment, pipeline, source, step } from "../../../src/index.js";

describe("resume after a crash before a version had metadata", () => {
  it("sweeps the dead writer's temporary files from that version too, and starts a new version", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "cry-sweep-"));
    try {
      // What a run killed while writing its first metadata.json leaves: a version folder holding
      // only a temporary file of a process that no longer exists.
      const early = join(outDir, "artifacts", "sweep", "v0");
      mkdirSync(early, { recursive: true });
      const stray = join(early, ".metadata.json.999999999-abc123.tmp");
      writeFileSync(stray, "{");
      const e = experiment("sweep", { source: source("one", () => 1), pipeline: pipeline(step("id", (x: number) => x)) });
      const r = await e.run({ outDir, resume: true, cache: false, plugins: [] });
      expect(r.errors).toEqual([]);
      expect(existsSync(stray)).toBe(false);
      expect(r.run.version).toBe(1);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
