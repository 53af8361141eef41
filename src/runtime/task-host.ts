// Runs (condition, replicate) tasks of one experiment outside the experiment runner: in a worker
// thread. It builds the same plan the main thread built from the same plain settings (seeds are
// pure, so the outcomes are the same), keeps one resource pool for the run (a warm worker builds a
// new host for every run it serves), and runs each task exactly as the runner's own `runTask` does.
import type { Logger } from "../dsl/context.js";
import type { AnyExperiment } from "../dsl/experiment.js";
import type { Plugin, TaskSettings } from "../dsl/plugin.js";
import type { TaskOutcome, TaskRef } from "../dsl/records.js";
import { createPlan } from "./plan.js";
import { Resources } from "./resources.js";
import type { StepCache } from "./services.js";
import { runTask } from "./task-runner.js";

export interface TaskHost {
  /** Runs one task; failures are data in the outcome (never a rejection). */
  run(task: TaskRef): Promise<TaskOutcome>;
  /** Aborts `ctx.signal` of the running task and of any later one. */
  abort(reason?: unknown): void;
  readonly signal: AbortSignal;
  /** Closes every resource instance created in this host; resolves to the closers' errors. */
  close(): Promise<unknown[]>;
}

export interface TaskHostOptions {
  readonly log: Logger;
  /** The step cache (the same kind the main thread uses), or undefined when caching is off. */
  readonly cache?: StepCache | undefined;
  /** Plugins whose per-replicate hooks run here; default: the experiment's own (`hostPlugins`). */
  readonly plugins?: readonly Plugin[];
}

/**
 * The plugins a worker can reach: those in the experiment's definition (imported with its
 * module). Execution strategies are not plugins and are left out.
 */
export function hostPlugins(exp: AnyExperiment): Plugin[] {
  return exp.plugins.filter((p) => (p as { kind?: unknown }).kind !== "execution") as Plugin[];
}

/**
 * What must agree between the experiment the main thread runs and the one a worker imported:
 * source (and whether it is an unbound input() source), steps with their params and metrics,
 * treatments with their values, outputs. A runtime-derived copy (an input() source bound to
 * producer runs, treatments inherited in a graph) differs from the module's export, and a worker
 * must not silently run something else.
 */
export function experimentShape(exp: AnyExperiment): Record<string, string> {
  const source = exp.source as { name?: unknown; inputs?: unknown } | undefined;
  return {
    source: JSON.stringify(source ? { name: source.name, input: Array.isArray(source.inputs) } : null),
    steps: JSON.stringify(exp.pipeline.steps.map((s) => [s.name, s.params, s.metrics, s.cacheable])),
    treatments: JSON.stringify(exp.treatments.map((t) => [t.name, t.values ?? null, typeof t.compute])),
    outputs: JSON.stringify(exp.outputs.map((o) => o.name)),
  };
}

export function createTaskHost(exp: AnyExperiment, settings: TaskSettings, options: TaskHostOptions): TaskHost {
  const plan = createPlan(exp, options.plugins ?? hostPlugins(exp), settings, options.cache);
  const controller = new AbortController();
  const resources = new Resources();
  const env = { plan, signal: controller.signal, log: options.log, resources };
  return {
    run: async (task) => (await runTask(env, task)).outcome,
    abort: (reason) => controller.abort(reason),
    signal: controller.signal,
    close: () => resources.close(),
  };
}
