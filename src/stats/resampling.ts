// Resampling tests on the difference of means (treatment minus baseline): a permutation test
// and a bootstrap confidence interval (percentile or BCa), both seeded and reproducible.
import type { Alternative, VerifierOptions } from "../dsl/verifier.js";
import { mean, sumAbs, sumOfSquares } from "./descriptive.js";
import { normalCdf, normalQuantile } from "./distributions.js";
import { cohensDUnchecked } from "./effect-size.js";
import { makeResult } from "./result.js";
import { createIndexStream, isSeed, type Seed } from "./rng.js";
import { checkSamples, describeValue } from "./samples.js";
import { defineVerifier, readOptions, throwIfProblems, type DefinedVerifier } from "./verifier.js";

// ---------------------------------------------------------------------------------------------
// Permutation test

export interface PermutationTestOptions extends VerifierOptions {
  /** Random permutations to draw (default 10 000). When the samples have at most this many
   * distinct splits, every split is enumerated instead and the p-value is exact. */
  readonly permutations?: number;
  /** Seed of the generator (default 0). Numbers and their decimal strings give the same stream. */
  readonly seed?: Seed;
}

export interface ResolvedPermutationOptions {
  readonly alpha: number;
  readonly alternative: Alternative;
  readonly permutations: number;
  readonly seed: Seed;
}

/** C(n, k), or Infinity once it exceeds `cap`. */
function binomialUpTo(n: number, k: number, cap: number): number {
  let c = 1;
  const kk = Math.min(k, n - k);
  for (let i = 1; i <= kk; i++) {
    c = (c * (n - kk + i)) / i;
    if (c > cap) return Number.POSITIVE_INFINITY;
  }
  return Math.round(c);
}

export interface PermutationCounts {
  /** Splits whose statistic is <= the observed one (within a rounding tolerance). */
  readonly atMost: number;
  /** Splits whose statistic is >= the observed one. */
  readonly atLeast: number;
  /** Splits examined. */
  readonly total: number;
  readonly exact: boolean;
}

/**
 * Counts splits of the pooled values whose difference of means is at most / at least the observed
 * one. Works on the sum of the smaller group (the difference of means is monotone in it): every
 * split when there are at most `permutations` of them, else `permutations` random splits drawn by a
 * partial Fisher–Yates shuffle (min(n1, n2) draws each).
 */
export function permutationCounts(
  treatment: readonly number[],
  baseline: readonly number[],
  permutations: number,
  seed: Seed,
): PermutationCounts {
  const n1 = treatment.length;
  const n = n1 + baseline.length;
  // Select the smaller group; if that is the baseline, a larger selected sum means a smaller
  // difference, so the two counts swap at the end.
  const selectBaseline = baseline.length < n1;
  const k = selectBaseline ? baseline.length : n1;
  const pool = new Float64Array(n);
  const first = selectBaseline ? baseline : treatment;
  const second = selectBaseline ? treatment : baseline;
  for (let i = 0; i < k; i++) pool[i] = first[i] as number;
  for (let i = k; i < n; i++) pool[i] = second[i - k] as number;
  let observed = 0;
  for (let i = 0; i < k; i++) observed += pool[i] as number;
  // Sums of the same values in another order differ by rounding: count those as ties.
  const tolerance = 4 * (k + 1) * Number.EPSILON * sumAbs(pool);
  const low = observed + tolerance;
  const high = observed - tolerance;
  let atMost = 0;
  let atLeast = 0;
  let total: number;
  const splits = binomialUpTo(n, k, permutations);
  const exact = splits <= permutations;
  if (exact) {
    // Enumerate every k-subset of the n positions in lexicographic order.
    total = splits;
    const idx = Int32Array.from({ length: k }, (_, i) => i);
    for (;;) {
      let s = 0;
      for (let i = 0; i < k; i++) s += pool[idx[i] as number] as number;
      if (s <= low) atMost++;
      if (s >= high) atLeast++;
      let i = k - 1;
      while (i >= 0 && (idx[i] as number) === n - k + i) i--;
      if (i < 0) break;
      idx[i] = (idx[i] as number) + 1;
      for (let j = i + 1; j < k; j++) idx[j] = (idx[j - 1] as number) + 1;
    }
  } else {
    total = permutations;
    const stream = createIndexStream(seed);
    for (let p = 0; p < permutations; p++) {
      const s = stream.shuffleSum(pool, k);
      if (s <= low) atMost++;
      if (s >= high) atLeast++;
    }
  }
  return selectBaseline
    ? { atMost: atLeast, atLeast: atMost, total, exact }
    : { atMost, atLeast, total, exact };
}

