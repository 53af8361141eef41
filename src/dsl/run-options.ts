// Options of `experiment.run()` and `experiment.apply()`.
import type { ExecutionStrategy, ExperimentAddress, Plugin, StepHashInfo } from "./plugin.js";

export interface CacheOptions {
  /** Cache directory; default `<outDir>/cache`. */
  readonly root?: string;
  /** What to do with a corrupt entry: throw CacheCorruptionError (default) or delete and recompute. */
  readonly onCorrupt?: "throw" | "recompute";
}

export interface Progress {
  readonly experiment: string;
  readonly done: number;
  readonly total: number;
  readonly failed: number;
  readonly elapsedMs: number;
}

export interface RunOptions<T extends string = string> {
  /** Overrides the experiment's replicate count. */
  readonly replicates?: number;
  /** Overrides the master seed. */
  readonly seed?: number;
  /** Runs only these treatments (the baseline always runs). */
  readonly treatments?: readonly T[];
  /** serial() (default), concurrent({ limit }) or parallel({ workers }). */
  readonly execution?: ExecutionStrategy;
  /** Step cache: on by default; false disables it. */
  readonly cache?: boolean | CacheOptions;
  /** Storage root; default ".crystallize". */
  readonly outDir?: string;
  /** Continue the latest stored version, skipping completed (condition, replicate) pairs. */
  readonly resume?: boolean;
  /** Cancels the run: rejects with CancelledError whose `partial` holds the Result so far. */
  readonly signal?: AbortSignal;
  /** Progress display: true/false, or a callback receiving progress after each task. */
  readonly progress?: boolean | ((progress: Progress) => void);
  /** Extra plugins for this run only (after the experiment's own). */
  readonly plugins?: readonly Plugin[];
  /** Structural step hashes from the compiler's manifest (by step name); replaces the runtime fallback. */
  readonly stepHashes?: Readonly<Record<string, StepHashInfo>>;
  /** Where the experiment can be imported from, for worker-based execution. */
  readonly address?: ExperimentAddress;
}

export interface ApplyOptions<T extends string = string> {
  /** Apply this treatment's values (default: the baseline). */
  readonly treatment?: T;
  /** The replicate whose seed and random streams to use (default 0). */
  readonly replicate?: number;
  readonly seed?: number;
  readonly cache?: boolean | CacheOptions;
  readonly outDir?: string;
  readonly signal?: AbortSignal;
  readonly stepHashes?: Readonly<Record<string, StepHashInfo>>;
}
