// Multiple-comparison corrections, as statsmodels' multipletests: adjusted p-values and reject
// flags, both in input order.
import { ValidationError } from "../errors.js";
import { describeValue } from "./samples.js";

export type CorrectionMethod = "holm" | "bonferroni" | "benjamini-hochberg";

export const CORRECTION_METHODS: readonly CorrectionMethod[] = Object.freeze([
  "holm",
  "bonferroni",
  "benjamini-hochberg",
]);

export interface CorrectionResult {
  /** Adjusted p-values, in input order, capped at 1. */
  readonly adjusted: readonly number[];
  /** `adjusted < alpha`, in input order (the same rule as a verifier's `significant`). */
  readonly reject: readonly boolean[];
}

function check(name: string, p: readonly number[], alpha: number): void {
  const problems: string[] = [];
  if (!Array.isArray(p)) {
    problems.push(`p-values must be an array of numbers (got ${describeValue(p)})`);
  } else {
    p.forEach((v, i) => {
      if (typeof v !== "number" || !(Number.isNaN(v) || (v >= 0 && v <= 1))) {
        problems.push(`p-value ${i} must be a number in [0, 1] or NaN (got ${describeValue(v)})`);
      }
    });
  }
  if (typeof alpha !== "number" || !(alpha > 0 && alpha < 1)) {
    problems.push(`alpha must be a number in (0, 1) (got ${describeValue(alpha)})`);
  }
  if (problems.length > 0) throw new ValidationError(`${name}(p, alpha)`, problems);
}

/**
 * Indices of the non-NaN p-values in ascending order of p (ties by index). NaN p-values (a test
 * without variance, see the docs) are left out of the ordering and adjust to NaN, but still count
 * in the family size m, which keeps the correction conservative.
 */
function ascending(p: readonly number[]): number[] {
  return p
    .map((_, i) => i)
    .filter((i) => !Number.isNaN(p[i] as number))
    .sort((i, j) => (p[i] as number) - (p[j] as number) || i - j);
}

function finish(adjusted: number[], alpha: number): CorrectionResult {
  return Object.freeze({
    adjusted: Object.freeze(adjusted),
    reject: Object.freeze(adjusted.map((q) => q < alpha)),
  });
}

/** Bonferroni: min(1, m p). */
export function bonferroni(p: readonly number[], alpha = 0.05): CorrectionResult {
  check("bonferroni", p, alpha);
  const m = p.length;
  return finish(p.map((v) => Math.min(1, v * m)), alpha);
}

/** Holm's step-down: the i-th smallest becomes max over j <= i of (m - j + 1) p_(j), capped at 1. */
export function holm(p: readonly number[], alpha = 0.05): CorrectionResult {
  check("holm", p, alpha);
  const m = p.length;
  const adjusted = new Array<number>(m).fill(Number.NaN);
  let running = 0;
  ascending(p).forEach((index, rank) => {
    running = Math.max(running, (m - rank) * (p[index] as number));
    adjusted[index] = Math.min(1, running);
  });
  return finish(adjusted, alpha);
}

/** Benjamini–Hochberg step-up (FDR): the i-th smallest becomes min over j >= i of m p_(j) / j, capped at 1. */
export function benjaminiHochberg(p: readonly number[], alpha = 0.05): CorrectionResult {
  check("benjaminiHochberg", p, alpha);
  const m = p.length;
  const order = ascending(p);
  const adjusted = new Array<number>(m).fill(Number.NaN);
  let running = Number.POSITIVE_INFINITY;
  for (let rank = order.length - 1; rank >= 0; rank--) {
    const index = order[rank] as number;
    running = Math.min(running, (p[index] as number) / ((rank + 1) / m));
    adjusted[index] = Math.min(1, running);
  }
  return finish(adjusted, alpha);
}

/** Applies a correction by name. */
export function adjustPValues(method: CorrectionMethod, p: readonly number[], alpha = 0.05): CorrectionResult {
  switch (method) {
    case "holm":
      return holm(p, alpha);
    case "bonferroni":
      return bonferroni(p, alpha);
    case "benjamini-hochberg":
      return benjaminiHochberg(p, alpha);
    default:
      throw new ValidationError("correction", [
        `unknown correction ${describeValue(method)} (known: ${CORRECTION_METHODS.join(", ")})`,
      ]);
  }
}
