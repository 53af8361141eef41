// Turns collected metric samples into hypothesis reports for the Result. A hypothesis that cannot
// be evaluated (too few values, a metric no replicate recorded, NaN) becomes a failure entry: the
// run and everything it stored stay intact, and `result.hypothesis(name)` throws the error.
import type { AnyHypothesis } from "../dsl/hypothesis.js";
import type { RunInfo } from "../dsl/records.js";
import type { HypothesisFailure, HypothesisReport } from "../dsl/result.js";
import { errorCode, errorMessage } from "../errors.js";
import { evaluateHypothesis, type MetricSamples } from "./hypotheses.js";

export type { MetricSamples } from "./hypotheses.js";

export function evaluateHypotheses(
  hypotheses: readonly AnyHypothesis[],
  info: RunInfo,
  samples: ReadonlyMap<string, MetricSamples>,
): (HypothesisReport | HypothesisFailure)[] {
  const data = {
    baseline: samples.get("baseline") ?? {},
    treatments: info.treatments.map((name) => ({ name, samples: samples.get(name) ?? {} })),
  };
  return hypotheses.map((h) => {
    try {
      return evaluateHypothesis(h, data);
    } catch (e) {
      return Object.freeze({
        name: h.name,
        metrics: h.metrics,
        error: Object.freeze({ code: errorCode(e), message: errorMessage(e) }),
      });
    }
  });
}

export function isHypothesisFailure(h: HypothesisReport | HypothesisFailure): h is HypothesisFailure {
  return "error" in h;
}
