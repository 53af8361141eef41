// The public shape of a run's result. The runtime implements it (src/runtime/result.ts).
import type { ArtifactRecord, ProvenanceRecord, TaskError } from "./records.js";
import type { Alternative, VerifierResult } from "./verifier.js";
import type { Correction, HypothesisDirection } from "./hypothesis.js";

/** A treatment against the baseline, read in the hypothesis' direction (observed mean difference). */
export type HypothesisEffect = "better" | "worse" | "same";

export interface MetricsByCondition<M extends string = string, T extends string = string> {
  readonly baseline: Readonly<Record<M, readonly number[]>>;
  readonly treatments: Readonly<Record<T, Readonly<Record<M, readonly number[]>>>>;
}

export interface HypothesisReport<T extends string = string> {
  readonly name: string;
  readonly metrics: readonly string[];
  /** The verifier that ran: its name, alpha and alternative. */
  readonly test: { readonly name: string; readonly alpha: number; readonly alternative: Alternative };
  /** Which way is better: as declared, else "decrease" for `alternative: "less"`, else "increase". */
  readonly direction: HypothesisDirection;
  readonly correction: Correction | null;
  /**
   * The result per treatment. With one metric, the test's result; with several, the combined
   * intersection-union result (largest p-value across metrics; significant on every metric).
   */
  readonly results: Readonly<Record<T, VerifierResult>>;
  /** Results per metric, then per treatment. */
  readonly byMetric: Readonly<Record<string, Readonly<Record<T, VerifierResult>>>>;
  /**
   * Per treatment: "better" or "worse" than the baseline in the hypothesis' direction (worse on
   * any metric is worse), or "same"; whether it is significant is in `results`.
   */
  readonly effects: Readonly<Record<T, HypothesisEffect>>;
  /** The rank score per treatment (lower is better). */
  readonly scores: Readonly<Record<T, number>>;
  /**
   * Treatment names, best first: significantly better, better, same or not significantly worse,
   * significantly worse; by score (`rank`, default p-value) within each group.
   */
  readonly ranking: readonly T[];
}

/** A hypothesis that could not be evaluated (too few values, a metric never recorded, ...). */
export interface HypothesisFailure {
  readonly name: string;
  readonly metrics: readonly string[];
  readonly error: { readonly code: string; readonly message: string };
}

export interface TaskProvenance {
  readonly condition: string;
  readonly replicate: number;
  readonly steps: readonly ProvenanceRecord[];
}

/** Facts about how the run went that the seed and code do not determine: not in toJSON(). */
export interface RunMeta {
  readonly id: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly strategy: string;
  readonly status: "completed" | "cancelled";
  /** The artifact version directory written, when the artifacts plugin ran. */
  readonly version?: number;
  /** Tasks skipped because a resumed version already had them. */
  readonly resumedTasks: number;
}

export interface Result<M extends string = string, T extends string = string, H extends string = string> {
  readonly experiment: string;
  readonly seed: number;
  readonly replicates: number;
  /** "baseline" then the treatments that ran, in declaration order. */
  readonly conditions: readonly string[];
  /** All values of each metric, per condition, in replicate order. */
  readonly metrics: MetricsByCondition<M, T>;
  /** Every hypothesis's report, or its failure when it could not be evaluated. */
  readonly hypotheses: readonly (HypothesisReport<T> | HypothesisFailure)[];
  /** The report of one hypothesis; throws its HypothesisError when it could not be evaluated. */
  hypothesis(name: H): HypothesisReport<T>;
  /** Per condition and replicate: a record per step. */
  readonly provenance: readonly TaskProvenance[];
  readonly errors: readonly TaskError[];
  readonly artifacts: readonly ArtifactRecord[];
  readonly run: RunMeta;
  /** Plain JSON with a stable key order; byte-identical for the same seed, code and cache state. */
  toJSON(): ResultJSON;
}

export interface ResultJSON {
  readonly experiment: string;
  readonly seed: number;
  readonly replicates: number;
  readonly conditions: readonly string[];
  readonly metrics: MetricsByCondition;
  readonly hypotheses: readonly (HypothesisReport | HypothesisFailure)[];
  readonly provenance: readonly {
    readonly condition: string;
    readonly replicate: number;
    readonly steps: readonly Omit<ProvenanceRecord, "durationMs">[];
  }[];
  readonly errors: readonly Omit<TaskError, "stack">[];
  readonly artifacts: readonly ArtifactRecord[];
}
