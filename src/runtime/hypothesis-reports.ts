// Turns collected metric samples into hypothesis reports for the Result.
import type { AnyHypothesis } from "../dsl/hypothesis.js";
import type { RunInfo } from "../dsl/records.js";
import type { HypothesisReport } from "../dsl/result.js";
import type { VerifierResult } from "../dsl/verifier.js";

/** Per metric: all values of successful replicates and the replicate each came from. */
export type MetricSamples = Record<string, { values: number[]; replicates: number[] }>;

export function evaluateHypotheses(
  hypotheses: readonly AnyHypothesis[],
  info: RunInfo,
  samples: ReadonlyMap<string, MetricSamples>,
): HypothesisReport[] {
  return hypotheses.map((h) => evaluateOne(h, info, samples));
}

function evaluateOne(h: AnyHypothesis, info: RunInfo, samples: ReadonlyMap<string, MetricSamples>): HypothesisReport {
  const baseline = samples.get("baseline") ?? {};
  const byMetric: Record<string, Record<string, VerifierResult>> = {};
  for (const metric of h.metrics) {
    const perTreatment: Record<string, VerifierResult> = {};
    for (const t of info.treatments) {
      const b = baseline[metric] ?? { values: [], replicates: [] };
      const s = samples.get(t)?.[metric] ?? { values: [], replicates: [] };
      perTreatment[t] = Object.freeze(
        h.test.test({
          treatment: s.values,
          baseline: b.values,
          replicates: { treatment: s.replicates, baseline: b.replicates },
        }),
      );
    }
    byMetric[metric] = Object.freeze(perTreatment);
  }
  const first = byMetric[h.metrics[0]!] ?? {};
  const rank = h.rank ?? ((r: VerifierResult) => r.pValue);
  const ranking = [...info.treatments].sort((a, b) => rank(first[a]!) - rank(first[b]!) || (a < b ? -1 : 1));
  return Object.freeze({
    name: h.name,
    metrics: h.metrics,
    results: first,
    byMetric: Object.freeze(byMetric),
    ranking: Object.freeze(ranking),
  });
}
