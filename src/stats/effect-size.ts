// Standardised effect sizes, oriented a minus b.
import { ValidationError } from "../errors.js";
import { mean, sumOfSquares } from "./descriptive.js";
import { sampleProblems } from "./samples.js";

function check(name: string, a: readonly number[], b: readonly number[]): void {
  const problems = [...sampleProblems("treatment", a), ...sampleProblems("baseline", b)].map((p) =>
    p.replace("the treatment sample", "the first sample (a)").replace("the baseline sample", "the second sample (b)"),
  );
  if (problems.length > 0) throw new ValidationError(`${name}(a, b)`, problems);
}

/** The pooled standard deviation sqrt(((n1-1)s1² + (n2-1)s2²) / (n1+n2-2)). */
export function pooledStandardDeviation(a: readonly number[], b: readonly number[]): number {
  return Math.sqrt((sumOfSquares(a) + sumOfSquares(b)) / (a.length + b.length - 2));
}

/** Cohen's d without input checks, for verifiers that have checked already. */
export function cohensDUnchecked(a: readonly number[], b: readonly number[]): number {
  return (mean(a) - mean(b)) / pooledStandardDeviation(a, b);
}

/**
 * Cohen's d: (mean(a) - mean(b)) / pooled SD, the pooled SD weighting each sample's variance by
 * its degrees of freedom. Zero pooled SD gives ±Infinity (different means) or NaN (equal means),
 * as numpy's division does.
 */
export function cohensD(a: readonly number[], b: readonly number[]): number {
  check("cohensD", a, b);
  return cohensDUnchecked(a, b);
}

/** Hedges' small-sample correction J = 1 - 3 / (4 (n1 + n2 - 2) - 1). */
export function hedgesCorrection(n1: number, n2: number): number {
  return 1 - 3 / (4 * (n1 + n2 - 2) - 1);
}

/** Hedges' g: Cohen's d times J = 1 - 3 / (4 (n1 + n2) - 9), which removes most of d's bias. */
export function hedgesG(a: readonly number[], b: readonly number[]): number {
  check("hedgesG", a, b);
  return cohensDUnchecked(a, b) * hedgesCorrection(a.length, b.length);
}

/**
 * Cohen's d_z for paired values: mean(a - b) / sd(a - b), pairing by position. (The paired test's
 * `effectSize` stays the pooled Cohen's d, so that effect sizes compare across tests; use this for
 * the paired standardisation.)
 */
export function cohensDz(a: readonly number[], b: readonly number[]): number {
  check("cohensDz", a, b);
  if (a.length !== b.length) {
    throw new ValidationError("cohensDz(a, b)", [
      `paired samples must have equal lengths (got ${a.length} and ${b.length})`,
    ]);
  }
  const d = a.map((x, i) => x - (b[i] as number));
  const m = mean(d);
  return m / Math.sqrt(sumOfSquares(d, m) / (d.length - 1));
}
