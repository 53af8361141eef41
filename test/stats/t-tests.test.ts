import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { pairedTTest, studentTTest, welchTTest } from "../../src/stats/index.js";
import { expectClose, extra, shared, sharedCase, TOL } from "./helpers.js";

const alternatives = ["two-sided", "greater", "less"] as const;

describe("t-tests against the shared scipy fixture (all 60 cases)", () => {
  for (const c of shared.cases) {
    it(`${c.name} (${c.a.length} vs ${c.b.length})`, () => {
      const samples = { treatment: c.a, baseline: c.b };
      const w = welchTTest().test(samples);
      expectClose(w.statistic, c.expected.welch.t, TOL.statistic, "welch t");
      expectClose(w.df ?? Number.NaN, c.expected.welch.df, TOL.statistic, "welch df");
      expectClose(w.pValue, c.expected.welch.p, TOL.pValue, "welch p");
      expectClose(w.effectSize, c.expected.cohens_d.pooled, TOL.statistic, "welch effect size");
      expect(w.method).toBe("Welch's t-test");

      const s = studentTTest().test(samples);
      expectClose(s.statistic, c.expected.student.t, TOL.statistic, "student t");
      expect(s.df).toBe(c.expected.student.df);
      expectClose(s.pValue, c.expected.student.p, TOL.pValue, "student p");
      expectClose(s.effectSize, c.expected.cohens_d.pooled, TOL.statistic, "student effect size");

      const expected = c.expected.paired;
      if ("error" in expected) {
        expect(() => pairedTTest().test(samples)).toThrow(ValidationError);
        expect(() => pairedTTest().test(samples)).toThrow(
          `a paired test needs as many treatment values as baseline values (got ${c.a.length} and ${c.b.length})`,
        );
      } else {
        const p = pairedTTest().test(samples);
        expectClose(p.statistic, expected.t, TOL.statistic, "paired t");
        expect(p.df).toBe(expected.df);
        expectClose(p.pValue, expected.p, TOL.pValue, "paired p");
        expectClose(p.effectSize, c.expected.cohens_d.pooled, TOL.statistic, "paired effect size");
        const mid = ((p.ci?.[0] ?? 0) + (p.ci?.[1] ?? 0)) / 2;
        expectClose(mid, expected.mean_diff, TOL.statistic, "paired ci centre = mean difference");
      }
    });
  }
});

describe("t-tests: one-sided alternatives and intervals (scipy 1.17, generated)", () => {
  for (const c of extra.cases) {
    it(c.name, () => {
      const { a, b } = sharedCase(c.name);
      const samples = { treatment: a, baseline: b };
      const kinds = [
        ["welch", welchTTest, c.welch],
        ["student", studentTTest, c.student],
        ...(c.paired ? ([["paired", pairedTTest, c.paired]] as const) : []),
      ] as const;
      for (const [label, factory, expected] of kinds) {
        for (const alternative of alternatives) {
          const r = factory({ alternative }).test(samples);
          const e = expected[alternative];
          expectClose(r.statistic, e.t, TOL.statistic, `${label} ${alternative} t`);
          expectClose(r.pValue, e.p, TOL.pValue, `${label} ${alternative} p`);
          expectClose(r.df ?? Number.NaN, e.df, TOL.statistic, `${label} ${alternative} df`);
        }
        const two = expected["two-sided"];
        const ci95 = factory().test(samples).ci;
        const ci90 = factory({ alpha: 0.1 }).test(samples).ci;
        expectClose(ci95?.[0] ?? Number.NaN, two.ci95?.[0] ?? 0, TOL.statistic, `${label} ci95 low`);
        expectClose(ci95?.[1] ?? Number.NaN, two.ci95?.[1] ?? 0, TOL.statistic, `${label} ci95 high`);
        expectClose(ci90?.[0] ?? Number.NaN, two.ci90?.[0] ?? 0, TOL.statistic, `${label} ci90 low`);
        expectClose(ci90?.[1] ?? Number.NaN, two.ci90?.[1] ?? 0, TOL.statistic, `${label} ci90 high`);
      }
    });
  }
});

describe("t-tests: zero variance follows scipy", () => {
  for (const z of extra.zeroVariance) {
    it(`${JSON.stringify(z.a)} vs ${JSON.stringify(z.b)}`, () => {
      const samples = { treatment: z.a, baseline: z.b };
      for (const alternative of alternatives) {
        const w = welchTTest({ alternative }).test(samples);
        expectClose(w.statistic, z.welch[alternative].t, TOL.statistic, "welch t");
        expectClose(w.pValue, z.welch[alternative].p, TOL.pValue, "welch p");
        expectClose(w.df ?? Number.NaN, z.welch[alternative].df, TOL.statistic, "welch df");
        expect(w.significant).toBe(z.welch[alternative].p < 0.05);
        const s = studentTTest({ alternative }).test(samples);
        expectClose(s.statistic, z.student[alternative].t, TOL.statistic, "student t");
        expectClose(s.pValue, z.student[alternative].p, TOL.pValue, "student p");
        if (z.paired) {
          const p = pairedTTest({ alternative }).test(samples);
          expectClose(p.statistic, z.paired[alternative].t, TOL.statistic, "paired t");
          expectClose(p.pValue, z.paired[alternative].p, TOL.pValue, "paired p");
        }
      }
    });
  }

  it("equal constant samples: statistic, p-value and effect size are NaN and nothing is significant", () => {
    const r = welchTTest().test({ treatment: [2, 2, 2], baseline: [2, 2, 2] });
    expect(r.pValue).toBeNaN();
    expect(r.statistic).toBeNaN();
    expect(r.effectSize).toBeNaN();
    expect(r.df).toBe(1);
    expect(r.significant).toBe(false);
  });

  it("different constant samples: infinite statistic, p = 0, infinite effect size", () => {
    const r = studentTTest().test({ treatment: [3, 3, 3], baseline: [2, 2, 2] });
    expect(r.statistic).toBe(Number.POSITIVE_INFINITY);
    expect(r.pValue).toBe(0);
    expect(r.effectSize).toBe(Number.POSITIVE_INFINITY);
    expect(r.significant).toBe(true);
    expect(r.ci).toEqual([1, 1]);
  });
});

