// The Result of a run, assembled from task outcomes in a fixed order (replicate, then condition
// in declaration order), so it is the same whatever order tasks finished in. `toJSON()` holds only
// what seed, code and cache state determine; timings and ids live in `run`.
import type { AnyExperiment } from "../dsl/experiment.js";
import type { ArtifactRecord, ProvenanceRecord, RunInfo, TaskError, TaskOutcome } from "../dsl/records.js";
import type { HypothesisFailure, HypothesisReport, MetricsByCondition, Result, ResultJSON, RunMeta, TaskProvenance } from "../dsl/result.js";
import { CrystallizeError, HypothesisError } from "../errors.js";
import { evaluateHypotheses, isHypothesisFailure, type MetricSamples } from "./hypothesis-reports.js";

export interface ResultInput {
  readonly experiment: AnyExperiment;
  readonly info: RunInfo;
  /** Outcomes in canonical order. */
  readonly outcomes: readonly TaskOutcome[];
  readonly artifacts: readonly ArtifactRecord[];
  readonly meta: RunMeta;
}

export function declaredMetrics(exp: AnyExperiment): string[] {
  const names = new Set<string>();
  for (const s of exp.pipeline.steps) for (const m of s.metrics) names.add(m);
  return [...names].sort();
}

/** Per condition, per metric: values and the replicate each came from (successful tasks only). */
export function collectSamples(exp: AnyExperiment, info: RunInfo, outcomes: readonly TaskOutcome[]): Map<string, MetricSamples> {
  type Series = { values: number[]; replicates: number[] };
  const metrics = declaredMetrics(exp);
  const byCondition = new Map<string, Record<string, Series>>();
  for (const c of info.conditions) {
    const m: Record<string, Series> = {};
    for (const name of metrics) m[name] = { values: [], replicates: [] };
    byCondition.set(c, m);
  }
  for (const o of outcomes) {
    if (o.status !== "ok") continue;
    const m = byCondition.get(o.condition);
    if (!m) continue;
    for (const [name, values] of Object.entries(o.metrics)) {
      const slot = m[name] ?? (m[name] = { values: [], replicates: [] });
      for (const v of values) {
        slot.values.push(v);
        slot.replicates.push(o.replicate);
      }
    }
  }
  return byCondition;
}

export function buildResult(input: ResultInput): Result {
  const { experiment: exp, info, outcomes } = input;
  const samples = collectSamples(exp, info, outcomes);
  const valuesOf = (c: string) =>
    Object.freeze(
      Object.fromEntries(
        Object.entries(samples.get(c) ?? {})
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => [k, Object.freeze([...((v?.values ?? []) as number[])])]),
      ),
    );
  const metrics: MetricsByCondition = Object.freeze({
    baseline: valuesOf("baseline"),
    treatments: Object.freeze(Object.fromEntries(info.treatments.map((t) => [t, valuesOf(t)]))),
  });
  const hypotheses = evaluateHypotheses(exp.hypotheses, info, samples);
  const provenance: TaskProvenance[] = outcomes.map((o) =>
    Object.freeze({ condition: o.condition, replicate: o.replicate, steps: o.provenance }),
  );
  const errors: TaskError[] = outcomes.flatMap((o) => (o.error ? [o.error] : []));
  const artifacts = [...input.artifacts].sort(compareArtifacts);
  return new RunResult(exp.name, info, metrics, hypotheses, provenance, errors, artifacts, input.meta);
}

function compareArtifacts(a: ArtifactRecord, b: ArtifactRecord): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

class RunResult implements Result {
  readonly seed: number;
  readonly replicates: number;
  readonly conditions: readonly string[];

  constructor(
    readonly experiment: string,
    info: RunInfo,
    readonly metrics: MetricsByCondition,
    readonly hypotheses: readonly (HypothesisReport | HypothesisFailure)[],
    readonly provenance: readonly TaskProvenance[],
    readonly errors: readonly TaskError[],
    readonly artifacts: readonly ArtifactRecord[],
    readonly run: RunMeta,
  ) {
    this.seed = info.seed;
    this.replicates = info.replicates;
    this.conditions = info.conditions;
    Object.freeze(this.hypotheses);
    Object.freeze(this.provenance);
    Object.freeze(this.errors);
    Object.freeze(this.artifacts);
  }

  hypothesis(name: string): HypothesisReport {
    const found = this.hypotheses.find((h) => h.name === name);
    if (found && isHypothesisFailure(found)) throw new HypothesisError(name, found.error.message);
    if (!found) {
      throw new CrystallizeError(
        `No hypothesis "${name}" in the result of "${this.experiment}" (hypotheses: ${this.hypotheses.map((h) => h.name).join(", ") || "none"}).`,
      );
    }
    return found;
  }

  toJSON(): ResultJSON {
    return {
      experiment: this.experiment,
      seed: this.seed,
      replicates: this.replicates,
      conditions: this.conditions,
      metrics: this.metrics,
      hypotheses: this.hypotheses,
      provenance: this.provenance.map((p) => ({
        condition: p.condition,
        replicate: p.replicate,
        steps: p.steps.map(provenanceStepJSON),
      })),
      errors: this.errors.map((e) => ({
        condition: e.condition,
        replicate: e.replicate,
        ...(e.step === undefined ? {} : { step: e.step }),
        ...(e.phase === undefined ? {} : { phase: e.phase }),
        code: e.code,
        ...(e.name === undefined ? {} : { name: e.name }),
        ...(e.wrapperCode === undefined ? {} : { wrapperCode: e.wrapperCode }),
        message: e.message,
      })),
      artifacts: this.artifacts,
    };
  }
}

/**
 * A provenance record as toJSON() writes it: without durationMs (not determined by seed and
 * code). src/runtime/storage/run-store.ts writes the same text for its journal lines (recordText).
 */
export function provenanceStepJSON(s: ProvenanceRecord) {
  return {
    step: s.step,
    stepHash: s.stepHash,
    params: s.params,
    cacheHit: s.cacheHit,
    ...(s.inputHash === undefined ? {} : { inputHash: s.inputHash }),
    ...(s.outputHash === undefined ? {} : { outputHash: s.outputHash }),
    ctx: s.ctx,
    metrics: s.metrics,
  };
}
