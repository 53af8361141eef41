// The Mann–Whitney U test, as scipy's `mannwhitneyu(t, b, method="auto")`: the exact null
// distribution for small samples without ties, else the normal approximation with tie and
// continuity corrections.
import { ValidationError } from "../errors.js";
import type { Alternative, VerifierOptions } from "../dsl/verifier.js";
import { normalSf } from "./distributions.js";
import { cohensDUnchecked } from "./effect-size.js";
import { makeResult } from "./result.js";
import { checkSamples, describeValue } from "./samples.js";
import { defineVerifier, readOptions, throwIfProblems, type DefinedVerifier, type ResolvedVerifierOptions } from "./verifier.js";

export type MannWhitneyMethod = "auto" | "exact" | "asymptotic";

export interface MannWhitneyOptions extends VerifierOptions {
  /**
   * "auto" (default, scipy's choice): exact when either sample has at most 8 values and there are
   * no ties, else asymptotic. "exact" refuses ties.
   */
  readonly method?: MannWhitneyMethod;
}

export interface RankSums {
  /** The treatment's U (U1 = R1 - n1 (n1 + 1) / 2). */
  readonly u1: number;
  readonly u2: number;
  readonly hasTies: boolean;
  /** Σ (t³ - t) over groups of tied values. */
  readonly tieTerm: number;
}

/** Ranks the pooled sample (average ranks for ties) and returns both U statistics. */
export function rankSums(a: readonly number[], b: readonly number[]): RankSums {
  const n1 = a.length;
  const n = n1 + b.length;
  const values = new Float64Array(n);
  for (let i = 0; i < n1; i++) values[i] = a[i] as number;
  for (let i = n1; i < n; i++) values[i] = b[i - n1] as number;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (values[i] as number) - (values[j] as number));
  let r1 = 0;
  let tieTerm = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[order[j] as number] === values[order[i] as number]) j++;
    const size = j - i;
    const rank = (i + 1 + j) / 2; // average of ranks i+1 .. j
    for (let k = i; k < j; k++) if ((order[k] as number) < n1) r1 += rank;
    if (size > 1) tieTerm += size * size * size - size;
    i = j;
  }
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  return { u1, u2: n1 * b.length - u1, hasTies: tieTerm > 0, tieTerm };
}

/**
 * P(U >= u) under the null for sample sizes m and n without ties. The counts of U are the
 * coefficients of the Gaussian binomial [m+n choose m](q) = Π_{i=1..k} (1 - q^(n'+i)) / (1 - q^i),
 * k = min(m, n); by symmetry P(U >= u) = P(U <= mn - u), so only coefficients up to mn - u are
 * needed. Integers stay exact: doubles while C(m+n, k) < 2^53, BigInt beyond.
 */
export function mannWhitneyExactSf(u: number, m: number, n: number): number {
  const mn = m * n;
  if (u <= 0) return 1;
  if (u > mn) return 0;
  const degree = mn - Math.ceil(u - 1e-9); // u is an integer when there are no ties
  const k = Math.min(m, n);
  const big = Math.max(m, n);
  let total = 1n;
  for (let i = 1; i <= k; i++) total = (total * BigInt(big + i)) / BigInt(i);
  if (total <= BigInt(Number.MAX_SAFE_INTEGER)) {
    // Every coefficient, partial product and partial sum is an integer <= total: exact in doubles.
    const c = new Float64Array(degree + 1);
    c[0] = 1;
    for (let i = 1; i <= k; i++) {
      const up = big + i;
      for (let j = degree; j >= up; j--) c[j] = (c[j] as number) - (c[j - up] as number);
      for (let j = i; j <= degree; j++) c[j] = (c[j] as number) + (c[j - i] as number);
    }
    let count = 0;
    for (let j = 0; j <= degree; j++) count += c[j] as number;
    return count / Number(total);
  }
  const c: bigint[] = new Array<bigint>(degree + 1).fill(0n);
  c[0] = 1n;
  for (let i = 1; i <= k; i++) {
    const up = big + i;
    for (let j = degree; j >= up; j--) c[j] = (c[j] as bigint) - (c[j - up] as bigint);
    for (let j = i; j <= degree; j++) c[j] = (c[j] as bigint) + (c[j - i] as bigint);
  }
  let count = 0n;
  for (let j = 0; j <= degree; j++) count += c[j] as bigint;
  return Number(count) / Number(total);
}

