// Two-sample t-tests (Welch, Student) and the paired t-test, as scipy's ttest_ind / ttest_rel.
import type { Alternative, VerifierOptions, VerifierResult, VerifierSamples } from "../dsl/verifier.js";
import { mean, sumOfSquares } from "./descriptive.js";
import { tCdf, tQuantile, tSf, tTwoSided } from "./distributions.js";
import { cohensDUnchecked } from "./effect-size.js";
import { makeResult } from "./result.js";
import { checkSamples, pairValues } from "./samples.js";
import { defineVerifier, readOptions, throwIfProblems, type DefinedVerifier, type ResolvedVerifierOptions } from "./verifier.js";

/** Options of the t-tests: `{ alpha? = 0.05, alternative? = "two-sided" }`. */
export type TTestOptions = VerifierOptions;

/** p-value of a t statistic. NaN stays NaN; ±Infinity gives 0 or 1, as scipy does. */
export function tPValue(t: number, df: number, alternative: Alternative): number {
  if (alternative === "greater") return tSf(t, df);
  if (alternative === "less") return tCdf(t, df);
  return tTwoSided(t, df);
}

/**
 * Two-sided (1 - alpha) interval diff ± t(1 - alpha/2, df) × se. Always two-sided, whatever the
 * alternative: a one-sided interval has an infinite end, which plain JSON cannot carry.
 */
function tInterval(diff: number, se: number, df: number, alpha: number): readonly [number, number] {
  const q = tQuantile(1 - alpha / 2, df);
  return [diff - q * se, diff + q * se];
}

interface TwoSampleT {
  readonly t: number;
  readonly df: number;
  readonly diff: number;
  readonly se: number;
}

/** Welch's t: unequal variances, Welch–Satterthwaite df (1 when undefined, as scipy sets it). */
export function welchT(a: readonly number[], b: readonly number[]): TwoSampleT {
  const n1 = a.length;
  const n2 = b.length;
  const m1 = mean(a);
  const m2 = mean(b);
  const vn1 = sumOfSquares(a, m1) / (n1 - 1) / n1;
  const vn2 = sumOfSquares(b, m2) / (n2 - 1) / n2;
  const se = Math.sqrt(vn1 + vn2);
  let df = (vn1 + vn2) ** 2 / ((vn1 * vn1) / (n1 - 1) + (vn2 * vn2) / (n2 - 1));
  if (Number.isNaN(df)) df = 1; // both variances zero: df is immaterial, scipy uses 1
  const diff = m1 - m2;
  return { t: diff / se, df, diff, se };
}

/** Student's t: pooled variance, df = n1 + n2 - 2. */
export function studentT(a: readonly number[], b: readonly number[]): TwoSampleT {
  const n1 = a.length;
  const n2 = b.length;
  const m1 = mean(a);
  const m2 = mean(b);
  const df = n1 + n2 - 2;
  const pooled = (sumOfSquares(a, m1) + sumOfSquares(b, m2)) / df;
  const se = Math.sqrt(pooled * (1 / n1 + 1 / n2));
  const diff = m1 - m2;
  return { t: diff / se, df, diff, se };
}

/** Paired t on the differences a[i] - b[i]: df = n - 1. */
export function pairedT(a: readonly number[], b: readonly number[]): TwoSampleT {
  const d = a.map((x, i) => x - (b[i] as number));
  const n = d.length;
  const md = mean(d);
  const se = Math.sqrt(sumOfSquares(d, md) / (n - 1) / n);
  return { t: md / se, df: n - 1, diff: md, se };
}

function tResult(
  r: TwoSampleT,
  options: ResolvedVerifierOptions,
  effectSize: number,
  method: string,
): VerifierResult {
  return makeResult(
    {
      pValue: tPValue(r.t, r.df, options.alternative),
      statistic: r.t,
      effectSize,
      ci: tInterval(r.diff, r.se, r.df, options.alpha),
      df: r.df,
      method,
    },
    options.alpha,
  );
}

function tFactory(
  factory: string,
  method: string,
  compute: (samples: VerifierSamples, options: ResolvedVerifierOptions) => VerifierResult,
  options: TTestOptions | undefined,
): DefinedVerifier<ResolvedVerifierOptions> {
  const problems: string[] = [];
  const resolved = readOptions(options, [], problems);
  throwIfProblems(factory, problems);
  const opts: ResolvedVerifierOptions = { alpha: resolved.alpha, alternative: resolved.alternative };
  return defineVerifier(factory, opts, opts, (samples) => {
    checkSamples(method, samples);
    return compute(samples, opts);
  });
}

/**
 * Welch's unequal-variance t-test (scipy `ttest_ind(t, b, equal_var=False)`). statistic = t,
 * df = Welch–Satterthwaite, ci = (1 - alpha) interval of mean(t) - mean(b), effectSize = Cohen's d.
 */
export function welchTTest(options?: TTestOptions): DefinedVerifier<ResolvedVerifierOptions> {
  return tFactory(
    "welchTTest",
    "Welch's t-test",
    (s, o) => tResult(welchT(s.treatment, s.baseline), o, cohensDUnchecked(s.treatment, s.baseline), "Welch's t-test"),
    options,
  );
}

/** Student's pooled-variance t-test (scipy `ttest_ind(t, b)`), df = n1 + n2 - 2. */
export function studentTTest(options?: TTestOptions): DefinedVerifier<ResolvedVerifierOptions> {
  return tFactory(
    "studentTTest",
    "Student's t-test",
    (s, o) =>
      tResult(studentT(s.treatment, s.baseline), o, cohensDUnchecked(s.treatment, s.baseline), "Student's t-test"),
    options,
  );
}

/**
 * Paired t-test (scipy `ttest_rel(t, b)`) on treatment minus baseline, pairing values by replicate
 * (positionally when no replicate indices are given). Unpaired values are an error.
 * effectSize = Cohen's d (pooled SD) of the paired values; `cohensDz` gives d_z.
 */
export function pairedTTest(options?: TTestOptions): DefinedVerifier<ResolvedVerifierOptions> {
  return tFactory(
    "pairedTTest",
    "Paired t-test",
    (s, o) => {
      const paired = pairValues("Paired t-test", s);
      checkSamples("Paired t-test", paired);
      return tResult(
        pairedT(paired.treatment, paired.baseline),
        o,
        cohensDUnchecked(paired.treatment, paired.baseline),
        "Paired t-test",
      );
    },
    options,
  );
}
