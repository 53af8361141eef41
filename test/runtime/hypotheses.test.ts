import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HypothesisError } from "../../src/errors.js";
import { evaluateHypothesis, type HypothesisData, type MetricSamples } from "../../src/runtime/hypotheses.js";
import {
  benjaminiHochberg,
  holm,
  mannWhitneyU,
  pairedTTest,
  permutationTest,
  verifier,
  welchTTest,
  type VerifierResult,
} from "../../src/stats/index.js";

const series = (values: unknown[]) => ({ values, replicates: values.map((_, i) => i) });

/** Deterministic pseudo-normal values (no RNG needed). */
function values(n: number, shift: number, spread = 1, phase = 0): number[] {
  return Array.from({ length: n }, (_, i) => shift + spread * Math.sin(i * 2.3 + phase) + 0.3 * Math.cos(i * 0.7 + phase));
}

const baseline: MetricSamples = { score: series(values(20, 0)), cost: series(values(20, 5, 2)) };
const data: HypothesisData = {
  baseline,
  treatments: [
    { name: "small", samples: { score: series(values(20, 0.3, 1, 1)), cost: series(values(20, 5.1, 2, 1)) } },
    { name: "large", samples: { score: series(values(20, 1.5, 1, 2)), cost: series(values(20, 8, 2, 2)) } },
    { name: "none", samples: { score: series(values(20, 0, 1, 3)), cost: series(values(20, 5, 2, 3)) } },
  ],
};

describe("evaluateHypothesis with one metric", () => {
  const outcome = evaluateHypothesis({ name: "score_up", metrics: ["score"], test: welchTTest() }, data);

  it("tests each treatment (first sample) against the baseline (second)", () => {
    for (const t of data.treatments) {
      const expected = welchTTest().test({
        treatment: t.samples.score?.values as number[],
        baseline: baseline.score?.values as number[],
      });
      expect(outcome.results[t.name]).toEqual(expected);
      expect(outcome.byMetric.score?.[t.name]).toBe(outcome.results[t.name]);
    }
    expect(outcome.results.large?.statistic).toBeGreaterThan(0);
  });

  it("ranks by p-value ascending by default, with the scores", () => {
    expect(outcome.ranking).toEqual(["large", "small", "none"]);
    expect(outcome.scores).toEqual({
      small: outcome.results.small?.pValue,
      large: outcome.results.large?.pValue,
      none: outcome.results.none?.pValue,
    });
  });

  it("is plain, frozen, JSON-able data with a stable key order", () => {
    expect(Object.keys(outcome)).toEqual(["name", "metrics", "test", "direction", "correction", "results", "byMetric", "effects", "scores", "ranking"]);
    expect(outcome.direction).toBe("increase");
    expect(outcome.effects).toMatchObject({ small: "better", large: "better" });
    expect(Object.keys(outcome.results)).toEqual(["small", "large", "none"]);
    expect(outcome.test).toEqual({ name: "welchTTest", alpha: 0.05, alternative: "two-sided" });
    expect(outcome.correction).toBeNull();
    expect(Object.isFrozen(outcome)).toBe(true);
    expect(Object.isFrozen(outcome.results)).toBe(true);
    expect(Object.isFrozen(outcome.byMetric.score)).toBe(true);
    expect(Object.isFrozen(outcome.ranking)).toBe(true);
    const json = JSON.stringify(outcome);
    expect(JSON.stringify(evaluateHypothesis({ name: "score_up", metrics: ["score"], test: welchTTest() }, data))).toBe(json);
    expect(JSON.parse(json).ranking).toEqual(["large", "small", "none"]);
  });

  it("a custom rank orders treatments (lower is better), ties keep treatment order", () => {
    const byEffect = evaluateHypothesis(
      { name: "h", metrics: ["score"], test: welchTTest(), rank: (r) => -r.effectSize },
      data,
    );
    expect(byEffect.ranking[0]).toBe("large");
    // Ties keep treatment order (within a direction tier: here all are significantly better).
    const same = data.treatments[1]!.samples;
    const alike: HypothesisData = { baseline, treatments: ["c", "a", "b"].map((name) => ({ name, samples: same })) };
    const constant = evaluateHypothesis({ name: "h", metrics: ["score"], test: welchTTest(), rank: () => 1 }, alike);
    expect(constant.ranking).toEqual(["c", "a", "b"]);
  });

  it("no treatments: empty results and ranking", () => {
    const o = evaluateHypothesis({ name: "h", metrics: ["score"], test: welchTTest() }, { baseline, treatments: [] });
    expect(o.results).toEqual({});
    expect(o.byMetric).toEqual({ score: {} });
    expect(o.ranking).toEqual([]);
  });

  it("treatment names are plain keys, even __proto__", () => {
    const o = evaluateHypothesis(
      { name: "h", metrics: ["score"], test: welchTTest() },
      { baseline, treatments: [{ name: "__proto__", samples: data.treatments[1]!.samples }] },
    );
    expect(Object.keys(o.results)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(o.results)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(o)).ranking).toEqual(["__proto__"]);
  });
});

