// The runtime behind experiment.run() and experiment.apply(), installed into the DSL.
import type { Engine } from "../dsl/engine.js";
import { isInputSource } from "../dsl/input.js";
import { applyExperiment } from "./apply.js";
import { runExperiment, type RuntimeDefaults } from "./experiment-runner.js";
import { runGraph } from "./graph-runner.js";
import { bindFromStorage } from "./input-resolver.js";
import { optimizeExperiment } from "./optimize.js";

export function createEngine(defaults: RuntimeDefaults): Engine {
  return {
    // An input() source outside a graph reads its producers' latest completed stored runs.
    run: (exp, options) =>
      isInputSource(exp?.source)
        ? bindFromStorage(exp, options, defaults).then((bound) => runExperiment(bound, options, defaults))
        : runExperiment(exp, options, defaults),
    apply: (exp, data, hasData, options) =>
      !hasData && isInputSource(exp?.source)
        ? bindFromStorage(exp, options, defaults).then((bound) => applyExperiment(bound, data, hasData, options, defaults))
        : applyExperiment(exp, data, hasData, options, defaults),
    runGraph: (graph, options) => runGraph(graph, options, defaults),
    optimize: (exp, optimizer, options) =>
      bindFromStorage(exp, options ?? {}, defaults).then((bound) => optimizeExperiment(bound, optimizer, options, defaults)),
  };
}
