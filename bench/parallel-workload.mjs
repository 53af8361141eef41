// Experiments for bench/parallel.bench.mjs. They live in their own module (exported at the top
// level) so that parallel() workers can import them; the bench sets BENCH_ITERATIONS first.
import { experiment, pipeline, source, step } from "../dist/index.js";

const iterations = Number(process.env.BENCH_ITERATIONS ?? 2_000_000);

/** About 50 ms of floating-point arithmetic per replicate (calibrated by the bench). */
export const crunch = experiment("bench-crunch", {
  source: source("start", (ctx) => ctx.random()),
  pipeline: pipeline(
    step("crunch", { params: { iterations }, metrics: ["value"] }, (x, ctx) => {
      let acc = x;
      for (let i = 0; i < ctx.params.iterations; i++) acc = Math.sin(acc + i * 1e-7) * 0.5 + 0.5;
      ctx.record("value", acc);
      return acc;
    }),
  ),
  replicates: 40,
  seed: 1,
});

/** A replicate that does almost nothing: what remains is the cost of dispatching it. */
export const trivial = experiment("bench-trivial", {
  source: source("start", (ctx) => ctx.replicate),
  pipeline: pipeline(
    step("noop", { metrics: ["r"] }, (x, ctx) => {
      ctx.record("r", x);
      return x;
    }),
  ),
  replicates: 2000,
  seed: 1,
});