describe("corrections across treatments", () => {
  for (const [correction, adjust] of [
    ["holm", holm],
    ["benjamini-hochberg", benjaminiHochberg],
  ] as const) {
    it(`${correction}: adjustedPValue set, significant uses it`, () => {
      const plain = evaluateHypothesis({ name: "h", metrics: ["score"], test: welchTTest() }, data);
      const o = evaluateHypothesis({ name: "h", metrics: ["score"], test: welchTTest({ alpha: 0.1 }), correction }, data);
      const names = ["small", "large", "none"];
      const expected = adjust(names.map((n) => plain.results[n]?.pValue as number), 0.1);
      names.forEach((n, i) => {
        const r = o.results[n] as VerifierResult;
        expect(r.pValue).toBe(plain.results[n]?.pValue);
        expect(r.adjustedPValue).toBe(expected.adjusted[i]);
        expect(r.significant).toBe(expected.reject[i]);
        expect(Object.keys(r).at(-1)).toBe("adjustedPValue");
      });
      expect(o.correction).toBe(correction);
    });
  }

  it("bonferroni can turn a significant result into a non-significant one", () => {
    const t = { name: "t", samples: { score: series([0.9, 1.4, 0.2, 1.1, 0.5, 1.0, 0.8, 1.3]) } };
    const b = { score: series([0.2, 0.6, -0.1, 0.7, 0.1, 0.4, 0.5, 0.9]) };
    const many = { baseline: b, treatments: [t, ...["u", "v", "w", "x"].map((name) => ({ ...t, name }))] };
    const raw = evaluateHypothesis({ name: "h", metrics: ["score"], test: welchTTest() }, many);
    const corrected = evaluateHypothesis({ name: "h", metrics: ["score"], test: welchTTest(), correction: "bonferroni" }, many);
    const p = raw.results.t?.pValue as number;
    expect(p).toBeLessThan(0.05);
    expect(p * 5).toBeGreaterThan(0.05);
    expect(raw.results.t?.significant).toBe(true);
    expect(corrected.results.t?.significant).toBe(false);
    expect(corrected.results.t?.adjustedPValue).toBeCloseTo(p * 5, 15);
  });
});

