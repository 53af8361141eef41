import { describe, expectTypeOf, it } from "vitest";
import {
  bootstrapCI,
  mannWhitneyU,
  pairedTTest,
  permutationTest,
  studentTTest,
  verifier,
  welchTTest,
  type Alternative,
  type BootstrapOptions,
  type CorrectionMethod,
  type CorrectionResult,
  type PermutationTestOptions,
  type Verifier,
  type VerifierResult,
} from "crystallize-ts/stats";
import { holm } from "crystallize-ts/stats";

describe("verifier option types", () => {
  it("every factory returns a Verifier and takes optional options", () => {
    expectTypeOf(welchTTest()).toExtend<Verifier>();
    expectTypeOf(studentTTest({ alpha: 0.01 })).toExtend<Verifier>();
    expectTypeOf(pairedTTest({ alternative: "less" })).toExtend<Verifier>();
    expectTypeOf(mannWhitneyU({ method: "exact" })).toExtend<Verifier>();
    expectTypeOf(permutationTest({ permutations: 1000, seed: 1 })).toExtend<Verifier>();
    expectTypeOf(bootstrapCI({ resamples: 1000, confidence: 0.9, method: "bca", seed: "s" })).toExtend<Verifier>();
    expectTypeOf(welchTTest().test({ treatment: [1], baseline: [2] })).toEqualTypeOf<VerifierResult>();
  });

  it("alternative is a closed union", () => {
    expectTypeOf<Alternative>().toEqualTypeOf<"two-sided" | "greater" | "less">();
    // @ts-expect-error "bigger" is not an alternative
    welchTTest({ alternative: "bigger" });
  });

  it("misspelt and mistyped options are compile errors", () => {
    // @ts-expect-error alpha must be a number
    welchTTest({ alpha: "0.05" });
    // @ts-expect-error unknown option (excess property)
    studentTTest({ alhpa: 0.05 });
    // @ts-expect-error t-tests take no permutations
    welchTTest({ permutations: 100 });
    // @ts-expect-error permutations is a number
    permutationTest({ permutations: "many" });
    // @ts-expect-error the seed is a number or a string
    permutationTest({ seed: true });
    // @ts-expect-error bootstrap method is "percentile" | "bca"
    bootstrapCI({ method: "basic" });
    // @ts-expect-error resamples, not permutations
    bootstrapCI({ permutations: 10 });
    // @ts-expect-error Mann-Whitney method
    mannWhitneyU({ method: "approximate" });
  });

  it("resolved options are typed on the verifier", () => {
    expectTypeOf(permutationTest().options.permutations).toEqualTypeOf<number>();
    expectTypeOf(bootstrapCI().options.method).toEqualTypeOf<"percentile" | "bca">();
    expectTypeOf<PermutationTestOptions["seed"]>().toEqualTypeOf<number | string | undefined>();
    expectTypeOf<BootstrapOptions["confidence"]>().toEqualTypeOf<number | undefined>();
  });

  it("results are read-only", () => {
    const r = welchTTest().test({ treatment: [1, 2], baseline: [3, 4] });
    // @ts-expect-error results are read-only
    r.pValue = 0;
    expectTypeOf(r.ci).toEqualTypeOf<readonly [number, number] | undefined>();
  });
});

describe("custom verifiers", () => {
  it("the function gets the samples and a context, and must return a pValue", () => {
    verifier("ok", (t, b, ctx) => {
      expectTypeOf(t).toEqualTypeOf<readonly number[]>();
      expectTypeOf(b).toEqualTypeOf<readonly number[]>();
      expectTypeOf(ctx.alternative).toEqualTypeOf<Alternative>();
      return { pValue: 0.5 };
    });
    // @ts-expect-error pValue is required
    verifier("bad", () => ({ statistic: 1 }));
    // @ts-expect-error a custom verifier is synchronous
    verifier("async", async () => ({ pValue: 0.5 }));
  });
});

describe("corrections", () => {
  it("take numbers and return adjusted values and flags", () => {
    expectTypeOf(holm([0.1, 0.2])).toEqualTypeOf<CorrectionResult>();
    expectTypeOf<CorrectionResult["adjusted"]>().toEqualTypeOf<readonly number[]>();
    expectTypeOf<CorrectionMethod>().toEqualTypeOf<"holm" | "bonferroni" | "benjamini-hochberg">();
    // @ts-expect-error p-values are numbers
    holm(["0.1"]);
  });
});
