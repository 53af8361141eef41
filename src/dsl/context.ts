// What a step, source or treatment function sees as `ctx`. The runtime implements these.
import type { Artifact } from "./artifact.js";
import type { Resource } from "./resource.js";

export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

export interface ArtifactWriter {
  /** Encodes `value` with the artifact's codec; stored by the artifacts plugin after the replicate. */
  write<T>(artifact: Artifact<T>, value: NoInfer<T>): void;
  /** By file name: JSON codec unless the experiment's `outputs` declares that name with another. */
  write(name: string, value: unknown): void;
}

/** What every context offers: who is running, seeded randomness, and the frozen key/value store. */
export interface BaseContext {
  /** Replicate index, 0-based. */
  readonly replicate: number;
  /** `"baseline"` or the treatment's name. */
  readonly condition: string;
  /** The replicate's seed (a pure function of the master seed and the replicate index). */
  readonly seed: number;
  /** A seeded stream in [0, 1), private to this replicate and this step (or source). */
  random(): number;
}

export interface Context<P = {}, M extends string = never> extends BaseContext {
  /** A value added earlier in this replicate (frozen: it cannot be mutated), or undefined. */
  get<T = unknown>(key: string): T | undefined;
  has(key: string): boolean;
  /** Adds a new key. The value is frozen. An existing key throws ContextMutationError. */
  add(key: string, value: unknown): void;
  /** Resolved params: the treatment's value where it sets one, else the step's default. */
  readonly params: Readonly<P>;
  /** Records a value of a declared metric. */
  record(metric: M, value: number): void;
  readonly artifacts: ArtifactWriter;
  readonly log: Logger;
  /** Aborted when the run is cancelled; pass it to long-running work. */
  readonly signal: AbortSignal;
  /** One instance of the resource per process or worker, created on first use. */
  use<T>(resource: Resource<T>): T;
}

/** What a source's fetch function receives: no params, no metrics. */
export type SourceContext = Context<{}, never>;

/** What a treatment function receives. */
export type TreatmentContext = BaseContext;