describe("several metrics", () => {
  const outcome = evaluateHypothesis({ name: "better", metrics: ["score", "cost"], test: welchTTest() }, data);

  it("returns a result per metric", () => {
    expect(Object.keys(outcome.byMetric)).toEqual(["score", "cost"]);
    for (const metric of ["score", "cost"] as const) {
      for (const t of data.treatments) {
        expect(outcome.byMetric[metric]?.[t.name]).toEqual(
          welchTTest().test({ treatment: t.samples[metric]?.values as number[], baseline: baseline[metric]?.values as number[] }),
        );
      }
    }
  });

  it("combines them as an intersection-union test: max p, significant on every metric, the binding metric's statistic", () => {
    for (const t of ["small", "large", "none"]) {
      const s = outcome.byMetric.score?.[t] as VerifierResult;
      const c = outcome.byMetric.cost?.[t] as VerifierResult;
      const r = outcome.results[t] as VerifierResult;
      expect(r.pValue).toBe(Math.max(s.pValue, c.pValue));
      expect(r.significant).toBe(s.significant && c.significant);
      const binding = s.pValue >= c.pValue ? s : c;
      expect(r.statistic).toBe(binding.statistic);
      expect(r.effectSize).toBe(binding.effectSize);
      expect(r.method).toContain(`binding metric: "${binding === s ? "score" : "cost"}"`);
      expect(r.method).toContain("intersection-union test over \"score\", \"cost\"");
    }
  });

  it("still ranks: by the worst metric's score", () => {
    const expected = ["small", "large", "none"].sort(
      (a, b) => (outcome.results[a]?.pValue as number) - (outcome.results[b]?.pValue as number),
    );
    expect(outcome.ranking).toEqual(expected);
    expect(outcome.ranking[0]).toBe("large");
    for (const t of ["small", "large", "none"]) expect(outcome.scores[t]).toBe(outcome.results[t]?.pValue);
  });

  it("a custom rank sees each metric's result; the score is the worst of them", () => {
    const seen: string[] = [];
    const o = evaluateHypothesis(
      {
        name: "h",
        metrics: ["score", "cost"],
        test: welchTTest(),
        rank: (r) => {
          seen.push(r.method);
          return -r.effectSize;
        },
      },
      data,
    );
    expect(seen).toHaveLength(6);
    for (const t of ["small", "large", "none"]) {
      expect(o.scores[t]).toBe(
        Math.max(-(o.byMetric.score?.[t]?.effectSize as number), -(o.byMetric.cost?.[t]?.effectSize as number)),
      );
    }
  });

  it("corrections apply per metric across treatments; the combined adjusted p is the max", () => {
    const o = evaluateHypothesis({ name: "h", metrics: ["score", "cost"], test: welchTTest(), correction: "holm" }, data);
    for (const metric of ["score", "cost"]) {
      const adjusted = holm(["small", "large", "none"].map((t) => outcome.byMetric[metric]?.[t]?.pValue as number)).adjusted;
      ["small", "large", "none"].forEach((t, i) => expect(o.byMetric[metric]?.[t]?.adjustedPValue).toBe(adjusted[i]));
    }
    for (const t of ["small", "large", "none"]) {
      const r = o.results[t] as VerifierResult;
      expect(r.adjustedPValue).toBe(
        Math.max(o.byMetric.score?.[t]?.adjustedPValue as number, o.byMetric.cost?.[t]?.adjustedPValue as number),
      );
      expect(r.significant).toBe((r.adjustedPValue as number) < 0.05);
    }
  });
});

