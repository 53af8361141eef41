// Evaluating a hypothesis: each treatment against the baseline on each named metric, an optional
// multiple-comparison correction across treatments, and a ranking. A pure function of the
// hypothesis and the collected metric values: no I/O, deterministic, plain frozen JSON-able data.
//
// Shape of the outcome (keys in this order):
//   name, metrics           the hypothesis
//   test                    { name, alpha, alternative } of its verifier
//   direction               "increase" | "decrease": which way is better (hypothesis-ranking.ts)
//   correction              "holm" | "bonferroni" | "benjamini-hochberg" | null
//   results[treatment]      one VerifierResult per treatment (see "several metrics" below)
//   byMetric[m][treatment]  the verifier's result per metric and treatment (always present)
//   effects[treatment]      "better" | "worse" | "same" in that direction (observed mean difference)
//   scores[treatment]       the rank score (lower is better; NaN sorts last)
//   ranking                 treatment names, best first: by direction-aware tier, then score
//                           (see hypothesis-ranking.ts; ties keep treatment order)
//
// Several metrics: the hypothesis holds for a treatment when it holds on every metric, which is
// an intersection–union test (Berger 1982): its p-value is the largest p-value across metrics and
// it needs no further multiplicity correction. So results[treatment] is that combined result:
// pValue (and adjustedPValue) = the maximum across metrics, significant = significant on every
// metric, and statistic, effectSize, ci and df come from the binding metric (the one with the
// largest p-value, named in `method`). The score is the worst (largest) score across metrics,
// which for the default rank is the combined p-value. With one metric, results = byMetric[metric].
import { HypothesisError } from "../errors.js";
import type { Verifier, VerifierResult } from "../dsl/verifier.js";
import type { HypothesisReport } from "../dsl/result.js";
import { adjustPValues, CORRECTION_METHODS, type CorrectionMethod } from "../stats/corrections.js";
import { withAdjustedPValue } from "../stats/result.js";
import { describeValue } from "../stats/samples.js";
import type { HypothesisDirection } from "../dsl/hypothesis.js";
import type { HypothesisEffect } from "../dsl/result.js";
import { combinedEffect, directionOf, metricEffect, rankOrder } from "./hypothesis-ranking.js";

/** What `evaluateHypothesis` needs of a hypothesis node (the DSL's `Hypothesis` fits). */
export interface HypothesisSpec {
  readonly name: string;
  readonly metrics: readonly string[];
  readonly test: Verifier;
  /** Score of a result, lower is better. Default: the p-value. */
  readonly rank?: ((result: VerifierResult) => number) | undefined;
  readonly correction?: CorrectionMethod | undefined;
  /** Which way is better; default from the verifier's alternative ("less": decrease), else increase. */
  readonly direction?: HypothesisDirection | undefined;
}

/** All values of one metric in one condition, and the replicate index each came from. */
export interface MetricSeries {
  readonly values: readonly unknown[];
  readonly replicates: readonly number[];
}

/** Per metric name, the values a condition recorded. */
export type MetricSamples = Readonly<Record<string, MetricSeries | undefined>>;

export interface HypothesisData {
  readonly baseline: MetricSamples;
  /** In declaration order; results, scores and ties in the ranking follow it. */
  readonly treatments: ReadonlyArray<{ readonly name: string; readonly samples: MetricSamples }>;
}

/** The public report of a hypothesis (see dsl/result.ts), which this evaluator produces. */
export type HypothesisOutcome = HypothesisReport;

const defaultRank = (result: VerifierResult): number => result.pValue;

function conditionLabel(condition: string | null): string {
  return condition === null ? "the baseline" : `treatment ${JSON.stringify(condition)}`;
}

/** Frozen record from entries, safe for any key (including "__proto__"). */
function record<V>(entries: Iterable<readonly [string, V]>): Readonly<Record<string, V>> {
  return Object.freeze(Object.fromEntries(entries) as Record<string, V>);
}

function checkDefinition(def: HypothesisSpec): void {
  const problems: string[] = [];
  if (!Array.isArray(def.metrics) || def.metrics.length === 0) problems.push("it names no metric");
  if (def.test?.kind !== "verifier" || typeof def.test.test !== "function") {
    problems.push("its test is not a verifier (use e.g. welchTTest() from crystallize/stats)");
  }
  if (def.rank !== undefined && typeof def.rank !== "function") problems.push("its rank is not a function");
  if (def.direction !== undefined && def.direction !== "increase" && def.direction !== "decrease") {
    problems.push(`its direction ${describeValue(def.direction)} is not "increase" or "decrease"`);
  }
  if (def.correction !== undefined && !CORRECTION_METHODS.includes(def.correction)) {
    problems.push(`its correction ${describeValue(def.correction)} is not one of ${CORRECTION_METHODS.join(", ")}`);
  }
  if (problems.length > 0) {
    throw new HypothesisError(def.name, `Hypothesis ${JSON.stringify(def.name)} is malformed: ${problems.join("; ")}.`);
  }
}

