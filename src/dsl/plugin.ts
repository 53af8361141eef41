// The plugin interface and execution strategies, as types. Implementations live in src/plugins/.
import type { Context, Logger } from "./context.js";
import type { AnyExperiment } from "./experiment.js";
import type { Result } from "./result.js";
import type { RunInfo, TaskOutcome, TaskRef } from "./records.js";
import type { AnyStep } from "./step.js";

/**
 * Lifecycle hooks, in the order they run for one run:
 *  1. init(exp)                     once, when the run starts, before anything else
 *  2. beforeRun(run)                once; a throw rejects the run before any replicate
 *  per (condition, replicate) task, where the task runs (main thread or worker):
 *  3. beforeReplicate(ctx)          after the treatment is resolved, before the source is fetched
 *  4. beforeStep(step, ctx)         before each step (not called for cache hits' replay? it is: a hit is still a step)
 *  5. afterStep(step, output, ctx)  after each step, with its output
 *  6. afterReplicate(ctx, outcome)  after the task, with its outcome (also when it failed)
 *  7. afterRun(result)              once, with the final Result (also after failures and cancel)
 * A throw from hooks 3-6 fails that task (recorded in result.errors); from 1, 2 or 7 it rejects the run.
 * Hooks run in plugin order: built-in plugins first, then the experiment's, then run options'.
 */
export interface Plugin {
  readonly name: string;
  init?(exp: AnyExperiment): void;
  beforeRun?(run: RunInfo): void | Promise<void>;
  beforeReplicate?(ctx: Context<Readonly<Record<string, unknown>>, string>): void | Promise<void>;
  beforeStep?(step: AnyStep, ctx: Context<Readonly<Record<string, unknown>>, string>): void | Promise<void>;
  afterStep?(step: AnyStep, output: unknown, ctx: Context<Readonly<Record<string, unknown>>, string>): void | Promise<void>;
  afterReplicate?(ctx: Context<Readonly<Record<string, unknown>>, string>, outcome: TaskOutcome): void | Promise<void>;
  afterRun?(result: Result): void | Promise<void>;
}

/** What an execution strategy is handed: the tasks, and how to run and complete them. */
export interface ExecutionJob {
  readonly tasks: readonly TaskRef[];
  /** Runs one task in this thread and resolves to its outcome (never rejects for task failures). */
  runTask(task: TaskRef): Promise<TaskOutcome>;
  /** Hands a finished task back to the runner (persisted, counted for progress). */
  complete(outcome: TaskOutcome): Promise<void>;
  readonly signal: AbortSignal;
  readonly run: RunInfo;
  readonly experiment: AnyExperiment;
  /** Where the experiment can be imported from (module URL and export name), for workers. */
  readonly address?: ExperimentAddress;
  /** Run options that can be sent to a worker (plain data). */
  readonly settings: TaskSettings;
  /** The run's logger (worker strategies forward ctx.log from other threads to it). */
  readonly log?: Logger;
  /** The run's resolved plugins, in hook order (strategies check where hooks can run). */
  readonly plugins?: readonly Plugin[];
}

export interface ExperimentAddress {
  /** A file: URL (or absolute path) of an ES module. */
  readonly module: string;
  /** The name the experiment is exported under. */
  readonly export: string;
}

/** The run options that shape how a task runs; plain data so a worker can receive them. */
export interface TaskSettings {
  readonly seed: number;
  readonly perReplicateSeed: boolean;
  readonly replicates: number;
  readonly treatments: readonly string[];
  readonly cache: false | { readonly root: string; readonly onCorrupt: "throw" | "recompute" };
  readonly outDir: string;
  readonly stepHashes: Readonly<Record<string, StepHashInfo>>;
}

export interface StepHashInfo {
  readonly hash: string;
  /** Whether the step may call ctx.random() (from the compiler); true when unknown. */
  readonly usesRandom?: boolean;
}

/** What the compiler's manifest gives for one experiment (see src/runtime/manifest-lookup.ts). */
export interface CompiledHashes {
  /** By step name, as `run({ stepHashes })` takes them. */
  readonly stepHashes: Readonly<Record<string, StepHashInfo>>;
  /** The structural hash of the experiment's source (name and code), when the compiler followed it. */
  readonly sourceHash?: string;
}

export interface ExecutionStrategy {
  readonly kind: "execution";
  readonly name: string;
  execute(job: ExecutionJob): Promise<void>;
}