describe("bad input: HypothesisError naming the hypothesis, the metric and the condition", () => {
  const h = { name: "score_up", metrics: ["score"], test: welchTTest() };
  const fails = (d: HypothesisData, spec = h): HypothesisError => {
    try {
      evaluateHypothesis(spec, d);
    } catch (e) {
      expect(e).toBeInstanceOf(HypothesisError);
      expect((e as HypothesisError).hypothesis).toBe(spec.name);
      expect((e as HypothesisError).code).toBe("E_HYPOTHESIS");
      return e as HypothesisError;
    }
    return expect.unreachable("expected a HypothesisError");
  };
  const t = (samples: MetricSamples) => ({ baseline, treatments: [{ name: "doubled", samples }] });

  it("a metric no replicate recorded", () => {
    expect(fails(t({})).message).toBe(
      'Hypothesis "score_up" cannot be evaluated:\n  - metric "score" was not recorded by any replicate of treatment "doubled"',
    );
    expect(fails({ baseline: {}, treatments: [{ name: "doubled", samples: baseline }] }).message).toContain(
      'metric "score" was not recorded by any replicate of the baseline',
    );
    expect(fails(t({ score: series([]) })).message).toContain('not recorded by any replicate of treatment "doubled"');
  });

  it("fewer than two values", () => {
    expect(fails(t({ score: series([1.5]) })).message).toContain(
      'metric "score" in treatment "doubled" has 1 value; a test needs at least 2',
    );
  });

  it("NaN, infinite and non-numeric values, with their replicates", () => {
    const m = fails(t({ score: { values: [1, Number.NaN, "x", 2, Number.NEGATIVE_INFINITY], replicates: [0, 1, 2, 3, 4] } })).message;
    expect(m).toContain('metric "score" in treatment "doubled" has values that are not a finite number');
    expect(m).toContain("NaN (replicate 1)");
    expect(m).toContain('"x" (a string) (replicate 2)');
    expect(m).toContain("-Infinity (replicate 4)");
  });

  it("lists every problem across conditions and metrics at once", () => {
    const e = fails(
      { baseline: { score: series([1, 2]) }, treatments: [{ name: "a", samples: { score: series([1]) } }, { name: "b", samples: {} }] },
      { name: "two", metrics: ["score", "cost"], test: welchTTest() },
    );
    expect(e.message.split("\n").slice(1)).toEqual([
      '  - metric "score" in treatment "a" has 1 value; a test needs at least 2 (run 2 or more replicates)',
      '  - metric "score" was not recorded by any replicate of treatment "b"',
      '  - metric "cost" was not recorded by any replicate of the baseline',
      '  - metric "cost" was not recorded by any replicate of treatment "a"',
      '  - metric "cost" was not recorded by any replicate of treatment "b"',
    ]);
  });

  it("unequal lengths in a paired test name the replicates", () => {
    const e = fails(
      {
        baseline: { score: { values: [1, 2, 3, 4], replicates: [0, 1, 2, 3] } },
        treatments: [{ name: "doubled", samples: { score: { values: [2, 3, 5], replicates: [0, 1, 3] } } }],
      },
      { name: "paired", metrics: ["score"], test: pairedTTest() },
    );
    expect(e.message).toContain('Hypothesis "paired": pairedTTest failed on metric "score" for treatment "doubled" against the baseline');
    expect(e.message).toContain("replicate 2 has a baseline value without a treatment partner");
    expect(e.cause).toBeInstanceOf(Error);
  });

  it("paired tests pair by replicate index", () => {
    const o = evaluateHypothesis(
      { name: "paired", metrics: ["score"], test: pairedTTest() },
      {
        baseline: { score: { values: [1, 2, 3, 4], replicates: [0, 1, 2, 3] } },
        treatments: [{ name: "t", samples: { score: { values: [4.4, 1.5, 2.1, 3.3], replicates: [3, 0, 1, 2] } } }],
      },
    );
    expect(o.results.t).toEqual(pairedTTest().test({ treatment: [1.5, 2.1, 3.3, 4.4], baseline: [1, 2, 3, 4] }));
  });

  it("a failing verifier or rank function, a non-numeric score, duplicate treatments", () => {
    const boom = verifier("boom", () => {
      throw new Error("kaput");
    });
    expect(fails(data, { name: "h", metrics: ["score"], test: boom }).message).toBe(
      'Hypothesis "h": boom failed on metric "score" for treatment "small" against the baseline: kaput',
    );
    expect(
      fails(data, { name: "h", metrics: ["score"], test: welchTTest(), rank: () => "1" as never } as never).message,
    ).toContain('rank must return a number, got "1" (a string) on metric "score" for treatment "small"');
    expect(
      fails(data, {
        name: "h",
        metrics: ["score"],
        test: welchTTest(),
        rank: () => {
          throw new Error("no");
        },
      } as never).message,
    ).toContain('rank failed on metric "score" for treatment "small": no');
    expect(fails({ baseline, treatments: [data.treatments[0]!, data.treatments[0]!] }).message).toContain(
      'treatment "small" is listed twice',
    );
  });
});