/** Work (coefficient updates) the exact tail would take; "exact" refuses more than EXACT_LIMIT. */
export function mannWhitneyExactWork(m: number, n: number): number {
  return Math.min(m, n) * m * n;
}
export const EXACT_LIMIT = 5e7;

/** Normal-approximation upper tail P(U >= u), with continuity and tie corrections. */
export function mannWhitneyAsymptoticSf(u: number, m: number, n: number, tieTerm: number): number {
  const mu = (m * n) / 2;
  const total = m + n;
  const s = Math.sqrt(((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1))));
  const z = (u - mu - 0.5) / s;
  return normalSf(z);
}

function pValue(r: RankSums, m: number, n: number, alternative: Alternative, exact: boolean): number {
  // scipy: the upper tail of U1 ("greater"), of U2 ("less"), twice that of max(U1, U2).
  const u = alternative === "greater" ? r.u1 : alternative === "less" ? r.u2 : Math.max(r.u1, r.u2);
  const factor = alternative === "two-sided" ? 2 : 1;
  const sf = exact ? mannWhitneyExactSf(u, m, n) : mannWhitneyAsymptoticSf(u, m, n, r.tieTerm);
  return Math.min(1, Math.max(0, sf * factor));
}

/**
 * The Mann–Whitney U test. statistic = the treatment's U; effectSize = Cohen's d; no df or ci.
 * `method` in the result says which distribution was used.
 */
export function mannWhitneyU(options?: MannWhitneyOptions): DefinedVerifier<ResolvedVerifierOptions & { method: MannWhitneyMethod }> {
  const problems: string[] = [];
  const resolved = readOptions(options, ["method"], problems);
  const choice = (resolved.raw.method ?? "auto") as MannWhitneyMethod;
  if (!["auto", "exact", "asymptotic"].includes(choice)) {
    problems.push(`option "method" must be "auto", "exact" or "asymptotic" (got ${describeValue(choice)})`);
  }
  throwIfProblems("mannWhitneyU", problems);
  const opts = { alpha: resolved.alpha, alternative: resolved.alternative, method: choice };
  return defineVerifier("mannWhitneyU", opts, opts, (samples) => {
    checkSamples("Mann-Whitney U test", samples);
    const { treatment, baseline } = samples;
    const m = treatment.length;
    const n = baseline.length;
    const r = rankSums(treatment, baseline);
    if (choice === "exact" && r.hasTies) {
      throw new ValidationError("Mann-Whitney U test: samples", [
        'the exact distribution assumes no ties, but the samples share values; use method "auto" or "asymptotic"',
      ]);
    }
    if (choice === "exact" && mannWhitneyExactWork(m, n) > EXACT_LIMIT) {
      throw new ValidationError("Mann-Whitney U test: samples", [
        `the exact distribution for ${m} and ${n} values is too large to compute; use method "auto" or "asymptotic"`,
      ]);
    }
    const exact = choice === "exact" || (choice === "auto" && !(m > 8 && n > 8) && !r.hasTies);
    return makeResult(
      {
        pValue: pValue(r, m, n, opts.alternative, exact),
        statistic: r.u1,
        effectSize: cohensDUnchecked(treatment, baseline),
        method: exact ? "Mann-Whitney U test (exact)" : "Mann-Whitney U test (normal approximation)",
      },
      opts.alpha,
    );
  });
}
