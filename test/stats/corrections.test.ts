import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { adjustPValues, benjaminiHochberg, bonferroni, holm } from "../../src/stats/index.js";
import { expectClose, shared, TOL } from "./helpers.js";

describe("corrections against statsmodels (all 20 p-value sets)", () => {
  for (const set of shared.pvalues) {
    it(`${set.name} (${set.p.length} p-values)`, () => {
      const h = holm(set.p, set.alpha);
      const bh = benjaminiHochberg(set.p, set.alpha);
      set.expected.holm.adjusted.forEach((q, i) => expectClose(h.adjusted[i] ?? Number.NaN, q, TOL.adjusted, `holm ${i}`));
      set.expected.bh.adjusted.forEach((q, i) => expectClose(bh.adjusted[i] ?? Number.NaN, q, TOL.adjusted, `bh ${i}`));
      expect(h.reject).toEqual(set.expected.holm.reject);
      expect(bh.reject).toEqual(set.expected.bh.reject);
    });
  }
});

describe("bonferroni", () => {
  it("multiplies by the family size and caps at 1", () => {
    const r = bonferroni([0.01, 0.04, 0.3, 0.0125]);
    [0.04, 0.16, 1, 0.05].forEach((q, i) => expect(r.adjusted[i]).toBeCloseTo(q, 15));
    expect(r.reject).toEqual([true, false, false, false]); // 0.05 is not < 0.05
  });
});

const pvalues = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 25 });

describe("correction laws", () => {
  const all = [holm, bonferroni, benjaminiHochberg] as const;

  it("adjusted p-values are >= the raw ones, <= 1, and in input order (permuting inputs permutes outputs)", () => {
    fc.assert(
      fc.property(pvalues, fc.nat(), (p, seed) => {
        const perm = p.map((_, i) => i).sort((i, j) => ((i * 7919 + seed) % 101) - ((j * 7919 + seed) % 101) || i - j);
        for (const f of all) {
          const r = f(p);
          r.adjusted.forEach((q, i) => {
            expect(q).toBeGreaterThanOrEqual(p[i] as number);
            expect(q).toBeLessThanOrEqual(1);
          });
          const shuffled = f(perm.map((i) => p[i] as number));
          perm.forEach((from, to) => expect(shuffled.adjusted[to]).toBe(r.adjusted[from]));
        }
      }),
    );
  });

  it("monotone: a smaller raw p never gets a larger adjusted p", () => {
    fc.assert(
      fc.property(pvalues, (p) => {
        for (const f of all) {
          const q = f(p).adjusted;
          for (let i = 0; i < p.length; i++)
            for (let j = 0; j < p.length; j++)
              if ((p[i] as number) < (p[j] as number)) expect(q[i] as number).toBeLessThanOrEqual(q[j] as number);
        }
      }),
    );
  });

  it("BH <= Holm <= Bonferroni, and reject is adjusted < alpha", () => {
    fc.assert(
      fc.property(pvalues, fc.double({ min: 0.001, max: 0.5, noNaN: true }), (p, alpha) => {
        const b = bonferroni(p, alpha);
        const h = holm(p, alpha);
        const bh = benjaminiHochberg(p, alpha);
        p.forEach((_, i) => {
          expect(h.adjusted[i] as number).toBeLessThanOrEqual(b.adjusted[i] as number);
          expect(bh.adjusted[i] as number).toBeLessThanOrEqual((h.adjusted[i] as number) + 1e-15);
        });
        for (const r of [b, h, bh]) r.adjusted.forEach((q, i) => expect(r.reject[i]).toBe(q < alpha));
      }),
    );
  });

  it("a single p-value is unchanged by every correction", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (p) => {
        for (const f of all) expect(f([p]).adjusted).toEqual([p]);
      }),
    );
  });

  it("NaN p-values stay NaN, are never rejected, and still count in the family size", () => {
    const h = holm([0.01, Number.NaN, 0.02]);
    expect(h.adjusted[1]).toBeNaN();
    expect(h.reject[1]).toBe(false);
    expect(h.adjusted[0]).toBeCloseTo(0.03, 15);
    expect(h.adjusted[2]).toBeCloseTo(0.04, 15);
    const bh = benjaminiHochberg([0.01, Number.NaN, 0.02]);
    expect(bh.adjusted[0]).toBeCloseTo(0.03, 15);
    expect(bh.adjusted[2]).toBeCloseTo(0.03, 15);
    expect(bonferroni([Number.NaN]).adjusted[0]).toBeNaN();
  });

  it("results are frozen; an empty family is fine", () => {
    const r = holm([0.2, 0.01]);
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.isFrozen(r.adjusted)).toBe(true);
    expect(Object.isFrozen(r.reject)).toBe(true);
    expect(benjaminiHochberg([])).toEqual({ adjusted: [], reject: [] });
  });

  it("adjustPValues dispatches by name", () => {
    const p = [0.01, 0.02, 0.2];
    expect(adjustPValues("holm", p)).toEqual(holm(p));
    expect(adjustPValues("bonferroni", p)).toEqual(bonferroni(p));
    expect(adjustPValues("benjamini-hochberg", p)).toEqual(benjaminiHochberg(p));
    expect(() => adjustPValues("sidak" as never, p)).toThrow('unknown correction "sidak" (a string)');
  });

  it("rejects p-values outside [0, 1] and a bad alpha, listing every problem", () => {
    try {
      holm([0.5, 1.5, -0.1], 2);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).problems).toEqual([
        "p-value 1 must be a number in [0, 1] or NaN (got 1.5)",
        "p-value 2 must be a number in [0, 1] or NaN (got -0.1)",
        "alpha must be a number in (0, 1) (got 2)",
      ]);
    }
  });
});