describe("zero variance and NaN results", () => {
  it("a NaN p-value (equal constant samples) is never significant and ranks last", () => {
    const o = evaluateHypothesis(
      { name: "h", metrics: ["m"], test: welchTTest(), correction: "holm" },
      {
        baseline: { m: series([1, 1, 1]) },
        treatments: [
          { name: "flat", samples: { m: series([1, 1, 1]) } },
          { name: "up", samples: { m: series([2, 3, 2.5]) } },
        ],
      },
    );
    expect(o.results.flat?.pValue).toBeNaN();
    expect(o.results.flat?.adjustedPValue).toBeNaN();
    expect(o.results.flat?.significant).toBe(false);
    expect(o.ranking).toEqual(["up", "flat"]);
    expect(JSON.parse(JSON.stringify(o)).results.flat.pValue).toBeNull();
  });
});

describe("laws", () => {
  const sample = fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 2, maxLength: 15 });

  it("deterministic: the same input gives byte-identical JSON (seeded tests included)", () => {
    fc.assert(
      fc.property(sample, sample, sample, (b, t1, t2) => {
        const d: HypothesisData = {
          baseline: { m: series(b) },
          treatments: [
            { name: "a", samples: { m: series(t1) } },
            { name: "b", samples: { m: series(t2) } },
          ],
        };
        for (const test of [welchTTest(), mannWhitneyU(), permutationTest({ permutations: 200, seed: 3 })]) {
          const h = { name: "h", metrics: ["m"], test, correction: "benjamini-hochberg" as const };
          expect(JSON.stringify(evaluateHypothesis(h, d))).toBe(JSON.stringify(evaluateHypothesis(h, d)));
        }
      }),
      { numRuns: 40 },
    );
  });

  it("the ranking is a permutation of the treatments, by direction tier, then by score", () => {
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 6 }), sample, (ts, b) => {
        const d: HypothesisData = {
          baseline: { m: series(b) },
          treatments: ts.map((v, i) => ({ name: `t${i}`, samples: { m: series(v) } })),
        };
        const o = evaluateHypothesis({ name: "h", metrics: ["m"], test: welchTTest() }, d);
        expect([...o.ranking].sort()).toEqual(d.treatments.map((t) => t.name).sort());
        // Tier: 0 significantly better, 1 better, 2 same or not significantly worse, 3 significantly worse.
        const tier = (n: string) => {
          const r = o.results[n]!;
          if (o.effects[n] === "worse" && r.significant) return 3;
          if (o.effects[n] === "better") return r.significant ? 0 : 1;
          return 2;
        };
        const tiers = o.ranking.map(tier);
        expect(tiers).toEqual([...tiers].sort((x, y) => x - y));
        for (const t of [0, 1, 2, 3]) {
          const s = o.ranking.filter((n) => tier(n) === t).map((n) => o.scores[n] as number);
          const finite = s.filter((x) => !Number.isNaN(x));
          // Default score (p-value): ascending among better treatments, descending among the others.
          expect(finite).toEqual([...finite].sort((x, y) => (t < 2 ? x - y : y - x)));
          expect(s.slice(finite.length).every(Number.isNaN)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe("the DSL's hypothesis node", () => {
  it("is accepted as a HypothesisSpec and evaluates", async () => {
    const { hypothesis } = await import("../../src/dsl/hypothesis.js");
    const node = hypothesis("score_up", { metric: ["score"], test: welchTTest({ alternative: "greater" }), correction: "holm" });
    const spec: import("../../src/runtime/hypotheses.js").HypothesisSpec = node;
    const o = evaluateHypothesis(spec, data);
    expect(o.name).toBe("score_up");
    expect(o.test.alternative).toBe("greater");
    expect(o.results.large?.adjustedPValue).toBeDefined();
    expect(o.ranking[0]).toBe("large");
  });
});
