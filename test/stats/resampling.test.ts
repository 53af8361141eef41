import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { bootstrapCI, permutationTest, welchTTest } from "../../src/stats/index.js";
import {
  bcaLevels,
  bcaParameters,
  bootstrapDistribution,
  permutationCounts,
  quantileSorted,
  summariseBootstrap,
} from "../../src/stats/resampling.js";
import { createIndexStream, indexStreamFrom } from "../../src/stats/rng.js";
import { expectClose, extra, sharedCase, TOL } from "./helpers.js";

const alternatives = ["two-sided", "greater", "less"] as const;

/** A word source of 2^15 words whose 16-bit halves are every 16-bit value exactly once. */
function everyHalfWordOnce(): () => number {
  let t = 0;
  return () => {
    if (t >= 32_768) throw new Error("source exhausted");
    const w = (t | ((t + 32_768) << 16)) >>> 0;
    t++;
    return w | 0;
  };
}

describe("permutationTest: exact enumeration matches scipy's permutation_test", () => {
  for (const c of extra.permutationExact) {
    it(`${c.a.length} vs ${c.b.length} (${c.combinations} splits)`, () => {
      for (const alternative of alternatives) {
        const r = permutationTest({ alternative }).test({ treatment: c.a, baseline: c.b });
        expect(r.method).toBe(`Permutation test (exact, all ${c.combinations} splits)`);
        expectClose(r.statistic, c[alternative].statistic, TOL.statistic, "statistic");
        expectClose(r.pValue, c[alternative].p, TOL.pValue, `${alternative} p`);
      }
    });
  }

  it("enumerates whenever the splits fit in the permutation budget", () => {
    const a = [1.2, 3.4, 2.2, 5.1];
    const b = [0.3, 1.1, 2.9, 0.7, 1.8];
    expect(permutationTest({ permutations: 126 }).test({ treatment: a, baseline: b }).method).toContain("exact, all 126");
    expect(permutationTest({ permutations: 125 }).test({ treatment: a, baseline: b }).method).toBe(
      "Permutation test (125 random permutations)",
    );
  });
});

describe("permutationTest: random permutations", () => {
  const { a, b } = sharedCase("shifted_1");

  it("is reproducible for a seed and differs between seeds", () => {
    const s = { treatment: a, baseline: b };
    const r1 = permutationTest({ permutations: 2000, seed: 7 }).test(s);
    const r2 = permutationTest({ permutations: 2000, seed: 7 }).test(s);
    const r3 = permutationTest({ permutations: 2000, seed: "7" }).test(s);
    expect(r2).toEqual(r1);
    expect(r3).toEqual(r1);
    const counts = [1, 2, 3].map((seed) => permutationCounts(a, b, 2000, seed).atLeast);
    expect(new Set(counts).size).toBeGreaterThan(1);
  });

  it("approximates the t-test's p-value on near-normal data, and is never 0", () => {
    const c = sharedCase("normal_14");
    const s = { treatment: c.a, baseline: c.b };
    const perm = permutationTest({ permutations: 20_000, seed: 1 }).test(s);
    expect(perm.pValue).toBeGreaterThan(0);
    expect(perm.pValue).toBeGreaterThanOrEqual(1 / 20_001);
    const welch = welchTTest().test(s);
    expect(Math.abs(perm.pValue - welch.pValue)).toBeLessThan(0.002);
    expect(perm.significant).toBe(true);
  });

  it("random p-values agree with the exact ones within Monte Carlo error (4 standard errors)", () => {
    const big = extra.permutationExact.filter((c) => c.combinations >= 200);
    expect(big.length).toBeGreaterThanOrEqual(4);
    for (const c of big) {
      const n = c.combinations - 1; // one split short of enumerating: random draws
      for (const alternative of alternatives) {
        const exact = c[alternative].p;
        const r = permutationTest({ permutations: n, seed: 3, alternative }).test({ treatment: c.a, baseline: c.b });
        expect(r.method).toBe(`Permutation test (${n} random permutations)`);
        const q = alternative === "two-sided" ? exact / 2 : exact;
        const se = Math.sqrt((q * (1 - q)) / n) * (alternative === "two-sided" ? 2 : 1);
        expect(Math.abs(r.pValue - exact), `${c.a.length} vs ${c.b.length} ${alternative}`).toBeLessThan(4 * se + 2 / n);
      }
    }
  });

  it("swapping the samples flips the statistic and swaps the one-sided p-values (exact enumeration)", () => {
    const values = fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 2, maxLength: 6 });
    fc.assert(
      fc.property(values, values, (x, y) => {
        // at most C(12, 6) = 924 splits: enumerated, so the law holds exactly
        const g = permutationTest({ permutations: 1000, alternative: "greater" }).test({ treatment: x, baseline: y });
        const l = permutationTest({ permutations: 1000, alternative: "less" }).test({ treatment: y, baseline: x });
        expect(g.method).toContain("exact");
        expect(l.statistic).toBeCloseTo(-g.statistic, 9);
        expect(l.pValue).toBe(g.pValue);
      }),
      { numRuns: 80 },
    );
  });

  it("identical samples give p = 1 two-sided", () => {
    const r = permutationTest().test({ treatment: [1, 2, 3, 4], baseline: [1, 2, 3, 4] });
    expect(r.pValue).toBe(1);
    expect(r.statistic).toBe(0);
  });

  it("constant, equal samples: every split ties, p = 1 (scipy's behaviour)", () => {
    const r = permutationTest({ permutations: 50 }).test({ treatment: [5, 5, 5, 5, 5, 5], baseline: [5, 5, 5, 5, 5, 5, 5] });
    expect(r.pValue).toBe(1);
    expect(r.effectSize).toBeNaN();
  });
});

