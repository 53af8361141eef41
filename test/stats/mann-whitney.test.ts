import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { mannWhitneyU } from "../../src/stats/index.js";
import { mannWhitneyExactSf, rankSums } from "../../src/stats/mann-whitney.js";
import { expectClose, extra, shared, sharedCase, TOL } from "./helpers.js";

const alternatives = ["two-sided", "greater", "less"] as const;

describe("mannWhitneyU against the shared scipy fixture (all 60 cases)", () => {
  for (const c of shared.cases) {
    const e = c.expected.mann_whitney;
    it(`${c.name} (${c.a.length} vs ${c.b.length}, ${e.method}${e.ties ? ", ties" : ""})`, () => {
      const r = mannWhitneyU().test({ treatment: c.a, baseline: c.b });
      expect(r.statistic).toBe(e.U); // U is a sum of (half-)integers: exact
      expectClose(r.pValue, e.p, TOL.pValue, "p");
      expect(r.method).toBe(
        e.method === "exact" ? "Mann-Whitney U test (exact)" : "Mann-Whitney U test (normal approximation)",
      );
      expectClose(r.effectSize, c.expected.cohens_d.pooled, TOL.statistic, "effect size");
      expect(r.df).toBeUndefined();
      expect(r.ci).toBeUndefined();
      // The other distribution, when scipy reported it too.
      const other = mannWhitneyU({ method: e.method === "exact" ? "asymptotic" : "exact" });
      if (e.method === "exact") {
        expectClose(other.test({ treatment: c.a, baseline: c.b }).pValue, e.p_asymptotic, TOL.pValue, "asymptotic p");
      }
      const swapped = mannWhitneyU().test({ treatment: c.b, baseline: c.a });
      expect(swapped.statistic).toBe(e.U2);
    });
  }
});

describe("mannWhitneyU one-sided (scipy 1.17, generated)", () => {
  for (const c of extra.cases) {
    it(c.name, () => {
      const { a, b } = sharedCase(c.name);
      for (const alternative of alternatives) {
        const r = mannWhitneyU({ alternative }).test({ treatment: a, baseline: b });
        expect(r.statistic).toBe(c.mann_whitney[alternative].U);
        expectClose(r.pValue, c.mann_whitney[alternative].p, TOL.pValue, `${alternative} p`);
      }
    });
  }
});

