// Type-level proof that artifact types flow through output()/input() into a consumer's pipeline,
// that a producer/consumer type mismatch is a compile error at the consumer's `source:`, and that
// optimize() checks its search space and objective against the pipeline.
import { describe, expectTypeOf, it } from "vitest";
import {
  artifact,
  experiment,
  graph,
  input,
  pipeline,
  source,
  step,
  type ArtifactRef,
  type Graph,
  type GraphResult,
  type InputSource,
  type OptimizeResult,
  type Source,
} from "../../src/dsl/index.js";
import { gridSearch, randomSearch } from "../../src/runtime/optimizers/index.js";

interface Model {
  readonly weights: number[];
  readonly bias: number;
}
const rowsArt = artifact<number[][]>("rows.json");
const modelArt = artifact<Model>("model.json");
const rows = source("rows", () => [[1, 2], [3, 4]]);
const labels = source("labels", () => ["a", "b"]);

const prepare = experiment("prepare", {
  source: rows,
  pipeline: pipeline(
    step("split", (xs: number[][], ctx) => {
      ctx.artifacts.write(rowsArt, xs);
      return xs;
    }),
  ),
  outputs: [rowsArt],
});

const fit = step("fit", { params: { lr: 0.1, epochs: 1 }, metrics: ["loss"] }, (x: { rows: number[][] }, ctx) => {
  const model: Model = { weights: x.rows[0] ?? [], bias: ctx.params.lr };
  ctx.artifacts.write(modelArt, model);
  ctx.record("loss", 1);
  return model;
});
const train = experiment("train", { source: input({ rows: prepare.output(rowsArt) }), pipeline: pipeline(fit), outputs: [modelArt] });

describe("output() and input() carry artifact types", () => {
  it("output(art) is an ArtifactRef of the artifact's type", () => {
    expectTypeOf(prepare.output(rowsArt)).toEqualTypeOf<ArtifactRef<number[][]>>();
    expectTypeOf(train.output(modelArt)).toEqualTypeOf<ArtifactRef<Model>>();
  });

  it("input({...}) gives an object of the inputs' types (refs, bare artifacts and plain sources)", () => {
    const src = input({ model: train.output(modelArt), rows: rowsArt, labels });
    expectTypeOf(src).toEqualTypeOf<InputSource<{ model: Model; rows: number[][]; labels: string[] }>>();
    const asSource: Source<{ model: Model; rows: number[][]; labels: string[] }> = src;
    expectTypeOf(asSource.fetch).returns.toEqualTypeOf<{ model: Model; rows: number[][]; labels: string[] } | Promise<{ model: Model; rows: number[][]; labels: string[] }>>();
  });

  it("a consumer whose first step accepts the input's object type compiles", () => {
    const evaluate = step("evaluate", (x: { model: Model; labels: string[] }) => x.model.weights.length + x.labels.length);
    const e = experiment("evaluate", { source: input({ model: train.output(modelArt), labels }), pipeline: pipeline(evaluate) });
    expectTypeOf(e.source).toEqualTypeOf<Source<{ model: Model; labels: string[] }> | undefined>();
  });

  it("a consumer expecting another type than the producer writes is a compile error at its source", () => {
    const wantsStrings = step("evaluate", (x: { model: { weights: string[] } }) => x.model.weights.join(","));
    experiment("evaluate", {
      // @ts-expect-error train writes model.json as Model (weights: number[]); the consumer expects string[]
      source: input({ model: train.output(modelArt) }),
      pipeline: pipeline(wantsStrings),
    });
    const wantsModelUnderOtherName = step("evaluate", (x: { trained: Model }) => x.trained.bias);
    experiment("evaluate", {
      // @ts-expect-error the input is named "model", the step reads "trained"
      source: input({ model: train.output(modelArt) }),
      pipeline: pipeline(wantsModelUnderOtherName),
    });
    // A bare artifact declaration carries its type the same way.
    experiment("evaluate", {
      // @ts-expect-error rows.json holds number[][], not string
      source: input({ rows: rowsArt }),
      pipeline: pipeline(step("e", (x: { rows: string }) => x.rows)),
    });
  });

  it("the builder checks the input source against the first step too", () => {
    experiment.builder("b").source(input({ model: train.output(modelArt) })).step(step("ok", (x: { model: Model }) => x.model.bias));
    // @ts-expect-error bias is a number, the step expects a string
    experiment.builder("b").source(input({ model: train.output(modelArt) })).step(step("bad", (x: { model: { bias: string } }) => x.model.bias));
  });

  it("writing a value of another type than the artifact's is a compile error in the producer", () => {
    step("w", (x: number, ctx) => {
      // @ts-expect-error model.json holds a Model
      ctx.artifacts.write(modelArt, { weights: "no" });
      return x;
    });
  });

  it("input() rejects values that are neither sources nor artifacts", () => {
    // @ts-expect-error a number is not an input
    input({ n: 3 });
  });
});

describe("graph()", () => {
  it("is a Graph whose run resolves to results by experiment name", () => {
    const g = graph("study", [prepare, train]);
    expectTypeOf(g).toEqualTypeOf<Graph>();
    expectTypeOf(g.run).returns.toEqualTypeOf<Promise<GraphResult>>();
    expectTypeOf<GraphResult["results"][string]["metrics"]["baseline"]>().toEqualTypeOf<Readonly<Record<string, readonly number[]>>>();
  });
});

describe("experiment.optimize() checks the search space and objective", () => {
  it("accepts a space over declared params and types the result", () => {
    const r = train.optimize(gridSearch({ lr: [0.01, 0.1], epochs: [1, 2] }), { objective: { metric: "loss", direction: "minimize" } });
    expectTypeOf(r).toEqualTypeOf<Promise<OptimizeResult<{ lr: 0.01 | 0.1; epochs: 1 | 2 }, "loss">>>();
    const rs = train.optimize(randomSearch({ lr: { min: 0.001, max: 0.1, log: true } }, { trials: 5 }), {
      objective: { metric: "loss", direction: "maximize" },
    });
    expectTypeOf(rs).toEqualTypeOf<Promise<OptimizeResult<{ lr: number }, "loss">>>();
  });

  it("rejects a misspelt param, a wrong value type and an undeclared metric", () => {
    // @ts-expect-error "lrate" is not a declared param
    train.optimize(gridSearch({ lrate: [0.1] }), { objective: { metric: "loss", direction: "minimize" } });
    // @ts-expect-error lr is a number
    train.optimize(gridSearch({ lr: ["fast"] }), { objective: { metric: "loss", direction: "minimize" } });
    // @ts-expect-error "accuracy" is not a declared metric
    train.optimize(gridSearch({ lr: [0.1] }), { objective: { metric: "accuracy", direction: "minimize" } });
    // @ts-expect-error direction is "minimize" or "maximize"
    train.optimize(gridSearch({ lr: [0.1] }), { objective: { metric: "loss", direction: "up" } });
  });
});