describe("bootstrapCI: intervals from a bootstrap distribution match scipy", () => {
  for (const c of extra.bca) {
    it(`${c.a.length} vs ${c.b.length} at ${c.confidence}`, () => {
      const sorted = Float64Array.from(c.theta_b).sort();
      const params = bcaParameters(sorted, c.a, c.b);
      expectClose(params.acceleration, c.a_hat, { rel: 1e-9 }, "acceleration");
      const [l1, l2] = bcaLevels(params, c.confidence);
      expectClose(l1, c.alpha_1, { rel: 1e-9 }, "alpha_1");
      expectClose(l2, c.alpha_2, { rel: 1e-9 }, "alpha_2");
      const bca = summariseBootstrap(sorted, c.a, c.b, c.confidence, "bca", "two-sided");
      expectClose(bca.ci[0], c.bca[0], { rel: 1e-9 }, "BCa low");
      expectClose(bca.ci[1], c.bca[1], { rel: 1e-9 }, "BCa high");
      const pct = summariseBootstrap(sorted, c.a, c.b, c.confidence, "percentile", "two-sided");
      expectClose(pct.ci[0], c.percentile[0], { rel: 1e-12 }, "percentile low");
      expectClose(pct.ci[1], c.percentile[1], { rel: 1e-12 }, "percentile high");
    });
  }

  it("quantiles interpolate linearly, like numpy's default", () => {
    const s = [1, 2, 4, 8];
    expect(quantileSorted(s, 0)).toBe(1);
    expect(quantileSorted(s, 1)).toBe(8);
    expect(quantileSorted(s, 0.5)).toBe(3);
    expect(quantileSorted(s, 0.9)).toBeCloseTo(6.8, 14);
  });
});

