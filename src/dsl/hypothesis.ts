// A hypothesis: a statistical test of each treatment against the baseline on named metrics.
import { ValidationError } from "../errors.js";
import { nameProblem } from "./names.js";
import type { Verifier, VerifierResult } from "./verifier.js";

export type Correction = "holm" | "bonferroni" | "benjamini-hochberg";

/**
 * What counts as better: the treatment raising the metric ("increase") or lowering it
 * ("decrease": losses, errors, latencies). Default: "decrease" for a verifier with
 * `alternative: "less"`, else "increase".
 */
export type HypothesisDirection = "increase" | "decrease";

export interface Hypothesis<N extends string = string, M extends string = string> {
  readonly kind: "hypothesis";
  readonly name: N;
  readonly metrics: readonly M[];
  readonly test: Verifier;
  /** Score of a treatment's result; lower is better. Default: the p-value. */
  readonly rank?: (result: VerifierResult) => number;
  /** Multiple-comparison correction across treatments. */
  readonly correction?: Correction;
  /** Which way is better (orders the ranking and labels treatments better/worse). */
  readonly direction?: HypothesisDirection;
}

export type AnyHypothesis = Hypothesis<string, string>;

export interface HypothesisOptions<M extends string> {
  readonly metric: M | readonly M[];
  readonly test: Verifier;
  readonly rank?: (result: VerifierResult) => number;
  readonly correction?: Correction;
  readonly direction?: HypothesisDirection;
}

const corrections: readonly Correction[] = ["holm", "bonferroni", "benjamini-hochberg"];

export function hypothesis<const N extends string, const M extends string>(
  name: N,
  options: HypothesisOptions<M>,
): Hypothesis<N, M> {
  const problems: string[] = [];
  const bad = nameProblem("hypothesis", name);
  if (bad) problems.push(bad);
  const metrics: readonly M[] = typeof options?.metric === "string" ? [options.metric as M] : [...((options?.metric ?? []) as readonly M[])];
  if (metrics.length === 0) problems.push("metric must name at least one metric");
  for (const m of metrics) if (typeof m !== "string" || m === "") problems.push(`metric names must be non-empty strings, got ${JSON.stringify(m)}`);
  if (new Set(metrics).size !== metrics.length) problems.push("a metric is named twice");
  if (options?.test?.kind !== "verifier") problems.push("test must be a verifier, e.g. welchTTest() from crystallize/stats");
  if (options?.rank !== undefined && typeof options.rank !== "function") problems.push("rank must be a function (result) => number");
  if (options?.correction !== undefined && !corrections.includes(options.correction)) {
    problems.push(`correction must be one of ${corrections.map((c) => `"${c}"`).join(", ")}, got ${JSON.stringify(options.correction)}`);
  }
  if (options?.direction !== undefined && options.direction !== "increase" && options.direction !== "decrease") {
    problems.push(`direction must be "increase" or "decrease", got ${JSON.stringify(options.direction)}`);
  }
  if (problems.length) throw new ValidationError(`hypothesis "${String(name)}"`, problems);
  const node: { -readonly [K in keyof Hypothesis<N, M>]: Hypothesis<N, M>[K] } = {
    kind: "hypothesis",
    name,
    metrics: Object.freeze(metrics),
    test: options.test,
  };
  if (options.rank) node.rank = options.rank;
  if (options.correction) node.correction = options.correction;
  if (options.direction) node.direction = options.direction;
  return Object.freeze(node);
}
