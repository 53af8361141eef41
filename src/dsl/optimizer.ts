// Optimizers, as types: an optimizer proposes treatments (`ask`), receives their objective values
// (`tell`) and reports the best so far (`best`). `experiment.optimize(optimizer, { trials,
// objective })` drives it; the built-in gridSearch and randomSearch live in the runtime
// (src/runtime/optimizers/), since they need a seeded generator.
import type { Json } from "./json.js";
import type { ExecutionStrategy, Plugin, StepHashInfo } from "./plugin.js";
import type { CacheOptions } from "./run-options.js";
import type { TaskError } from "./records.js";
import type { Treatment } from "./treatment.js";

export type Direction = "minimize" | "maximize";

export interface Objective<M extends string = string> {
  /** A metric some step declares; a trial's value is the mean of all its values over the replicates. */
  readonly metric: M;
  readonly direction: Direction;
}

/** What `tell()` receives for each proposed treatment. */
export interface Observation<V extends object = Record<string, Json>> {
  readonly treatment: Treatment<string, V>;
  /** The objective: mean of the metric over the trial's successful replicates; undefined when none succeeded. */
  readonly value: number | undefined;
  /**
   * The value oriented so that lower is always better: `value` when minimizing, `-value` when
   * maximizing, +Infinity when `value` is undefined. Optimizers compare scores, never values.
   */
  readonly score: number;
}

export interface Optimizer<V extends object = Record<string, Json>> {
  readonly kind: "optimizer";
  readonly name: string;
  /** How many treatments the optimizer will propose in all, when that is fixed (a grid's size). */
  readonly size?: number;
  /**
   * Proposes up to `count` treatments to try next (fewer is fine; an empty array means there is
   * nothing left to try). Names must be unique across the whole optimization.
   */
  ask(count: number): readonly Treatment<string, V>[];
  /** Receives the outcome of every treatment returned by the last `ask()`. */
  tell(observations: readonly Observation<V>[]): void;
  /** The best observation so far (lowest score; the earliest on a tie), or undefined. */
  best(): Observation<V> | undefined;
}

export type AnyOptimizer = Optimizer<object>;

/** The param values an optimizer's treatments set. */
export type SpaceOf<O> = O extends Optimizer<infer V extends object> ? V : never;

/** A search space sets a key that no step of the pipeline declares as a param. */
export interface UnknownSearchParam<Key, DeclaredParams> {
  readonly "the optimizer's search space sets a param that no step declares": {
    readonly unknownKey: Key;
    readonly declaredParams: DeclaredParams;
  };
}

/** A search space gives a declared param values of another type. */
export interface SearchValueMismatch<Key, Expected, Got> {
  readonly "the optimizer's search space gives a param values of the wrong type": {
    readonly key: Key;
    readonly expected: Expected;
    readonly got: Got;
  };
}

type BadKeys<V, P> = Exclude<keyof V, keyof P>;
type BadValues<V, P> = { [K in keyof V & keyof P]: V[K] extends P[K] ? never : K }[keyof V & keyof P];

/** The optimizer itself when its search space fits the params, else a readable error type. */
export type CheckOptimizer<O, P> =
  O extends Optimizer<infer V>
    ? [BadKeys<V, P>] extends [never]
      ? [BadValues<V, P>] extends [never]
        ? O
        : SearchValueMismatch<BadValues<V, P>, P[BadValues<V, P> & keyof P], V[BadValues<V, P> & keyof V]>
      : UnknownSearchParam<BadKeys<V, P>, keyof P>
    : O;

export interface OptimizeOptions<M extends string = string> {
  /** How many treatments to evaluate; default: the optimizer's `size` (required when it has none). */
  readonly trials?: number;
  readonly objective: Objective<M>;
  /** How many treatments to ask for per round (default: all remaining trials at once). */
  readonly batch?: number;
  /** Replicates per trial (and for the baseline); default: the experiment's. */
  readonly replicates?: number;
  readonly seed?: number;
  readonly execution?: ExecutionStrategy;
  readonly cache?: boolean | CacheOptions;
  readonly outDir?: string;
  readonly signal?: AbortSignal;
  readonly plugins?: readonly Plugin[];
  readonly stepHashes?: Readonly<Record<string, StepHashInfo>>;
  /** Called after each trial is evaluated. */
  readonly onTrial?: (trial: TrialRecord) => void;
}

export interface TrialRecord<V extends object = Record<string, Json>, M extends string = string> {
  /** 0-based position in the history. */
  readonly index: number;
  readonly treatment: Treatment<string, V>;
  /** The treatment's fixed values (undefined for a treatment computed per replicate). */
  readonly params: Readonly<V> | undefined;
  /** The objective (mean over replicates), or undefined when every replicate failed. */
  readonly value: number | undefined;
  readonly score: number;
  /** Every value of each declared metric, in replicate order. */
  readonly metrics: Readonly<Record<M, readonly number[]>>;
  readonly errors: readonly TaskError[];
}

export interface OptimizeResult<V extends object = Record<string, Json>, M extends string = string> {
  readonly experiment: string;
  readonly optimizer: string;
  readonly objective: Objective<M>;
  readonly replicates: number;
  readonly seed: number;
  /** The best trial by the objective's direction; undefined only when every trial failed. */
  readonly best: TrialRecord<V, M> | undefined;
  /** The baseline, run once (not once per trial). */
  readonly baseline: {
    readonly value: number | undefined;
    readonly metrics: Readonly<Record<M, readonly number[]>>;
    readonly errors: readonly TaskError[];
  };
  /** Every trial in the order it was proposed. */
  readonly history: readonly TrialRecord<V, M>[];
}
