// An example experiment: does scaling the data raise its mean? Run it with
//   npx crystallize run example
import { experiment, hypothesis, pipeline, source, step, treatment } from "crystallize-ts";
import { welchTTest } from "crystallize-ts/stats";

/** Where each replicate's data comes from: 100 seeded random numbers. */
const numbers = source("numbers", (ctx) => Array.from({ length: 100 }, () => ctx.random()));

/** Multiplies every value by the `factor` param (1 unless a treatment sets it). */
const scale = step("scale", { params: { factor: 1 } }, (xs: number[], ctx) => xs.map((x) => x * ctx.params.factor));

/** Records the mean and the maximum; cacheable, so a re-run replays it from the cache. */
const summarize = step("summarize", { metrics: ["mean", "max"], cacheable: true }, (xs: number[], ctx) => {
  ctx.record("mean", xs.reduce((a, b) => a + b, 0) / xs.length);
  ctx.record("max", Math.max(...xs));
  return xs;
});

export const example = experiment("example", {
  source: numbers,
  pipeline: pipeline(scale, summarize),
  treatments: [treatment("doubled", { factor: 2 })],
  hypotheses: [hypothesis("mean_up", { metric: "mean", test: welchTTest({ alpha: 0.05 }) })],
  replicates: 10,
  seed: 42,
});
