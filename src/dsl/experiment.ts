// An experiment: a source, a pipeline, treatments, hypotheses and replicates, as one frozen node
// whose `run`/`apply` delegate to the runtime. `experiment.builder(name)` builds the same node
// step by step with the same checks.
import { ValidationError } from "../errors.js";
import type { Artifact } from "./artifact.js";
import type {
  CheckHypotheses,
  CheckNextStep,
  CheckTreatments,
  NameOf,
  Simplify,
  StepMetrics,
  StepOutput,
  StepParams,
} from "./checks.js";
import { requireEngine, requireEngineFeature } from "./engine.js";
import type { AnyHypothesis, Hypothesis } from "./hypothesis.js";
import type { AnyOptimizer, CheckOptimizer, OptimizeOptions, OptimizeResult, SpaceOf } from "./optimizer.js";
import type { Pipeline } from "./pipeline.js";
import type { ExecutionStrategy, Plugin } from "./plugin.js";
import type { Result } from "./result.js";
import type { ApplyOptions, RunOptions } from "./run-options.js";
import type { Source } from "./source.js";
import type { AnyStep } from "./step.js";
import type { AnyTreatment, Treatment } from "./treatment.js";
import { definitionProblems } from "./validate.js";
import { captureOrigin, withOrigin } from "./origin.js";

/** A reference to an artifact that an experiment outputs, usable by a downstream `input()`. */
export interface ArtifactRef<T> {
  readonly kind: "artifact-ref";
  readonly experiment: AnyExperiment;
  readonly artifact: Artifact<T>;
}

export interface Experiment<
  In = unknown,
  Out = unknown,
  P extends object = {},
  M extends string = string,
  T extends string = string,
  H extends string = string,
> {
  readonly kind: "experiment";
  readonly name: string;
  readonly source: Source<In> | undefined;
  readonly pipeline: Pipeline<In, Out, P, M>;
  readonly treatments: readonly Treatment<T, object>[];
  readonly hypotheses: readonly Hypothesis<H, M>[];
  readonly replicates: number;
  readonly seed: number | undefined;
  readonly plugins: readonly (Plugin | ExecutionStrategy)[];
  readonly outputs: readonly Artifact<unknown>[];
  /** Runs replicates × (baseline + treatments) and resolves to the Result. */
  run(options?: RunOptions<T>): Promise<Result<M, T, H>>;
  /** Production mode: exactly one replicate's semantics; resolves to the pipeline's final output. */
  apply(data?: In, options?: ApplyOptions<T>): Promise<Out>;
  /** Throws ValidationError listing every problem found. */
  validate(): void;
  /** A reference to one of this experiment's `outputs`, for a downstream experiment's `input()`. */
  output<A>(artifact: Artifact<A>): ArtifactRef<A>;
  /**
   * Searches params with an optimizer: the baseline runs once, each proposed treatment is a trial;
   * resolves to the best trial by the objective's direction, with the full history.
   */
  optimize<O extends AnyOptimizer>(
    optimizer: O & CheckOptimizer<O, P>,
    options: OptimizeOptions<M>,
  ): Promise<OptimizeResult<SpaceOf<O>, M>>;
}

export type AnyExperiment = Experiment<never, unknown, object, string, string, string>;

export interface ExperimentDefinition<In, Out, P extends object, M extends string, T extends readonly unknown[], H extends readonly unknown[]> {
  /** Where each replicate's data comes from. Its type must fit the first step. */
  readonly source?: Source<NoInfer<In>>;
  readonly pipeline: Pipeline<In, Out, P, M>;
  /** Each key must be a param some step declares, with a value of the param's type. */
  readonly treatments?: CheckTreatments<T, P>;
  /** Each metric must be declared by some step. */
  readonly hypotheses?: CheckHypotheses<H, M>;
  /** Default 1. */
  readonly replicates?: number;
  /** Master seed; default 0. */
  readonly seed?: number;
  readonly plugins?: readonly (Plugin | ExecutionStrategy)[];
  /** Artifacts this experiment writes; when given, writing any other is an error. */
  readonly outputs?: readonly Artifact<unknown>[];
}

