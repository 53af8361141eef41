import { describe, expect, it } from "vitest";
import { HypothesisError, experiment, hypothesis, pipeline, source, step, treatment } from "../../src/index.js";
import { mannWhitneyU, welchTTest } from "../../src/stats/index.js";

const noise = source("noise", (ctx) => Array.from({ length: 30 }, () => ctx.random()));
const shift = step("shift", { params: { delta: 0 } }, (xs: number[], ctx) => xs.map((x) => x + ctx.params.delta));
const stats = step("stats", { metrics: ["mean", "first"] }, (xs: number[], ctx) => {
  ctx.record("mean", xs.reduce((a, b) => a + b, 0) / xs.length);
  ctx.record("first", xs[0]!);
  return xs;
});

function exp(replicates: number) {
  return experiment("hyp", {
    source: noise,
    pipeline: pipeline(shift, stats),
    treatments: [treatment("small", { delta: 0.01 }), treatment("large", { delta: 0.5 }), treatment("none", { delta: 0 })],
    hypotheses: [
      hypothesis("up", { metric: "mean", test: welchTTest({ alternative: "greater" }), correction: "holm" }),
      hypothesis("both", { metric: ["mean", "first"], test: mannWhitneyU() }),
    ],
    replicates,
    seed: 11,
  });
}

describe("hypotheses in runs", () => {
  it("tests each treatment against the baseline, corrects across treatments and ranks", async () => {
    const r = await exp(12).run({ cache: false });
    const up = r.hypothesis("up");
    expect(up.ranking[0]).toBe("large");
    expect(up.results.large.significant).toBe(true);
    expect(up.results.none.significant).toBe(false);
    for (const t of ["small", "large", "none"] as const) {
      expect(up.results[t].adjustedPValue).toBeGreaterThanOrEqual(up.results[t].pValue);
    }
    const both = r.hypothesis("both");
    expect(Object.keys(both.byMetric)).toEqual(["mean", "first"]);
    expect(both.ranking).toHaveLength(3);
    const json = JSON.parse(JSON.stringify(r));
    expect(json.hypotheses.map((h: { name: string }) => h.name)).toEqual(["up", "both"]);
  });

  it("a hypothesis that cannot be evaluated keeps the run and throws on access, naming hypothesis, metric and condition", async () => {
    const r = await exp(1).run({ cache: false });
    expect(r.metrics.baseline.mean).toHaveLength(1);
    const err = (() => {
      try {
        r.hypothesis("up");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HypothesisError);
    expect((err as Error).message).toMatch(/"up"/);
    expect((err as Error).message).toMatch(/mean/);
    expect((err as Error).message).toMatch(/baseline/);
    expect(r.toJSON().hypotheses[0]).toMatchObject({ name: "up", error: { code: "E_HYPOTHESIS" } });
  });
});