describe("mannWhitneyU exact distribution", () => {
  for (const c of extra.mannWhitneyExact) {
    it(`${c.a.length} vs ${c.b.length} (${c.method})`, () => {
      if (c.a.length < 2 || c.b.length < 2) {
        // Too few values for a verifier; the distribution itself still matches scipy.
        expect(() => mannWhitneyU().test({ treatment: c.a, baseline: c.b })).toThrow("at least 2 are needed");
        const { u1, u2 } = rankSums(c.a, c.b);
        const [m, n] = [c.a.length, c.b.length];
        expectClose(mannWhitneyExactSf(u1, m, n), c.greater.p, TOL.pValue, "greater p");
        expectClose(mannWhitneyExactSf(u2, m, n), c.less.p, TOL.pValue, "less p");
        expectClose(Math.min(1, 2 * mannWhitneyExactSf(Math.max(u1, u2), m, n)), c["two-sided"].p, TOL.pValue, "p");
        return;
      }
      for (const alternative of alternatives) {
        const r = mannWhitneyU({ alternative }).test({ treatment: c.a, baseline: c.b });
        expect(r.statistic).toBe(c[alternative].U);
        expectClose(r.pValue, c[alternative].p, TOL.pValue, `${alternative} p`);
      }
    });
  }

  it("tail probabilities match a brute-force enumeration of every split", () => {
    for (const [m, n] of [
      [1, 1],
      [2, 2],
      [3, 4],
      [4, 4],
      [2, 7],
      [5, 6],
    ] as const) {
      const counts = new Map<number, number>();
      let total = 0;
      const walk = (start: number, chosen: number[]): void => {
        if (chosen.length === m) {
          const r1 = chosen.reduce((s, i) => s + i + 1, 0);
          const u = r1 - (m * (m + 1)) / 2;
          counts.set(u, (counts.get(u) ?? 0) + 1);
          total++;
          return;
        }
        for (let i = start; i < m + n; i++) walk(i + 1, [...chosen, i]);
      };
      walk(0, []);
      for (let u = 0; u <= m * n; u++) {
        let atLeast = 0;
        for (const [k, v] of counts) if (k >= u) atLeast += v;
        expect(mannWhitneyExactSf(u, m, n)).toBeCloseTo(atLeast / total, 14);
        expect(mannWhitneyExactSf(u, n, m)).toBeCloseTo(atLeast / total, 14);
      }
    }
  });

  it("stays exact beyond 2^53 splits (BigInt path) and agrees with the double path", () => {
    // C(68, 8) ≈ 6.3e9 fits doubles; C(200, 8) ≈ 5.5e13 too; C(1000, 8) ≈ 2.4e19 does not.
    const small = mannWhitneyExactSf(30, 8, 60);
    expect(small).toBeGreaterThan(0.99);
    const big = mannWhitneyExactSf(5000, 8, 992);
    expect(big).toBeGreaterThan(0);
    expect(big).toBeLessThan(1);
    // Symmetry of the null distribution: P(U >= u) = P(U <= mn - u) = 1 - P(U >= mn - u + 1).
    expect(mannWhitneyExactSf(5000, 8, 992) + mannWhitneyExactSf(8 * 992 - 5000 + 1, 8, 992)).toBeCloseTo(1, 12);
  });

  it('"exact" refuses ties and oversized samples; "asymptotic" is always allowed', () => {
    expect(() => mannWhitneyU({ method: "exact" }).test({ treatment: [1, 2, 3], baseline: [3, 4, 5] })).toThrow(
      "the exact distribution assumes no ties",
    );
    const a = Array.from({ length: 600 }, (_, i) => i);
    const b = Array.from({ length: 600 }, (_, i) => i + 0.5);
    expect(() => mannWhitneyU({ method: "exact" }).test({ treatment: a, baseline: b })).toThrow(ValidationError);
    expect(mannWhitneyU({ method: "asymptotic" }).test({ treatment: [1, 2], baseline: [3, 4] }).method).toBe(
      "Mann-Whitney U test (normal approximation)",
    );
  });
});

describe("mannWhitneyU zero variance follows scipy", () => {
  for (const z of extra.zeroVariance) {
    it(`${JSON.stringify(z.a)} vs ${JSON.stringify(z.b)}`, () => {
      for (const alternative of alternatives) {
        const r = mannWhitneyU({ alternative }).test({ treatment: z.a, baseline: z.b });
        expect(r.statistic).toBe(z.mann_whitney[alternative].U);
        expectClose(r.pValue, z.mann_whitney[alternative].p, TOL.pValue, `${alternative} p`);
      }
    });
  }
});

const sample = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 2, maxLength: 25 });

describe("Mann-Whitney laws", () => {
  it("U1 + U2 = n1 n2; swapping samples swaps U and keeps the two-sided p", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const r = rankSums(a, b);
        expect(r.u1 + r.u2).toBe(a.length * b.length);
        const ab = mannWhitneyU().test({ treatment: a, baseline: b });
        const ba = mannWhitneyU().test({ treatment: b, baseline: a });
        expect(ba.statistic).toBe(r.u2);
        expect(ba.pValue).toBe(ab.pValue);
        const g = mannWhitneyU({ alternative: "greater" }).test({ treatment: a, baseline: b }).pValue;
        const l = mannWhitneyU({ alternative: "less" }).test({ treatment: b, baseline: a }).pValue;
        expect(g).toBe(l);
      }),
    );
  });

  it("ranks are invariant under monotone transformations", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const f = (x: number) => Math.exp(x / 4) * 3 + 1;
        const r1 = mannWhitneyU().test({ treatment: a, baseline: b });
        const r2 = mannWhitneyU().test({ treatment: a.map(f), baseline: b.map(f) });
        expect(r2.statistic).toBe(r1.statistic);
        expect(r2.pValue).toBeCloseTo(r1.pValue, 12);
      }),
    );
  });
});
