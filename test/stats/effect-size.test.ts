import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { cohensD, cohensDz, hedgesG } from "../../src/stats/index.js";
import { pooledStandardDeviation } from "../../src/stats/effect-size.js";
import { expectClose, shared, TOL } from "./helpers.js";

describe("effect sizes against the shared fixture (all 60 cases)", () => {
  for (const c of shared.cases) {
    it(c.name, () => {
      const e = c.expected.cohens_d;
      expectClose(cohensD(c.a, c.b), e.pooled, TOL.statistic, "Cohen's d");
      expectClose(hedgesG(c.a, c.b), e.hedges_g, TOL.statistic, "Hedges' g");
      expectClose(pooledStandardDeviation(c.a, c.b), e.pooled_sd, TOL.statistic, "pooled SD");
      const p = c.expected.paired;
      if ("d_z" in p) expectClose(cohensDz(c.a, c.b), p.d_z, TOL.statistic, "d_z");
      else expect(() => cohensDz(c.a, c.b)).toThrow("paired samples must have equal lengths");
    });
  }
});

const sample = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 30 });

describe("effect-size laws", () => {
  it("swapping the samples flips the sign", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const d = cohensD(a, b);
        if (Number.isNaN(d)) return Number.isNaN(cohensD(b, a));
        expect(cohensD(b, a)).toBe(-d);
        expect(hedgesG(b, a)).toBe(-hedgesG(a, b));
        return true;
      }),
    );
  });

  it("is invariant to shifting both samples and to scaling both by a positive factor", () => {
    fc.assert(
      fc.property(sample, sample, fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: 0.01, max: 100, noNaN: true }), (a, b, shift, scale) => {
        const d = cohensD(a, b);
        fc.pre(Number.isFinite(d) && pooledStandardDeviation(a, b) > 1e-3);
        const moved = cohensD(a.map((x) => x * scale + shift), b.map((x) => x * scale + shift));
        expect(moved).toBeCloseTo(d, 6);
      }),
    );
  });

  it("|g| < |d|, and g approaches d as samples grow", () => {
    expect(Math.abs(hedgesG([1, 2, 3], [2, 3, 5]))).toBeLessThan(Math.abs(cohensD([1, 2, 3], [2, 3, 5])));
    const a = Array.from({ length: 5000 }, (_, i) => Math.sin(i));
    const b = Array.from({ length: 5000 }, (_, i) => Math.cos(i) + 0.1);
    expect(hedgesG(a, b) / cohensD(a, b)).toBeCloseTo(1, 3);
  });

  it("zero pooled SD gives ±Infinity or NaN, as numpy does", () => {
    expect(cohensD([2, 2], [1, 1])).toBe(Number.POSITIVE_INFINITY);
    expect(cohensD([1, 1], [2, 2])).toBe(Number.NEGATIVE_INFINITY);
    expect(cohensD([1, 1], [1, 1])).toBeNaN();
  });

  it("rejects bad input with a ValidationError naming the function and the sample", () => {
    expect(() => cohensD([1], [1, 2])).toThrow(ValidationError);
    expect(() => cohensD([1], [1, 2])).toThrow("cohensD(a, b) is invalid");
    expect(() => cohensD([1], [1, 2])).toThrow("the first sample (a) has 1 value; at least 2 are needed");
    expect(() => hedgesG([1, 2], [1, Number.NaN])).toThrow("the second sample (b) must hold finite numbers only: value 1 is NaN");
    expect(() => cohensD([1, "2" as unknown as number], [1, 2])).toThrow('value 1 is "2" (a string)');
  });
});