function createExperiment(name: string, def: {
  source?: unknown;
  pipeline: unknown;
  treatments?: readonly unknown[];
  hypotheses?: readonly unknown[];
  replicates?: unknown;
  seed?: unknown;
  plugins?: readonly unknown[];
  outputs?: readonly unknown[];
}): AnyExperiment {
  const pipe = def?.pipeline as { kind?: unknown; steps?: readonly AnyStep[] } | undefined;
  const problems: string[] = [];
  if (pipe?.kind !== "pipeline") problems.push("pipeline must be a pipeline (create it with pipeline(step, ...))");
  const parts = {
    name,
    source: def?.source,
    steps: pipe?.steps ?? [],
    treatments: (def?.treatments ?? []) as readonly AnyTreatment[],
    hypotheses: (def?.hypotheses ?? []) as readonly AnyHypothesis[],
    replicates: def?.replicates ?? 1,
    seed: def?.seed,
    plugins: def?.plugins ?? [],
  };
  problems.push(...definitionProblems(parts));
  const outputs = (def?.outputs ?? []) as readonly Artifact<unknown>[];
  const outputNames = new Set<string>();
  for (const o of outputs) {
    if (o?.kind !== "artifact") problems.push("outputs must hold artifact() declarations");
    else if (outputNames.has(o.name)) problems.push(`output artifact "${o.name}" is declared twice`);
    else outputNames.add(o.name);
  }
  if (problems.length) throw new ValidationError(`experiment "${String(name)}"`, problems);

  // The defining module (a file: URL), so worker threads can import the experiment: see origin.ts.
  const origin = captureOrigin();
  const node: AnyExperiment = Object.freeze(withOrigin({
    kind: "experiment" as const,
    name,
    source: def.source as Source<never> | undefined,
    pipeline: pipe as Pipeline<never, unknown, object, string>,
    treatments: Object.freeze([...parts.treatments]),
    hypotheses: Object.freeze([...parts.hypotheses]),
    replicates: parts.replicates as number,
    seed: parts.seed as number | undefined,
    plugins: Object.freeze([...(parts.plugins as readonly Plugin[])]),
    outputs: Object.freeze([...outputs]),
    run(options?: RunOptions) {
      return requireEngine().run(node, options ?? {});
    },
    apply(...args: [data?: unknown, options?: ApplyOptions]) {
      return requireEngine().apply(node, args[0], args.length > 0 && args[0] !== undefined, args[1] ?? {});
    },
    validate() {
      const again = definitionProblems(parts);
      if (again.length) throw new ValidationError(`experiment "${name}"`, again);
    },
    output<A>(art: Artifact<A>): ArtifactRef<A> {
      if (!outputNames.has(art?.name)) {
        throw new ValidationError(`experiment "${name}"`, [
          `output("${String(art?.name)}") names an artifact the experiment does not list in outputs (outputs: ${[...outputNames].join(", ") || "none"})`,
        ]);
      }
      return Object.freeze({ kind: "artifact-ref" as const, experiment: node, artifact: art });
    },
    optimize(optimizer: AnyOptimizer, options: OptimizeOptions) {
      return requireEngineFeature("optimize")(node, optimizer, options);
    },
  }, origin)) as AnyExperiment;
  return node;
}

function experimentFn<
  In,
  Out,
  P extends object,
  M extends string,
  const T extends readonly AnyTreatment[] = [],
  const H extends readonly AnyHypothesis[] = [],
>(
  name: string,
  definition: ExperimentDefinition<In, Out, P, M, T, H>,
): Experiment<In, Out, P, M, NameOf<T[number]>, NameOf<H[number]>> {
  return createExperiment(name, definition) as unknown as Experiment<In, Out, P, M, NameOf<T[number]>, NameOf<H[number]>>;
}

/**
 * A fluent builder with the same checks as `experiment()`: each `.step()` is typed against the
 * previous output, treatments against the params so far, hypotheses against the metrics so far.
 */
export interface ExperimentBuilder<In, Cur, P extends object, M extends string, T extends string, H extends string> {
  source<S>(source: Source<S>): ExperimentBuilder<S, S, P, M, T, H>;
  step<S extends AnyStep>(
    step: CheckNextStep<Cur, S>,
  ): ExperimentBuilder<In, StepOutput<S>, Simplify<P & StepParams<S>>, M | StepMetrics<S>, T, H>;
  treatments<const TT extends readonly AnyTreatment[]>(
    treatments: CheckTreatments<TT, P>,
  ): ExperimentBuilder<In, Cur, P, M, T | NameOf<TT[number]>, H>;
  hypotheses<const HH extends readonly AnyHypothesis[]>(
    hypotheses: CheckHypotheses<HH, M>,
  ): ExperimentBuilder<In, Cur, P, M, T, H | NameOf<HH[number]>>;
  replicates(count: number): ExperimentBuilder<In, Cur, P, M, T, H>;
  seed(seed: number): ExperimentBuilder<In, Cur, P, M, T, H>;
  plugins(plugins: readonly (Plugin | ExecutionStrategy)[]): ExperimentBuilder<In, Cur, P, M, T, H>;
  outputs(artifacts: readonly Artifact<unknown>[]): ExperimentBuilder<In, Cur, P, M, T, H>;
  /** Validates and returns the experiment (throws ValidationError listing every problem). */
  build(): Experiment<In, Cur, P, M, T, H>;
}

interface BuilderState {
  source?: unknown;
  steps: readonly AnyStep[];
  treatments: readonly unknown[];
  hypotheses: readonly unknown[];
  replicates?: unknown;
  seed?: unknown;
  plugins?: readonly unknown[];
  outputs?: readonly unknown[];
}

function makeBuilder(name: string, state: BuilderState): ExperimentBuilder<unknown, unknown, {}, never, never, never> {
  const next = (patch: Partial<BuilderState>) => makeBuilder(name, { ...state, ...patch });
  const b = {
    source: (source: unknown) => next({ source }),
    step: (s: AnyStep) => next({ steps: [...state.steps, s] }),
    treatments: (ts: readonly unknown[]) => next({ treatments: [...state.treatments, ...ts] }),
    hypotheses: (hs: readonly unknown[]) => next({ hypotheses: [...state.hypotheses, ...hs] }),
    replicates: (replicates: number) => next({ replicates }),
    seed: (seed: number) => next({ seed }),
    plugins: (plugins: readonly unknown[]) => next({ plugins }),
    outputs: (outputs: readonly unknown[]) => next({ outputs }),
    build: () => {
      if (state.steps.length === 0) {
        throw new ValidationError(`experiment "${name}"`, ["the builder has no steps; add them with .step(...)"]);
      }
      const pipe = Object.freeze({ kind: "pipeline" as const, steps: Object.freeze([...state.steps]) });
      return createExperiment(name, { ...state, pipeline: pipe });
    },
  };
  return Object.freeze(b) as unknown as ExperimentBuilder<unknown, unknown, {}, never, never, never>;
}

function builder(name: string): ExperimentBuilder<unknown, unknown, {}, never, never, never> {
  return makeBuilder(name, { steps: [], treatments: [], hypotheses: [] });
}

export const experiment: typeof experimentFn & { builder: typeof builder } = Object.assign(experimentFn, { builder });
