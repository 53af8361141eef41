import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import {
  bootstrapCI,
  cohensD,
  mannWhitneyU,
  pairedTTest,
  permutationTest,
  studentTTest,
  verifier,
  welchTTest,
  type Verifier,
} from "../../src/stats/index.js";

const factories = {
  welchTTest: () => welchTTest(),
  studentTTest: () => studentTTest(),
  pairedTTest: () => pairedTTest(),
  mannWhitneyU: () => mannWhitneyU(),
  permutationTest: () => permutationTest({ permutations: 200 }),
  bootstrapCI: () => bootstrapCI({ resamples: 200 }),
  custom: () => verifier("always half", () => ({ pValue: 0.5 })),
} satisfies Record<string, () => Verifier>;

describe("every verifier", () => {
  for (const [name, make] of Object.entries(factories)) {
    describe(name, () => {
      it("is a frozen verifier node with defaults alpha 0.05 and two-sided", () => {
        const v = make();
        expect(v.kind).toBe("verifier");
        expect(v.alpha).toBe(0.05);
        expect(v.alternative).toBe("two-sided");
        expect(Object.isFrozen(v)).toBe(true);
        expect(typeof v.test).toBe("function");
      });

      it("returns a frozen result with the contract's fields, significant = pValue < alpha", () => {
        const r = make().test({ treatment: [3.1, 4.2, 5.0, 4.4, 3.9], baseline: [2.0, 2.9, 3.3, 2.2, 3.0] });
        expect(Object.isFrozen(r)).toBe(true);
        expect(r.pValue).toBeGreaterThanOrEqual(0);
        expect(r.pValue).toBeLessThanOrEqual(1);
        expect(r.significant).toBe(r.pValue < 0.05);
        expect(typeof r.method).toBe("string");
        expect(r.effectSize).toBeCloseTo(cohensD([3.1, 4.2, 5.0, 4.4, 3.9], [2.0, 2.9, 3.3, 2.2, 3.0]), 12);
        expect(JSON.parse(JSON.stringify(r))).toEqual({ ...r, ...(r.ci ? { ci: [...r.ci] } : {}) });
      });

      it("rejects fewer than two values, NaN, infinities and non-numbers, naming the sample and the value", () => {
        const v = make();
        const bad: [unknown[], unknown[], string][] = [
          [[1], [1, 2], "the treatment sample has 1 value; at least 2 are needed"],
          [[1, 2], [], "the baseline sample has 0 values; at least 2 are needed"],
          [[1, Number.NaN], [1, 2], "the treatment sample must hold finite numbers only: value 1 is NaN"],
          [[1, 2], [Number.POSITIVE_INFINITY, 2], "value 0 is Infinity"],
          [[1, "3"], [1, 2], 'value 1 is "3" (a string)'],
          [[1, null], [1, 2], "value 1 is null"],
        ];
        for (const [treatment, baseline, message] of bad) {
          const attempt = () => v.test({ treatment, baseline } as never);
          expect(attempt).toThrow(ValidationError);
          expect(attempt).toThrow(message);
        }
        expect(() => v.test({ treatment: "1,2" as never, baseline: [1, 2] })).toThrow(
          'the treatment sample must be an array of numbers (got "1,2" (a string))',
        );
      });

      it("is pure: the same samples give the same result, and the inputs are not mutated", () => {
        const treatment = [5, 1, 4, 2, 3];
        const baseline = [2, 2, 1, 0, 3];
        const v = make();
        const first = v.test({ treatment, baseline });
        expect(v.test({ treatment, baseline })).toEqual(first);
        expect(treatment).toEqual([5, 1, 4, 2, 3]);
        expect(baseline).toEqual([2, 2, 1, 0, 3]);
      });
    });
  }
});

describe("option checking", () => {
  const all = [welchTTest, studentTTest, pairedTTest, mannWhitneyU, permutationTest, bootstrapCI] as const;

  it("alpha must be in (0, 1); alternative one of three; unknown keys are refused; all problems at once", () => {
    for (const f of all) {
      try {
        f({ alpha: 1, alternative: "bigger", alhpa: 0.1 } as never);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        const problems = (e as ValidationError).problems;
        expect(problems.some((p) => p.startsWith('unknown option "alhpa"'))).toBe(true);
        expect(problems).toContain('option "alpha" must be a number in (0, 1) (got 1)');
        expect(problems).toContain('option "alternative" must be "two-sided", "greater" or "less" (got "bigger" (a string))');
        expect((e as ValidationError).message).toMatch(/^\w+\(options\) is invalid/);
      }
    }
  });

  it("options must be an object", () => {
    expect(() => welchTTest(0.05 as never)).toThrow("options must be an object (got 0.05)");
  });

  it("resolved options are visible on the verifier", () => {
    const v = permutationTest({ alpha: 0.01, alternative: "less", permutations: 99, seed: "abc" });
    expect(v.alpha).toBe(0.01);
    expect(v.alternative).toBe("less");
    expect(v.options).toEqual({ alpha: 0.01, alternative: "less", permutations: 99, seed: "abc" });
    expect(mannWhitneyU({ method: "exact" }).options.method).toBe("exact");
    expect(() => mannWhitneyU({ method: "fast" as never })).toThrow(
      'option "method" must be "auto", "exact" or "asymptotic" (got "fast" (a string))',
    );
  });

  it("alpha decides significance", () => {
    const s = { treatment: [1.2, 2.3, 2.9, 3.1, 2.2], baseline: [1.0, 1.9, 2.1, 2.0, 1.5] };
    const p = welchTTest().test(s).pValue;
    expect(welchTTest({ alpha: Math.min(0.99, p * 1.01) }).test(s).significant).toBe(true);
    expect(welchTTest({ alpha: p * 0.99 }).test(s).significant).toBe(false);
  });
});

