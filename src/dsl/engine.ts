// The seam between the pure DSL and the runtime: experiment methods (`run`, `apply`) delegate to
// an engine that the runtime installs when it is imported. The DSL never imports the runtime.
import { CrystallizeError } from "../errors.js";
import type { AnyExperiment } from "./experiment.js";
import type { Result } from "./result.js";
import type { ApplyOptions, RunOptions } from "./run-options.js";

export interface Engine {
  run(experiment: AnyExperiment, options: RunOptions): Promise<Result>;
  apply(experiment: AnyExperiment, data: unknown, hasData: boolean, options: ApplyOptions): Promise<unknown>;
}

let installed: Engine | undefined;

export function installEngine(engine: Engine): void {
  installed = engine;
}

export function requireEngine(): Engine {
  if (!installed) {
    throw new CrystallizeError(
      'The Crystallize runtime is not loaded. Import from "crystallize" (which loads it) rather than from a DSL module.',
    );
  }
  return installed;
}
