// The runtime behind experiment.run() and experiment.apply(), installed into the DSL.
import type { Engine } from "../dsl/engine.js";
import { applyExperiment } from "./apply.js";
import { runExperiment, type RuntimeDefaults } from "./experiment-runner.js";

export function createEngine(defaults: RuntimeDefaults): Engine {
  return {
    run: (exp, options) => runExperiment(exp, options, defaults),
    apply: (exp, data, hasData, options) => applyExperiment(exp, data, hasData, options, defaults),
  };
}