describe("bootstrapCI: the verifier", () => {
  const c = sharedCase("normal_14");
  const s = { treatment: c.a, baseline: c.b };

  it("is reproducible for a seed and differs between seeds", () => {
    const r1 = bootstrapCI({ resamples: 2000, seed: 11 }).test(s);
    expect(bootstrapCI({ resamples: 2000, seed: 11 }).test(s)).toEqual(r1);
    expect(bootstrapCI({ resamples: 2000, seed: 12 }).test(s).ci).not.toEqual(r1.ci);
  });

  it("the interval is close to Welch's on near-normal data and contains the observed difference", () => {
    const welch = welchTTest().test(s);
    for (const method of ["percentile", "bca"] as const) {
      const r = bootstrapCI({ resamples: 20_000, seed: 5, method }).test(s);
      const [lo, hi] = r.ci ?? [Number.NaN, Number.NaN];
      const [wlo, whi] = welch.ci ?? [Number.NaN, Number.NaN];
      expect(lo).toBeLessThan(r.statistic);
      expect(hi).toBeGreaterThan(r.statistic);
      // bootstrap intervals are a little narrower than t intervals for n ≈ 30
      expect(Math.abs(lo - wlo) / (whi - wlo)).toBeLessThan(0.1);
      expect(Math.abs(hi - whi) / (whi - wlo)).toBeLessThan(0.1);
      expect(r.method).toBe(`Bootstrap CI (${method === "bca" ? "BCa" : "percentile"}, 20000 resamples)`);
      expect(r.df).toBeUndefined();
    }
  });

  it("the p-value inverts the interval: significant exactly when the interval excludes 0 (away from the edge)", () => {
    const cases = ["shifted_1", "normal_4", "normal_14", "skewed_17", "ties_10", "unequal_var_7"];
    for (const name of cases) {
      const x = sharedCase(name);
      for (const method of ["percentile", "bca"] as const) {
        const r = bootstrapCI({ resamples: 4000, seed: 2, method }).test({ treatment: x.a, baseline: x.b });
        const [lo, hi] = r.ci ?? [Number.NaN, Number.NaN];
        const excludes = lo > 0 || hi < 0;
        const margin = Math.abs(r.pValue - 0.05);
        if (margin > 0.01) expect(r.significant, `${name} ${method}`).toBe(excludes);
      }
    }
  });

  it("one-sided p-values: greater + less ≈ 1 and two-sided is twice the smaller", () => {
    for (const method of ["percentile", "bca"] as const) {
      const g = bootstrapCI({ resamples: 3000, seed: 4, method, alternative: "greater" }).test(s).pValue;
      const l = bootstrapCI({ resamples: 3000, seed: 4, method, alternative: "less" }).test(s).pValue;
      const two = bootstrapCI({ resamples: 3000, seed: 4, method }).test(s).pValue;
      expect(g + l).toBeGreaterThanOrEqual(1);
      expect(g + l).toBeLessThan(1 + 3 / 3001);
      expect(two).toBeCloseTo(Math.min(1, 2 * Math.min(g, l)), 12);
      expect(g).toBeLessThan(0.01); // normal_14: treatment clearly above baseline
    }
  });

  it("confidence sets the interval; alpha defaults to 1 - confidence", () => {
    const v = bootstrapCI({ confidence: 0.9, resamples: 500 });
    expect(v.alpha).toBeCloseTo(0.1, 15);
    expect(v.options.confidence).toBe(0.9);
    const w = bootstrapCI({ alpha: 0.01, resamples: 500 });
    expect(w.options.confidence).toBeCloseTo(0.99, 15);
    const both = bootstrapCI({ alpha: 0.2, confidence: 0.95, resamples: 500 });
    expect(both.alpha).toBe(0.2);
    expect(both.options.confidence).toBe(0.95);
    const narrow = bootstrapCI({ confidence: 0.5, resamples: 2000 }).test(s).ci ?? [0, 0];
    const wide = bootstrapCI({ confidence: 0.99, resamples: 2000 }).test(s).ci ?? [0, 0];
    expect(narrow[1] - narrow[0]).toBeLessThan(wide[1] - wide[0]);
  });

  it("constant samples: the percentile interval is the point; BCa is undefined (NaN), as in scipy", () => {
    const flat = { treatment: [5, 5, 5, 5], baseline: [3, 3, 3] };
    const pct = bootstrapCI({ resamples: 200 }).test(flat);
    expect(pct.ci).toEqual([2, 2]);
    expect(pct.pValue).toBeCloseTo(2 / 201, 15);
    const bca = bootstrapCI({ resamples: 200, method: "bca" }).test(flat);
    expect(bca.ci?.[0]).toBeNaN();
    expect(bca.pValue).toBeNaN();
    expect(bca.significant).toBe(false);
  });

  it("the bootstrap distribution resamples each sample independently (its spread matches the standard error)", () => {
    const x = Array.from({ length: 200 }, (_, i) => Math.sin(i * 1.7) * 3);
    const y = Array.from({ length: 150 }, (_, i) => Math.cos(i * 0.9) * 2);
    const d = bootstrapDistribution(x, y, 20_000, 9);
    const m = d.reduce((acc, v) => acc + v, 0) / d.length;
    const sd = Math.sqrt(d.reduce((acc, v) => acc + (v - m) ** 2, 0) / (d.length - 1));
    const vx = x.reduce((acc, v) => acc + (v - x.reduce((p, q) => p + q, 0) / x.length) ** 2, 0) / x.length;
    const vy = y.reduce((acc, v) => acc + (v - y.reduce((p, q) => p + q, 0) / y.length) ** 2, 0) / y.length;
    expect(sd / Math.sqrt(vx / x.length + vy / y.length)).toBeCloseTo(1, 1);
    for (let i = 1; i < d.length; i++) expect(d[i] as number).toBeGreaterThanOrEqual(d[i - 1] as number);
  });
});

describe("resampling options are validated", () => {
  it("permutationTest lists every bad option", () => {
    try {
      permutationTest({ permutations: 2.5, seed: Number.NaN, alpha: 0 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).message).toContain("permutationTest(options) is invalid");
      expect((e as ValidationError).problems).toEqual([
        'option "alpha" must be a number in (0, 1) (got 0)',
        'option "permutations" must be a positive integer (got 2.5)',
        'option "seed" must be a finite number or a string (got NaN)',
      ]);
    }
  });

  it("bootstrapCI lists every bad option", () => {
    expect(() => bootstrapCI({ resamples: 0 })).toThrow('option "resamples" must be a positive integer (got 0)');
    expect(() => bootstrapCI({ confidence: 1 })).toThrow('option "confidence" must be a number in (0, 1) (got 1)');
    expect(() => bootstrapCI({ method: "basic" as never })).toThrow(
      'option "method" must be "percentile" or "bca" (got "basic" (a string))',
    );
    expect(() => bootstrapCI({ resample: 10 } as never)).toThrow('unknown option "resample"');
  });
});

