// A three-stage study wired by typed artifacts: prepare → train → evaluate.
//
// `prepare` samples noisy points of y = 2x + 1 and writes a train/test split (dataset.json);
// `train` fits a least-squares line to the training points and writes it (model.json);
// `evaluate` reads both and records the test error. The `noisier` treatment of `prepare` is
// inherited downstream, so `evaluate` compares the error of models trained on noisier data with
// the baseline's, replicate by replicate. Each edge is typed: if `evaluate` expected another shape
// of model than `train` writes, `tsc` would report it at evaluate's `source:`.
import { artifact, experiment, graph, hypothesis, input, pipeline, source, step, treatment } from "crystallize-ts";
import { welchTTest } from "crystallize-ts/stats";

export interface Point {
  readonly x: number;
  readonly y: number;
}
export interface Dataset {
  readonly train: Point[];
  readonly test: Point[];
}
export interface Model {
  readonly slope: number;
  readonly intercept: number;
}

export const dataset = artifact<Dataset>("dataset.json");
export const model = artifact<Model>("model.json");

// --- prepare ---------------------------------------------------------------------------------
const xs = source("xs", (ctx) => Array.from({ length: 60 }, () => ctx.random() * 10));

const noisy = step("noisy", { params: { noise: 0.5 } }, (values: number[], ctx) =>
  values.map((x) => {
    // Box-Muller: a standard normal from two uniforms of the step's seeded stream.
    const z = Math.sqrt(-2 * Math.log(1 - ctx.random())) * Math.cos(2 * Math.PI * ctx.random());
    return { x, y: 2 * x + 1 + ctx.params.noise * z };
  }),
);

const split = step("split", (points: Point[], ctx) => {
  const data: Dataset = { train: points.slice(0, 40), test: points.slice(40) };
  ctx.artifacts.write(dataset, data);
  return data;
});

export const prepare = experiment("prepare", {
  source: xs,
  pipeline: pipeline(noisy, split),
  treatments: [treatment("noisier", { noise: 3 })],
  outputs: [dataset],
  replicates: 12,
  seed: 7,
});

// --- train -----------------------------------------------------------------------------------
const fit = step("fit", { metrics: ["slope"] }, ({ data }: { data: Dataset }, ctx) => {
  const n = data.train.length;
  const mx = data.train.reduce((s, p) => s + p.x, 0) / n;
  const my = data.train.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of data.train) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  const fitted: Model = { slope: sxy / sxx, intercept: my - (sxy / sxx) * mx };
  ctx.artifacts.write(model, fitted);
  ctx.record("slope", fitted.slope);
  return fitted;
});

export const train = experiment("train", {
  source: input({ data: prepare.output(dataset) }),
  pipeline: pipeline(fit),
  outputs: [model],
  replicates: 12,
});

// --- evaluate --------------------------------------------------------------------------------
const score = step("score", { metrics: ["mse"] }, ({ model: m, data }: { model: Model; data: Dataset }, ctx) => {
  const mse = data.test.reduce((s, p) => s + (p.y - (m.slope * p.x + m.intercept)) ** 2, 0) / data.test.length;
  ctx.record("mse", mse);
  return mse;
});

export const evaluate = experiment("evaluate", {
  source: input({ model: train.output(model), data: prepare.output(dataset) }),
  pipeline: pipeline(score),
  hypotheses: [hypothesis("noise_hurts", { metric: "mse", test: welchTTest({ alternative: "greater" }) })],
  replicates: 12,
});

export const study = graph("study", [prepare, train, evaluate]);