describe("pairedTTest pairs by replicate", () => {
  const treatment = [5.1, 6.3, 4.8, 7.0, 5.5];
  const baseline = [4.9, 5.8, 4.1, 6.2, 5.6];

  it("pairs by replicate index, not by position", () => {
    const positional = pairedTTest().test({ treatment, baseline });
    // The same pairs, listed in another order on one side.
    const shuffled = pairedTTest().test({
      treatment: [treatment[3], treatment[0], treatment[4], treatment[1], treatment[2]] as number[],
      baseline,
      replicates: { treatment: [3, 0, 4, 1, 2], baseline: [0, 1, 2, 3, 4] },
    });
    expect(shuffled.statistic).toBeCloseTo(positional.statistic, 12);
    expect(shuffled.pValue).toBeCloseTo(positional.pValue, 12);
  });

  it("pairs several values of one replicate in the order recorded", () => {
    const r = pairedTTest().test({
      treatment: [1, 2, 3, 4],
      baseline: [0.5, 1.1, 2.9, 3.2],
      replicates: { treatment: [0, 0, 1, 1], baseline: [0, 0, 1, 1] },
    });
    const plain = pairedTTest().test({ treatment: [1, 2, 3, 4], baseline: [0.5, 1.1, 2.9, 3.2] });
    expect(r.statistic).toBe(plain.statistic);
  });

  it("a value without a partner is an error naming the replicates", () => {
    const attempt = () =>
      pairedTTest().test({
        treatment: [1, 2, 3, 4],
        baseline: [1, 2, 3],
        replicates: { treatment: [0, 1, 2, 3], baseline: [0, 1, 2] },
      });
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow("replicate 3 has a treatment value without a baseline partner");
    expect(attempt).toThrow("got 4 treatment and 3 baseline values");
  });

  it("replicate indices must match the values", () => {
    expect(() =>
      pairedTTest().test({ treatment: [1, 2, 3], baseline: [1, 2, 4], replicates: { treatment: [0, 1], baseline: [0, 1, 2] } }),
    ).toThrow("replicates.treatment must give one replicate index per treatment value (3 values)");
  });
});

const sample = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 30 });

describe("t-test laws", () => {
  it("swapping the samples flips the sign of statistic, effect size and interval; p is unchanged", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        for (const factory of [welchTTest, studentTTest]) {
          const ab = factory().test({ treatment: a, baseline: b });
          const ba = factory().test({ treatment: b, baseline: a });
          if (Number.isNaN(ab.statistic)) return Number.isNaN(ba.statistic);
          expect(ba.statistic).toBe(-ab.statistic);
          expect(ba.effectSize).toBe(-ab.effectSize);
          expect(ba.pValue).toBe(ab.pValue);
          expect(ba.df).toBe(ab.df);
          if (Number.isFinite(ab.ci?.[0] ?? 0)) {
            expect(ba.ci?.[0]).toBeCloseTo(-(ab.ci?.[1] ?? 0), 9);
          }
        }
        return true;
      }),
    );
  });

  it("greater and less p-values add up to one, and two-sided is twice the smaller", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const s = { treatment: a, baseline: b };
        const g = welchTTest({ alternative: "greater" }).test(s).pValue;
        const l = welchTTest({ alternative: "less" }).test(s).pValue;
        const two = welchTTest().test(s).pValue;
        if (Number.isNaN(two)) return Number.isNaN(g) && Number.isNaN(l);
        expect(g + l).toBeCloseTo(1, 12);
        expect(two).toBeCloseTo(2 * Math.min(g, l), 12);
        return true;
      }),
    );
  });

  it("significant is exactly pValue < alpha; results are frozen", () => {
    fc.assert(
      fc.property(sample, sample, fc.double({ min: 0.001, max: 0.5, noNaN: true }), (a, b, alpha) => {
        const r = studentTTest({ alpha }).test({ treatment: a, baseline: b });
        expect(r.significant).toBe(r.pValue < alpha);
        expect(Object.isFrozen(r)).toBe(true);
        expect(Object.isFrozen(r.ci)).toBe(true);
      }),
    );
  });

  it("keys come in a fixed order", () => {
    const r = welchTTest().test({ treatment: [1, 2, 3], baseline: [2, 3, 5] });
    expect(Object.keys(r)).toEqual(["pValue", "statistic", "significant", "effectSize", "ci", "df", "method"]);
  });
});