describe("verifier(name, fn, options)", () => {
  it("fills statistic (difference of means), effect size (Cohen's d) and method (the name)", () => {
    const v = verifier("sign test", () => ({ pValue: 0.03 }));
    const r = v.test({ treatment: [4, 5, 6], baseline: [1, 2, 3] });
    expect(r).toEqual({ pValue: 0.03, statistic: 3, significant: true, effectSize: 3, method: "sign test" });
    expect(Object.keys(r)).toEqual(["pValue", "statistic", "significant", "effectSize", "method"]);
    expect(v.name).toBe("sign test");
  });

  it("keeps what the function returns, and decides significance itself", () => {
    const v = verifier(
      "mine",
      () => ({ pValue: 0.2, statistic: 9, effectSize: 0.1, ci: [1, 2] as const, df: 4, method: "My test" }),
      { alpha: 0.25 },
    );
    expect(v.test({ treatment: [1, 2], baseline: [3, 4] })).toEqual({
      pValue: 0.2,
      statistic: 9,
      significant: true,
      effectSize: 0.1,
      ci: [1, 2],
      df: 4,
      method: "My test",
    });
  });

  it("passes frozen copies of the samples, alpha, alternative and replicates", () => {
    let seen: unknown;
    const v = verifier(
      "spy",
      (t, b, ctx) => {
        seen = { t, b, ctx, frozen: Object.isFrozen(t) && Object.isFrozen(b) };
        return { pValue: 1 };
      },
      { alternative: "greater" },
    );
    v.test({ treatment: [1, 2], baseline: [3, 4], replicates: { treatment: [0, 1], baseline: [0, 1] } });
    expect(seen).toEqual({
      t: [1, 2],
      b: [3, 4],
      ctx: { alpha: 0.05, alternative: "greater", replicates: { treatment: [0, 1], baseline: [0, 1] } },
      frozen: true,
    });
  });

  it("refuses a bad result, a promise, a bad name or fn", () => {
    const s = { treatment: [1, 2], baseline: [3, 4] };
    expect(() => verifier("x", () => ({ pValue: 1.5 })).test(s)).toThrow(
      "pValue must be a number in [0, 1] (or NaN) (got 1.5)",
    );
    expect(() => verifier("x", () => ({}) as never).test(s)).toThrow("pValue must be a number in [0, 1] (or NaN) (got undefined)");
    expect(() => verifier("x", () => ({ pValue: 0.1, ci: [1] }) as never).test(s)).toThrow("ci must be a pair of numbers");
    expect(() => verifier("x", (async () => ({ pValue: 0.1 })) as never).test(s)).toThrow("synchronously");
    expect(() => verifier("", () => ({ pValue: 0.1 }))).toThrow("name must be a non-empty string");
    expect(() => verifier("x", 3 as never)).toThrow("fn must be a function (got 3)");
  });

  it("a NaN p-value is allowed and never significant", () => {
    const r = verifier("undecided", () => ({ pValue: Number.NaN })).test({ treatment: [1, 2], baseline: [3, 4] });
    expect(r.pValue).toBeNaN();
    expect(r.significant).toBe(false);
  });

  it("law: a custom verifier wrapping Welch reproduces Welch", () => {
    const w = welchTTest();
    const wrapped = verifier("welch again", (t, b) => {
      const r = w.test({ treatment: t, baseline: b });
      return { pValue: r.pValue, statistic: r.statistic, ...(r.ci ? { ci: r.ci } : {}), ...(r.df !== undefined ? { df: r.df } : {}), method: r.method };
    });
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 10 }),
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 10 }),
        (t, b) => {
          expect(wrapped.test({ treatment: t, baseline: b })).toEqual(w.test({ treatment: t, baseline: b }));
        },
      ),
    );
  });
});
