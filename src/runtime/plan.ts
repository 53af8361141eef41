// A run plan: everything about an experiment that does not change from task to task, computed
// once per run (resolved params per condition, declared metrics, step hashes, hook lists), so
// the per-step hot path does no lookups it can avoid.
import type { Artifact } from "../dsl/artifact.js";
import type { AnyExperiment } from "../dsl/experiment.js";
import type { Plugin, StepHashInfo, TaskSettings } from "../dsl/plugin.js";
import { declaresMetric, type AnyStep } from "../dsl/step.js";
import type { AnyTreatment } from "../dsl/treatment.js";
import type { StepCache } from "./services.js";
import { stepHashOf } from "./step-hash.js";

/** The declared metrics of a step that also records run-time names (`metricSuffixes`). */
class OpenMetrics extends Set<string> {
  constructor(private readonly step: AnyStep) {
    super(step.metrics);
  }
  override has(name: string): boolean {
    return declaresMetric(this.step, name);
  }
}

export interface StepPlan {
  readonly step: AnyStep;
  readonly hash: StepHashInfo;
  readonly metrics: ReadonlySet<string>;
  readonly paramKeys: readonly string[];
}

export interface RunPlan {
  readonly experiment: AnyExperiment;
  readonly steps: readonly StepPlan[];
  /** Treatments by name (only those that run). */
  readonly treatments: ReadonlyMap<string, AnyTreatment>;
  /** Params every step sees per static condition; functional treatments resolve per task. */
  readonly staticParams: ReadonlyMap<string, readonly Readonly<Record<string, unknown>>[]>;
  readonly declaredParams: ReadonlySet<string>;
  readonly plugins: readonly Plugin[];
  readonly beforeReplicate: readonly Plugin[];
  readonly beforeStep: readonly Plugin[];
  readonly afterStep: readonly Plugin[];
  readonly afterReplicate: readonly Plugin[];
  readonly settings: TaskSettings;
  readonly cache: StepCache | undefined;
  readonly outputs: ReadonlyMap<string, Artifact<unknown>> | undefined;
}

export function createPlan(
  experiment: AnyExperiment,
  plugins: readonly Plugin[],
  settings: TaskSettings,
  cache: StepCache | undefined,
): RunPlan {
  const steps = experiment.pipeline.steps.map((step) => ({
    step,
    hash: stepHashOf(step, settings.stepHashes),
    metrics: step.metricSuffixes?.length ? new OpenMetrics(step) : new Set(step.metrics),
    paramKeys: Object.keys(step.params),
  }));
  const declaredParams = new Set(steps.flatMap((s) => s.paramKeys));
  const treatments = new Map<string, AnyTreatment>();
  for (const t of experiment.treatments) if (settings.treatments.includes(t.name)) treatments.set(t.name, t);
  const staticParams = new Map<string, readonly Readonly<Record<string, unknown>>[]>();
  staticParams.set("baseline", steps.map((s) => s.step.params as Readonly<Record<string, unknown>>));
  for (const t of treatments.values()) {
    if (t.values) staticParams.set(t.name, resolveParams(steps, t.values as Readonly<Record<string, unknown>>));
  }
  const outputs = experiment.outputs.length
    ? new Map(experiment.outputs.map((a) => [a.name, a] as const))
    : undefined;
  return {
    experiment,
    steps,
    treatments,
    staticParams,
    declaredParams,
    plugins,
    beforeReplicate: plugins.filter((p) => typeof p.beforeReplicate === "function"),
    beforeStep: plugins.filter((p) => typeof p.beforeStep === "function"),
    afterStep: plugins.filter((p) => typeof p.afterStep === "function"),
    afterReplicate: plugins.filter((p) => typeof p.afterReplicate === "function"),
    settings,
    cache,
    outputs,
  };
}

/** Each step's params with the treatment's values over the step's defaults (shared when untouched). */
export function resolveParams(
  steps: readonly StepPlan[],
  values: Readonly<Record<string, unknown>>,
): readonly Readonly<Record<string, unknown>>[] {
  return steps.map((s) => {
    const defaults = s.step.params as Readonly<Record<string, unknown>>;
    let merged: Record<string, unknown> | undefined;
    for (const key of s.paramKeys) {
      if (Object.prototype.hasOwnProperty.call(values, key)) {
        merged ??= { ...defaults };
        merged[key] = values[key];
      }
    }
    return merged ? Object.freeze(merged) : defaults;
  });
}
