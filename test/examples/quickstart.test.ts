import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatResult } from "../../src/index.js";
import { quickstart } from "../../examples/quickstart/quickstart.js";

describe("examples/quickstart", () => {
  it("runs end to end: doubling raises the mean, significantly", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "cry-quick-"));
    try {
      const r = await quickstart.run({ outDir });
      expect(r.errors).toEqual([]);
      expect(r.metrics.baseline.mean).toHaveLength(20);
      r.metrics.baseline.mean.forEach((m, i) => expect(r.metrics.treatments.doubled.mean[i]).toBeCloseTo(2 * m, 12));
      const h = r.hypothesis("mean_up");
      expect(h.results.doubled.method).toMatch(/Welch/i);
      expect(h.results.doubled.significant).toBe(true);
      expect(h.results.doubled.statistic).toBeGreaterThan(0);
      expect(h.ranking).toEqual(["doubled"]);
      const text = formatResult(r);
      expect(text).toContain("condition");
      expect(text).toMatch(/doubled\s+\d/);
      expect(text).toContain("hypothesis mean_up");
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
