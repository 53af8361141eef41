// The messages between the main thread (worker-pool.ts) and a worker (worker-entry.ts). Every
// message is plain data (structured clone); artifact bytes travel as transferred ArrayBuffers.
import type { TaskSettings } from "../../dsl/plugin.js";
import type { TaskOutcome } from "../../dsl/records.js";
import type { WireError } from "../../runtime/error-codec.js";

export const PROTOCOL_VERSION = 3;

/**
 * `workerData`: the module a worker imports when it starts (and the experiment the first run
 * wants, which a module that runs an experiment when imported must be running). A worker stays
 * bound to this module for its lifetime; warm workers serve later runs of any experiment it exports.
 */
export interface WorkerLoad {
  readonly protocol: typeof PROTOCOL_VERSION;
  /** file: URL of the module to import. */
  readonly module: string;
  /** The export holding the first run's experiment. */
  readonly exportName?: string;
  /** The first run's experiment. */
  readonly experiment: string;
}

/** Sent at the start of every run ("begin"): what a worker needs to find the experiment and build the same plan. */
export interface WorkerInit {
  readonly protocol: typeof PROTOCOL_VERSION;
  /** file: URL of the module to import. */
  readonly module: string;
  /** The export holding the experiment; absent: any export that is an experiment named `experiment`. */
  readonly exportName?: string;
  /** The experiment's name (checked against what the export holds). */
  readonly experiment: string;
  readonly settings: TaskSettings;
  /**
   * The treatments the main thread runs, when all are static values: a graph may run an
   * experiment with treatments inherited from upstream, which the module's export lacks.
   */
  readonly treatments?: readonly { readonly name: string; readonly values: Readonly<Record<string, unknown>> }[];
  /** `experimentShape()` of the experiment the main thread runs; the worker's must match. */
  readonly shape: Readonly<Record<string, string>>;
  /** The main thread's process.env at the start of the run (a warm worker adopts it). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The run's experiment has an input() source bound to producer runs (a graph, or a stored
   * producer): per alias, the producer's run as data. The worker binds the module's own input()
   * source to it and reads artifact bytes from the main thread ("read-artifact").
   */
  readonly inputs?: Readonly<Record<string, ProducerInfo>>;
  /** Why no compiled runner could be imported instead of `module`, for the error when importing it fails. */
  readonly noRunner?: string;
}

export interface ProducerInfo {
  readonly producer: string;
  readonly replicates: number;
  readonly conditions: readonly string[];
  readonly version?: number;
}

/** Main thread → worker. */
export type ToWorker =
  /** A run starts: build its plan, resources and cache; reply "ready" (or "load-failed"). */
  | { readonly type: "begin"; readonly init: WorkerInit }
  /** Run this (condition, replicate); `id` is echoed back. */
  | { readonly type: "task"; readonly id: number; readonly condition: string; readonly replicate: number }
  /** Abort the running task (ctx.signal), drop queued ones, close the run's resources, reply "closed". */
  | { readonly type: "cancel" }
  /** The answer to "read-artifact" `id`: the bytes (absent: no such artifact, `path` where it would be), or why reading failed. */
  | { readonly type: "artifact"; readonly id: number; readonly bytes?: Uint8Array; readonly path?: string; readonly error?: WireError }
  /** No more tasks: finish queued ones, close the run's resources, reply "closed"; then wait for the next "begin". */
  | { readonly type: "close" };

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Worker → main thread. */
export type FromWorker =
  /**
   * The run's plan is built. `reusable`: the worker may serve later runs (false when its module
   * ran an experiment as it was imported, so its exports never became available).
   */
  | { readonly type: "ready"; readonly reusable: boolean }
  /** The module could not be imported or holds no addressable experiment: nothing ran. */
  | { readonly type: "load-failed"; readonly error: WireError }
  /** A task finished (ok or failed: failures are data in the outcome). `ms`: time spent on it. */
  | { readonly type: "done"; readonly id: number; readonly outcome: TaskOutcome; readonly ms: number }
  /** ctx.log (and runtime messages) in the worker, for the main thread's logger. */
  | { readonly type: "log"; readonly level: LogLevel; readonly message: string; readonly details: readonly unknown[] }
  /** Something outside any task failed (an uncaught exception, a runtime bug): the run stops. */
  | { readonly type: "fatal"; readonly error: WireError }
  /** A bound input() source needs a producer's artifact bytes (answered by "artifact"). */
  | { readonly type: "read-artifact"; readonly id: number; readonly alias: string; readonly artifact: string; readonly condition: string; readonly replicate: number }
  /** Resources are closed; `errors` are closers that threw. */
  | { readonly type: "closed"; readonly errors: readonly WireError[] };