/**
 * p-value from permutation counts, as scipy's permutation_test: exact splits give count / total;
 * random ones (count + 1) / (total + 1), which keeps the test valid; two-sided is twice the smaller
 * tail, at most 1.
 */
export function permutationPValue(c: PermutationCounts, alternative: Alternative): number {
  const adjust = c.exact ? 0 : 1;
  const less = (c.atMost + adjust) / (c.total + adjust);
  const greater = (c.atLeast + adjust) / (c.total + adjust);
  if (alternative === "greater") return greater;
  if (alternative === "less") return less;
  return Math.min(1, 2 * Math.min(less, greater));
}

function isPositiveInteger(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0;
}

/**
 * Permutation test of the difference of means. statistic = mean(treatment) - mean(baseline);
 * effectSize = Cohen's d; no df or ci.
 */
export function permutationTest(options?: PermutationTestOptions): DefinedVerifier<ResolvedPermutationOptions> {
  const problems: string[] = [];
  const base = readOptions(options, ["permutations", "seed"], problems);
  const permutations = base.raw.permutations ?? 10_000;
  const seed = base.raw.seed ?? 0;
  if (!isPositiveInteger(permutations)) {
    problems.push(`option "permutations" must be a positive integer (got ${describeValue(permutations)})`);
  }
  if (!isSeed(seed)) problems.push(`option "seed" must be a finite number or a string (got ${describeValue(seed)})`);
  throwIfProblems("permutationTest", problems);
  const opts: ResolvedPermutationOptions = {
    alpha: base.alpha,
    alternative: base.alternative,
    permutations: permutations as number,
    seed: seed as Seed,
  };
  return defineVerifier("permutationTest", opts, opts, (samples) => {
    checkSamples("Permutation test", samples);
    const { treatment, baseline } = samples;
    const counts = permutationCounts(treatment, baseline, opts.permutations, opts.seed);
    return makeResult(
      {
        pValue: permutationPValue(counts, opts.alternative),
        statistic: mean(treatment) - mean(baseline),
        effectSize: cohensDUnchecked(treatment, baseline),
        method: counts.exact
          ? `Permutation test (exact, all ${counts.total} splits)`
          : `Permutation test (${counts.total} random permutations)`,
      },
      opts.alpha,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

export type BootstrapMethod = "percentile" | "bca";

export interface BootstrapOptions extends VerifierOptions {
  /** Bootstrap resamples (default 10 000). */
  readonly resamples?: number;
  /** Level of the two-sided interval (default 1 - alpha, that is 0.95). */
  readonly confidence?: number;
  /** "percentile" (default) or "bca" (bias-corrected and accelerated). */
  readonly method?: BootstrapMethod;
  /** Seed of the generator (default 0). */
  readonly seed?: Seed;
}

export interface ResolvedBootstrapOptions {
  readonly alpha: number;
  readonly alternative: Alternative;
  readonly resamples: number;
  readonly confidence: number;
  readonly method: BootstrapMethod;
  readonly seed: Seed;
}

/**
 * The bootstrap distribution of mean(treatment*) - mean(baseline*), each sample resampled with
 * replacement independently of the other, sorted ascending.
 */
export function bootstrapDistribution(
  treatment: readonly number[],
  baseline: readonly number[],
  resamples: number,
  seed: Seed,
): Float64Array {
  const stream = createIndexStream(seed);
  const x = Float64Array.from(treatment);
  const y = Float64Array.from(baseline);
  const n = x.length;
  const m = y.length;
  const out = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const sx = stream.sampleSum(x, n);
    const sy = stream.sampleSum(y, m);
    out[r] = sx / n - sy / m;
  }
  return out.sort();
}

/** numpy's default ("linear") percentile of sorted values, q in [0, 1]. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (Number.isNaN(q)) return Number.NaN;
  const last = sorted.length - 1;
  const h = Math.min(Math.max(q, 0), 1) * last;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, last);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (h - lo);
}

/** Fraction of values below `score`, ties counting half (scipy's "mean" percentile of score). */
function percentileOfScore(sorted: ArrayLike<number>, score: number): number {
  let below = 0;
  let atOrBelow = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i] as number;
    if (v < score) below++;
    if (v <= score) atOrBelow++;
  }
  return (below + atOrBelow) / (2 * sorted.length);
}

export interface BcaParameters {
  /** Bias correction z0 = Φ⁻¹(share of the bootstrap distribution below the estimate). */
  readonly z0: number;
  /** Acceleration, from the jackknife of each sample (Efron & Tibshirani 1993, eq. 15.36). */
  readonly acceleration: number;
}

/**
 * BCa parameters for the difference of means. Leaving out x_i moves the estimate so that the
 * jackknife influence U_i = (n - 1)(θ̄ - θ_(i)) is x_i - x̄ for the treatment and ȳ - y_i for the
 * baseline, so a = Σ_j Σ_i U³ / n_j³ / (6 (Σ_j Σ_i U² / n_j²)^(3/2)).
 */
export function bcaParameters(sorted: ArrayLike<number>, treatment: readonly number[], baseline: readonly number[]): BcaParameters {
  const observed = mean(treatment) - mean(baseline);
  const z0 = normalQuantile(percentileOfScore(sorted, observed));
  let num = 0;
  let den = 0;
  for (const [sample, sign] of [[treatment, 1], [baseline, -1]] as const) {
    const n = sample.length;
    const c = mean(sample);
    let cube = 0;
    for (const v of sample) {
      const u = sign * (v - c);
      cube += u * u * u;
    }
    num += cube / (n * n * n);
    den += sumOfSquares(sample, c) / (n * n);
  }
  return { z0, acceleration: num / (6 * den ** 1.5) };
}

/** Quantile levels of the BCa interval for a two-sided level `confidence`. */
export function bcaLevels(p: BcaParameters, confidence: number): readonly [number, number] {
  const za = normalQuantile((1 - confidence) / 2);
  const level = (z: number): number => {
    const w = p.z0 + z;
    return normalCdf(p.z0 + w / (1 - p.acceleration * w));
  };
  return [level(za), level(-za)];
}

/**
 * The nominal lower-tail level α whose BCa endpoint is the q-quantile of the bootstrap
 * distribution (the inverse of `bcaLevels`' map). Identity when z0 = a = 0.
 */
function bcaInverse(p: BcaParameters, q: number): number {
  if (q <= 0) return 0;
  if (q >= 1) return 1;
  const d = normalQuantile(q) - p.z0;
  const denominator = 1 + p.acceleration * d;
  if (Number.isNaN(denominator)) return Number.NaN; // no variance: BCa is undefined, as in scipy
  if (denominator <= 0) return d < 0 ? 0 : 1; // beyond the map's range: its limit
  return normalCdf(d / denominator - p.z0);
}

export interface BootstrapSummary {
  readonly ci: readonly [number, number];
  readonly pValue: number;
}

/**
 * Interval and p-value from a sorted bootstrap distribution. The p-value inverts the interval: it
 * is the smallest 1 - confidence at which the same kind of interval would exclude 0. With the
 * shares lo = (#{θ* <= 0} + 1) / (B + 1) and hi = (#{θ* >= 0} + 1) / (B + 1) (the +1 as in a
 * permutation test), "greater" gives lo, "less" gives hi and two-sided twice the smaller, at most 1;
 * for BCa the shares first go through the inverse of the BCa level map.
 */
export function summariseBootstrap(
  sorted: Float64Array,
  treatment: readonly number[],
  baseline: readonly number[],
  confidence: number,
  method: BootstrapMethod,
  alternative: Alternative,
): BootstrapSummary {
  const b = sorted.length;
  let atOrBelowZero = 0;
  let atOrAboveZero = 0;
  for (let i = 0; i < b; i++) {
    const v = sorted[i] as number;
    if (v <= 0) atOrBelowZero++;
    if (v >= 0) atOrAboveZero++;
  }
  let lo = (atOrBelowZero + 1) / (b + 1);
  let hi = (atOrAboveZero + 1) / (b + 1);
  let ci: readonly [number, number];
  if (method === "bca") {
    const params = bcaParameters(sorted, treatment, baseline);
    const [l1, l2] = bcaLevels(params, confidence);
    ci = [quantileSorted(sorted, l1), quantileSorted(sorted, l2)];
    lo = bcaInverse(params, lo);
    hi = 1 - bcaInverse(params, 1 - hi);
  } else {
    const tail = (1 - confidence) / 2;
    ci = [quantileSorted(sorted, tail), quantileSorted(sorted, 1 - tail)];
  }
  const pValue =
    alternative === "greater" ? lo : alternative === "less" ? hi : Math.min(1, 2 * Math.min(lo, hi));
  return { ci, pValue };
}

/**
 * Bootstrap confidence interval of mean(treatment) - mean(baseline). statistic = the observed
 * difference; ci = the `confidence` interval (percentile or BCa); effectSize = Cohen's d; pValue
 * from inverting the interval (see `summariseBootstrap`). alpha defaults to 1 - confidence.
 */
export function bootstrapCI(options?: BootstrapOptions): DefinedVerifier<ResolvedBootstrapOptions> {
  const problems: string[] = [];
  const raw = (options ?? {}) as Record<string, unknown>;
  const confidenceGiven = typeof raw.confidence === "number" && raw.confidence > 0 && raw.confidence < 1;
  const base = readOptions(options, ["resamples", "confidence", "method", "seed"], problems, {
    alpha: confidenceGiven ? 1 - (raw.confidence as number) : 0.05,
  });
  const resamples = base.raw.resamples ?? 10_000;
  const confidence = base.raw.confidence ?? 1 - base.alpha;
  const method = base.raw.method ?? "percentile";
  const seed = base.raw.seed ?? 0;
  if (!isPositiveInteger(resamples)) {
    problems.push(`option "resamples" must be a positive integer (got ${describeValue(resamples)})`);
  }
  if (typeof confidence !== "number" || !(confidence > 0 && confidence < 1)) {
    problems.push(`option "confidence" must be a number in (0, 1) (got ${describeValue(confidence)})`);
  }
  if (method !== "percentile" && method !== "bca") {
    problems.push(`option "method" must be "percentile" or "bca" (got ${describeValue(method)})`);
  }
  if (!isSeed(seed)) problems.push(`option "seed" must be a finite number or a string (got ${describeValue(seed)})`);
  throwIfProblems("bootstrapCI", problems);
  const opts: ResolvedBootstrapOptions = {
    alpha: base.alpha,
    alternative: base.alternative,
    resamples: resamples as number,
    confidence: confidence as number,
    method: method as BootstrapMethod,
    seed: seed as Seed,
  };
  const label = `Bootstrap CI (${opts.method === "bca" ? "BCa" : "percentile"}, ${opts.resamples} resamples)`;
  return defineVerifier("bootstrapCI", opts, opts, (samples) => {
    checkSamples("Bootstrap CI", samples);
    const { treatment, baseline } = samples;
    const sorted = bootstrapDistribution(treatment, baseline, opts.resamples, opts.seed);
    const summary = summariseBootstrap(sorted, treatment, baseline, opts.confidence, opts.method, opts.alternative);
    return makeResult(
      {
        pValue: summary.pValue,
        statistic: mean(treatment) - mean(baseline),
        effectSize: cohensDUnchecked(treatment, baseline),
        ci: summary.ci,
        method: label,
      },
      opts.alpha,
    );
  });
}