/** Checks one metric series; returns its values as numbers, or records problems. */
function readSeries(
  metric: string,
  condition: string | null,
  series: MetricSeries | undefined,
  problems: string[],
): { values: number[]; replicates: number[] } | undefined {
  const where = `metric ${JSON.stringify(metric)} in ${conditionLabel(condition)}`;
  if (series === undefined || series === null || !Array.isArray(series.values) || series.values.length === 0) {
    problems.push(
      `metric ${JSON.stringify(metric)} was not recorded by any replicate of ${conditionLabel(condition)}`,
    );
    return undefined;
  }
  const { values, replicates } = series;
  const before = problems.length;
  if (!Array.isArray(replicates) || replicates.length !== values.length) {
    problems.push(
      `${where} has ${values.length} values but ${Array.isArray(replicates) ? replicates.length : "no"} replicate indices`,
    );
  }
  const bad: string[] = [];
  values.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      const rep = Array.isArray(replicates) && replicates[i] !== undefined ? `replicate ${replicates[i]}` : `value ${i}`;
      bad.push(`${describeValue(v)} (${rep})`);
    }
  });
  if (bad.length > 0) {
    const shown = bad.length > 5 ? [...bad.slice(0, 5), `and ${bad.length - 5} more`] : bad;
    problems.push(`${where} has ${bad.length === 1 ? "a value that is" : "values that are"} not a finite number: ${shown.join(", ")}`);
  }
  if (values.length < 2) {
    problems.push(`${where} has 1 value; a test needs at least 2 (run 2 or more replicates)`);
  }
  if (problems.length > before) return undefined;
  return { values: values as number[], replicates: [...(replicates as number[])] };
}

function runTest(
  def: HypothesisSpec,
  metric: string,
  treatment: string,
  t: { values: number[]; replicates: number[] },
  b: { values: number[]; replicates: number[] },
): VerifierResult {
  let result: VerifierResult;
  try {
    result = def.test.test({
      treatment: Object.freeze([...t.values]),
      baseline: Object.freeze([...b.values]),
      replicates: Object.freeze({
        treatment: Object.freeze([...t.replicates]),
        baseline: Object.freeze([...b.replicates]),
      }),
    });
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const error = new HypothesisError(
      def.name,
      `Hypothesis ${JSON.stringify(def.name)}: ${def.test.name} failed on metric ${JSON.stringify(metric)} ` +
        `for treatment ${JSON.stringify(treatment)} against the baseline: ${why}`,
    );
    Object.defineProperty(error, "cause", { value: cause, configurable: true, writable: true });
    throw error;
  }
  if (result === null || typeof result !== "object" || typeof result.pValue !== "number") {
    throw new HypothesisError(
      def.name,
      `Hypothesis ${JSON.stringify(def.name)}: ${def.test.name} returned no numeric pValue on metric ` +
        `${JSON.stringify(metric)} for treatment ${JSON.stringify(treatment)} (got ${describeValue(result)}).`,
    );
  }
  return Object.isFrozen(result) ? result : Object.freeze({ ...result });
}

/** The intersection–union combination of one treatment's per-metric results (see the header). */
function combine(metrics: readonly string[], results: readonly VerifierResult[]): VerifierResult {
  const decisive = (r: VerifierResult): number => r.adjustedPValue ?? r.pValue;
  let binding = 0;
  for (let i = 0; i < results.length; i++) {
    const d = decisive(results[i] as VerifierResult);
    if (Number.isNaN(d)) {
      binding = i;
      break;
    }
    if (d > decisive(results[binding] as VerifierResult)) binding = i;
  }
  const maxOf = (values: number[]): number => (values.some(Number.isNaN) ? Number.NaN : Math.max(...values));
  const b = results[binding] as VerifierResult;
  const corrected = results.some((r) => r.adjustedPValue !== undefined);
  const combined: VerifierResult = {
    pValue: maxOf(results.map((r) => r.pValue)),
    statistic: b.statistic,
    significant: results.every((r) => r.significant),
    effectSize: b.effectSize,
    ...(b.ci !== undefined ? { ci: b.ci } : {}),
    ...(b.df !== undefined ? { df: b.df } : {}),
    method: `${b.method}; intersection-union test over ${metrics.map((m) => JSON.stringify(m)).join(", ")} (binding metric: ${JSON.stringify(metrics[binding])})`,
    ...(corrected ? { adjustedPValue: maxOf(results.map(decisive)) } : {}),
  };
  return Object.freeze(combined);
}

/**
 * Evaluates one hypothesis: the verifier on every (metric, treatment) pair, treatment values as the
 * first sample and baseline values as the second, with replicate indices for paired tests; then
 * the correction across treatments per metric (setting adjustedPValue; significant uses it), the
 * combined result per treatment, the scores and the ranking.
 *
 * Throws HypothesisError naming the hypothesis, the metric and the condition when a metric was not
 * recorded, has fewer than two values, or holds something other than finite numbers (every such
 * problem is listed), and when the verifier or the rank function fails.
 */
