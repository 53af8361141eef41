// The seam between the pure DSL and the runtime: experiment methods (`run`, `apply`) delegate to
// an engine that the runtime installs when it is imported. The DSL never imports the runtime.
import { CrystallizeError } from "../errors.js";
import type { AnyExperiment } from "./experiment.js";
import type { Graph, GraphResult, GraphRunOptions } from "./graph.js";
import type { AnyOptimizer, OptimizeOptions, OptimizeResult } from "./optimizer.js";
import type { Result } from "./result.js";
import type { ApplyOptions, RunOptions } from "./run-options.js";

export interface Engine {
  run(experiment: AnyExperiment, options: RunOptions): Promise<Result>;
  apply(experiment: AnyExperiment, data: unknown, hasData: boolean, options: ApplyOptions): Promise<unknown>;
  /** Optional so that partial engines (a worker's) need not implement them. */
  runGraph?(graph: Graph, options: GraphRunOptions): Promise<GraphResult>;
  optimize?(experiment: AnyExperiment, optimizer: AnyOptimizer, options: OptimizeOptions): Promise<OptimizeResult<object>>;
}

let installed: Engine | undefined;

export function installEngine(engine: Engine): void {
  installed = engine;
}

export function requireEngine(): Engine {
  if (!installed) {
    throw new CrystallizeError(
      'The Crystallize runtime is not loaded. Import from "crystallize-ts" (which loads it) rather than from a DSL module.',
    );
  }
  return installed;
}

/** The installed engine's implementation of an optional feature, or a clear error. */
export function requireEngineFeature<K extends "runGraph" | "optimize">(feature: K): NonNullable<Engine[K]> {
  const engine = requireEngine();
  const fn = engine[feature];
  if (typeof fn !== "function") {
    throw new CrystallizeError(`The installed Crystallize runtime does not support ${feature}() here (for example inside a worker thread).`);
  }
  return fn.bind(engine) as NonNullable<Engine[K]>;
}
