// optimize() stores nothing (no storage, and the example turns the cache off), so these runs
// leave no files behind.
import { describe, expect, it } from "vitest";
import { gridSearch } from "../../src/index.js";
import { descent, tuneAtRandom, tuneOnGrid } from "../../examples/optimize/optimize.js";

describe("examples/optimize", () => {
  it("grid search finds the largest stable learning rate with the most steps", async () => {
    const r = await tuneOnGrid();
    expect(r.history).toHaveLength(8);
    expect(r.best!.params).toEqual({ lr: 0.3, steps: 200 });
    expect(r.best!.value).toBeLessThan(0.01);
    expect(r.baseline.value).toBeGreaterThan(1);
    expect(r.best!.value).toBeLessThan(r.baseline.value!);
    // Every value is the mean over the experiment's 4 replicates.
    for (const h of r.history) expect(h.metrics.loss).toHaveLength(4);
  });

  it("random search samples within the space and beats the baseline", async () => {
    const r = await tuneAtRandom();
    expect(r.history).toHaveLength(12);
    for (const h of r.history) {
      expect(h.params!.lr).toBeGreaterThanOrEqual(0.001);
      expect(h.params!.lr).toBeLessThan(0.3);
      expect([20, 200]).toContain(h.params!.steps);
    }
    expect(r.best!.value).toBeLessThan(r.baseline.value!);
    expect(r.best!.value).toBe(Math.min(...r.history.map((h) => h.value!)));
  });

  it("maximize returns the worst setting of the same grid", async () => {
    const r = await descent.optimize(gridSearch({ lr: [0.001, 0.01, 0.1, 0.3], steps: [20, 200] }), {
      objective: { metric: "loss", direction: "maximize" },
      cache: false,
    });
    expect(r.best!.params).toEqual({ lr: 0.001, steps: 20 });
  });
});