export function evaluateHypothesis(def: HypothesisSpec, data: HypothesisData): HypothesisOutcome {
  checkDefinition(def);
  const names = data.treatments.map((t) => t.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) {
    throw new HypothesisError(def.name, `Hypothesis ${JSON.stringify(def.name)}: treatment ${JSON.stringify(duplicate)} is listed twice.`);
  }

  // Read and check every series first, so that one error lists every problem.
  const problems: string[] = [];
  const series = new Map<string, { baseline: ReturnType<typeof readSeries>; treatments: ReturnType<typeof readSeries>[] }>();
  if (names.length > 0) {
    for (const metric of def.metrics) {
      series.set(metric, {
        baseline: readSeries(metric, null, data.baseline?.[metric], problems),
        treatments: data.treatments.map((t) => readSeries(metric, t.name, t.samples?.[metric], problems)),
      });
    }
  }
  if (problems.length > 0) {
    throw new HypothesisError(
      def.name,
      `Hypothesis ${JSON.stringify(def.name)} cannot be evaluated:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }

  const alpha = def.test.alpha;
  const byMetric = new Map<string, VerifierResult[]>();
  for (const metric of def.metrics) {
    const s = series.get(metric);
    if (s === undefined) {
      byMetric.set(metric, []);
      continue;
    }
    const baseline = s.baseline as { values: number[]; replicates: number[] };
    let results = s.treatments.map((t, i) =>
      runTest(def, metric, names[i] as string, t as { values: number[]; replicates: number[] }, baseline),
    );
    if (def.correction !== undefined && results.length > 0) {
      const adjusted = adjustPValues(def.correction, results.map((r) => r.pValue), alpha).adjusted;
      results = results.map((r, i) => withAdjustedPValue(r, adjusted[i] as number, alpha));
    }
    byMetric.set(metric, results);
  }

  const combined = names.map((_, i) => {
    const perMetric = def.metrics.map((m) => (byMetric.get(m) as VerifierResult[])[i] as VerifierResult);
    return perMetric.length === 1 ? (perMetric[0] as VerifierResult) : combine(def.metrics, perMetric);
  });

  const rank = def.rank ?? defaultRank;
  const scores = names.map((name, i) => {
    let worst = Number.NEGATIVE_INFINITY;
    for (const metric of def.metrics) {
      const result = (byMetric.get(metric) as VerifierResult[])[i] as VerifierResult;
      let score: unknown;
      try {
        score = rank(result);
      } catch (cause) {
        const why = cause instanceof Error ? cause.message : String(cause);
        const error = new HypothesisError(
          def.name,
          `Hypothesis ${JSON.stringify(def.name)}: rank failed on metric ${JSON.stringify(metric)} for treatment ${JSON.stringify(name)}: ${why}`,
        );
        Object.defineProperty(error, "cause", { value: cause, configurable: true, writable: true });
        throw error;
      }
      if (typeof score !== "number") {
        throw new HypothesisError(
          def.name,
          `Hypothesis ${JSON.stringify(def.name)}: rank must return a number, got ${describeValue(score)} on metric ${JSON.stringify(metric)} for treatment ${JSON.stringify(name)}.`,
        );
      }
      worst = Number.isNaN(score) || Number.isNaN(worst) ? Number.NaN : Math.max(worst, score);
    }
    return worst;
  });

  const direction = directionOf(def.direction, def.test.alternative);
  const perMetricEffects = names.map((_, i) =>
    def.metrics.map((metric) => {
      const s = series.get(metric) as { baseline: { values: number[] }; treatments: { values: number[] }[] };
      return metricEffect(direction, (s.treatments[i] as { values: number[] }).values, s.baseline.values);
    }),
  );
  const effects: HypothesisEffect[] = perMetricEffects.map(combinedEffect);
  const order = rankOrder(
    names.map((_, i) => ({
      effect: effects[i] as HypothesisEffect,
      result: combined[i] as VerifierResult,
      perMetric: def.metrics.map((m, k) => ({
        result: (byMetric.get(m) as VerifierResult[])[i] as VerifierResult,
        effect: (perMetricEffects[i] as HypothesisEffect[])[k] as HypothesisEffect,
      })),
      score: scores[i] as number,
    })),
    def.rank === undefined ? { custom: false, alternative: def.test.alternative, direction } : { custom: true },
  );

  return Object.freeze({
    name: def.name,
    metrics: Object.freeze([...def.metrics]),
    test: Object.freeze({ name: def.test.name, alpha, alternative: def.test.alternative }),
    direction,
    correction: def.correction ?? null,
    results: record(names.map((n, i) => [n, combined[i] as VerifierResult] as const)),
    byMetric: record(
      def.metrics.map((m) => [m, record(names.map((n, i) => [n, (byMetric.get(m) as VerifierResult[])[i] as VerifierResult] as const))] as const),
    ),
    effects: record(names.map((n, i) => [n, effects[i] as HypothesisEffect] as const)),
    scores: record(names.map((n, i) => [n, scores[i] as number] as const)),
    ranking: Object.freeze(order.map((i) => names[i] as string)),
  });
}
