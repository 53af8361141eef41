import { describe, expect, it } from "vitest";
import {
  incompleteBeta,
  normalCdf,
  normalQuantile,
  normalSf,
  tCdf,
  tQuantile,
  tSf,
  tTwoSided,
} from "../../src/stats/distributions.js";
import { expectClose, extra, TOL } from "./helpers.js";

describe("Student's t distribution against scipy", () => {
  it(`two-sided tails over ${extra.tdist.length} (df, t) points, including fractional df and far tails`, () => {
    for (const [df, t, two, sf, cdfNeg] of extra.tdist) {
      expectClose(tTwoSided(t, df), two, TOL.pValue, `2·sf(${t}; df=${df})`);
      expectClose(tTwoSided(-t, df), two, TOL.pValue, `2·sf(-${t}; df=${df})`);
      expectClose(tSf(t, df), sf, TOL.pValue, `sf(${t}; df=${df})`);
      expectClose(tCdf(-t, df), cdfNeg, TOL.pValue, `cdf(-${t}; df=${df})`);
    }
  });

  it("is far more accurate than the issue's tolerance (1e-9 relative, for p above 1e-300)", () => {
    let worst = 0;
    for (const [df, t, two] of extra.tdist) {
      if (two > 1e-300) worst = Math.max(worst, Math.abs(tTwoSided(t, df) - two) / two);
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it("quantiles invert the cdf (against scipy's ppf)", () => {
    for (const [df, p, q] of extra.tquantile) {
      expectClose(tQuantile(p, df), q, { rel: 1e-9, abs: 1e-12 }, `ppf(${p}; df=${df})`);
      expectClose(tQuantile(1 - p, df), -q, { rel: 1e-6, abs: 1e-12 }, `ppf(${1 - p}; df=${df})`);
    }
  });

  it("handles infinities and NaN as scipy does", () => {
    expect(tTwoSided(Number.POSITIVE_INFINITY, 3)).toBe(0);
    expect(tTwoSided(Number.NEGATIVE_INFINITY, 3)).toBe(0);
    expect(tSf(Number.POSITIVE_INFINITY, 3)).toBe(0);
    expect(tCdf(Number.POSITIVE_INFINITY, 3)).toBe(1);
    expect(tSf(Number.NEGATIVE_INFINITY, 3)).toBe(1);
    expect(tTwoSided(Number.NaN, 3)).toBeNaN();
    expect(tTwoSided(1, Number.NaN)).toBeNaN();
    expect(tTwoSided(0, 7)).toBe(1);
    expect(tQuantile(0, 5)).toBe(Number.NEGATIVE_INFINITY);
    expect(tQuantile(1, 5)).toBe(Number.POSITIVE_INFINITY);
    expect(tQuantile(0.5, 5)).toBe(0);
  });

  it("the incomplete beta's two halves sum to one", () => {
    for (const [x, a, b] of [
      [0.2, 2, 3],
      [0.7, 0.5, 9],
      [0.999, 120, 0.5],
      [1e-5, 3, 4],
    ] as const) {
      const r = incompleteBeta(x, 1 - x, a, b);
      expect(r.lower + r.upper).toBeCloseTo(1, 14);
      expect(r.lower).toBeGreaterThanOrEqual(0);
      expect(r.upper).toBeGreaterThanOrEqual(0);
    }
    expect(incompleteBeta(0, 1, 2, 3)).toEqual({ lower: 0, upper: 1 });
    expect(incompleteBeta(1, 0, 2, 3)).toEqual({ lower: 1, upper: 0 });
  });
});

describe("the standard normal against scipy", () => {
  it("survival function (1e-12 absolute in the far tail, 1e-6 relative elsewhere)", () => {
    for (const [z, sf] of extra.normal) {
      expectClose(normalSf(z), sf, TOL.pValue, `sf(${z})`);
      expectClose(normalCdf(-z), sf, TOL.pValue, `cdf(${-z})`);
    }
  });

  it("quantiles", () => {
    for (const [p, q] of extra.normalQuantile) expectClose(normalQuantile(p), q, { rel: 1e-9 }, `ppf(${p})`);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(Number.NaN)).toBeNaN();
  });
});
