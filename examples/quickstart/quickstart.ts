// The quickstart: does doubling the data raise its mean? A source of 100 seeded random numbers,
// a cacheable scaling step whose `factor` a treatment changes, a summary step that records
// metrics, and a Welch t-test of the treatment against the baseline over 20 replicates.
import { experiment, hypothesis, pipeline, source, step, treatment } from "crystallize-ts";
import { welchTTest } from "crystallize-ts/stats";

const numbers = source("numbers", (ctx) => Array.from({ length: 100 }, () => ctx.random()));

// Pure in its input and params, so it is safe to cache: a rerun with the same seed reuses it.
const scale = step("scale", { params: { factor: 1 }, cacheable: true }, (xs: number[], ctx) =>
  xs.map((x) => x * ctx.params.factor),
);

const summarize = step("summarize", { metrics: ["mean", "max"] }, (xs: number[], ctx) => {
  ctx.record("mean", xs.reduce((a, b) => a + b, 0) / xs.length);
  ctx.record("max", Math.max(...xs));
  return xs;
});

const doubled = treatment("doubled", { factor: 2 });

export const quickstart = experiment("quickstart", {
  source: numbers,
  pipeline: pipeline(scale, summarize),
  treatments: [doubled],
  hypotheses: [hypothesis("mean_up", { metric: "mean", test: welchTTest({ alpha: 0.05, alternative: "greater" }) })],
  replicates: 20,
  seed: 42,
});
