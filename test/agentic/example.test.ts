// examples/agentic runs offline (scripted model) end to end: the claim is supported, the code is
// trustworthy, and every replicate leaves its prompts and an evidence bundle.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { artifacts } from "../../src/plugins/artifacts.js";
import { agentic } from "../../examples/agentic/agentic.js";

describe("examples/agentic", () => {
  it("supports the claim with code that passes its metamorphic properties, and records the evidence", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "cry-agentic-example-"));
    try {
      const r = await agentic.run({ outDir, cache: false, plugins: [artifacts({ fsync: false })] });
      expect(r.errors).toEqual([]);
      expect(r.metrics.baseline.ppsf).toHaveLength(5);
      expect(r.metrics.treatments.north.ppsf).toHaveLength(5);
      for (const name of ["row_order_pass", "duplicates_pass", "extra_column_pass", "currency_pass"] as const) {
        expect(r.metrics.baseline[name]).toEqual([1, 1, 1, 1, 1]);
        expect(r.metrics.treatments.north[name]).toEqual([1, 1, 1, 1, 1]);
      }
      expect(r.hypothesis("claim").results.north).toMatchObject({ significant: true });
      expect(r.hypothesis("claim").results.north.statistic).toBeGreaterThan(10);
      expect(r.hypothesis("trustworthy_code").results.north).toMatchObject({ significant: true, pValue: 0 });

      // Every task: one spec call, two code calls (the clock-reading first try was refused), one bundle.
      const byTask = new Map<string, string[]>();
      for (const a of r.artifacts) {
        const key = `${a.condition}/${a.replicate}`;
        byTask.set(key, [...(byTask.get(key) ?? []), a.artifact].sort());
      }
      expect(byTask.size).toBe(10);
      for (const names of byTask.values()) {
        expect(names).toEqual(["evidence.json", "llm-call-generateSpec-1.json", "llm-call-synthesize-1.json", "llm-call-synthesize-2.json"]);
      }
      const refused = r.artifacts.find((a) => a.artifact === "llm-call-synthesize-1.json")!;
      const call = JSON.parse(readFileSync(join(outDir, refused.path), "utf8")) as { outcome: string };
      expect(call.outcome).toMatch(/^rejected: runtime-error: .*Date/);
      const evidence = r.artifacts.find((a) => a.artifact === "evidence.json" && a.condition === "north")!;
      const bundle = JSON.parse(readFileSync(join(outDir, evidence.path), "utf8")) as Record<string, any>;
      expect(bundle.verdict).toEqual({ status: "passed", properties: 4 });
      expect(bundle.claimMetric.name).toBe("ppsf");
      expect(bundle.code.attempts).toBe(2);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }, 120_000);
});