describe("the seeded index stream", () => {
  it("is deterministic, and numbers equal their strings", () => {
    const draw = (seed: number | string) => {
      const s = createIndexStream(seed);
      const values = Float64Array.from({ length: 1000 }, (_, i) => i);
      const draws = Array.from({ length: 2500 }, () => s.sampleSum(values, 1));
      const pool = Float64Array.from({ length: 3000 }, (_, i) => i);
      const sum = s.shuffleSum(pool, 2500);
      return [...draws, s.sampleSum(values, 999), ...pool, sum];
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw("42")).toEqual(draw(42));
    expect(draw(43)).not.toEqual(draw(42));
  });

  it("is exactly uniform: every 16-bit half accepted yields each index equally often (Lemire)", () => {
    for (const n of [1, 3, 7, 1000, 1023, 40_000, 65_536]) {
      const words = everyHalfWordOnce();
      const per = Math.floor(65_536 / n);
      const stream = indexStreamFrom(words);
      const values = Float64Array.from({ length: n }, (_, i) => i);
      const counts = new Array<number>(n).fill(0);
      for (let draw = 0; draw < n * per; draw++) counts[stream.sampleSum(values, 1)]!++;
      expect(counts.every((c) => c === per), `n = ${n}`).toBe(true);
    }
  });

  it("shuffle steps are exactly uniform too", () => {
    for (const n of [3, 1000, 40_000]) {
      const words = everyHalfWordOnce();
      const stream = indexStreamFrom(words);
      const per = Math.floor(65_536 / n);
      const counts = new Array<number>(n).fill(0);
      const pool = new Float64Array(n);
      for (let draw = 0; draw < n * per; draw++) {
        for (let i = 0; i < n; i++) pool[i] = i;
        counts[stream.shuffleSum(pool, 1)]!++;
      }
      expect(counts.every((c) => c === per), `n = ${n}`).toBe(true);
    }
  });

  it("indices stay in range on every path (16-bit, 32-bit and 53-bit)", () => {
    const s = createIndexStream(7);
    for (const n of [1, 2, 999, 65_536, 65_537, 2_097_152, 2_097_153, 5_000_000]) {
      const values = Float64Array.from({ length: n }, (_, i) => i);
      for (let d = 0; d < 300; d++) {
        const v = s.sampleSum(values, 1);
        if (!(v >= 0 && v < n && Number.isInteger(v))) expect.fail(`index ${v} for n = ${n}`);
      }
      // several draws at once: the sum of indices, within bounds
      const many = s.sampleSum(values, 500);
      expect(many).toBeGreaterThanOrEqual(0);
      expect(many).toBeLessThanOrEqual(500 * (n - 1));
    }
    expect(() => s.sampleSum(new Float64Array(0), 1)).toThrow(RangeError);
  });

  it("shuffleSum draws a k-subset in place and returns its sum, for small and huge pools", () => {
    const s = createIndexStream(7);
    for (const n of [1, 5, 1000, 65_536, 70_000]) {
      const pool = Float64Array.from({ length: n }, (_, i) => i);
      const k = Math.min(n, 3000);
      const sum = s.shuffleSum(pool, k);
      let expected = 0;
      for (let i = 0; i < k; i++) expected += pool[i] as number;
      expect(sum).toBe(expected);
      // still a permutation of 0..n-1
      expect([...pool].sort((a, b) => a - b).every((v, i) => v === i), `pool ${n}`).toBe(true);
    }
    expect(() => s.shuffleSum(new Float64Array(3), 4)).toThrow(RangeError);
  });

  it("uniform in distribution: indices (chi-square) and shuffles (all 24 orders of 4 items)", () => {
    const s = createIndexStream("uniformity");
    const n = 10;
    const draws = 100_000;
    const values = Float64Array.from({ length: n }, (_, i) => i);
    const counts = new Array<number>(n).fill(0);
    for (let d = 0; d < draws; d++) counts[s.sampleSum(values, 1)]!++;
    const chi = counts.reduce((acc, c) => acc + (c - draws / n) ** 2 / (draws / n), 0);
    expect(chi).toBeLessThan(27.88); // 99.9th percentile of chi-square with 9 df

    const orders = new Map<string, number>();
    const rounds = 48_000;
    for (let r = 0; r < rounds; r++) {
      const items = Float64Array.of(0, 1, 2, 3);
      s.shuffleSum(items, 4);
      const key = items.join("");
      orders.set(key, (orders.get(key) ?? 0) + 1);
    }
    expect(orders.size).toBe(24);
    const chi24 = [...orders.values()].reduce((acc, c) => acc + (c - rounds / 24) ** 2 / (rounds / 24), 0);
    expect(chi24).toBeLessThan(49.73); // 99.9th percentile, 23 df
  });
});
