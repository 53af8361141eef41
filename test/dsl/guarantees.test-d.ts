// Type-level proof of each compile-time guarantee of API.md §1: the error appears at the
// offending expression, and the correct form compiles.
import { describe, expectTypeOf, it } from "vitest";
import {
  experiment,
  hypothesis,
  pipeline,
  source,
  step,
  treatment,
  type Experiment,
  type Pipeline,
  type Source,
  type Step,
  type Verifier,
} from "../../src/dsl/index.js";

declare const test: Verifier;
const numbers = source("numbers", (ctx) => Array.from({ length: 3 }, () => ctx.random()));
const words = source("words", async () => ["a", "b"]);
const scale = step("scale", { params: { factor: 1 } }, (xs: number[], ctx) => xs.map((x) => x * ctx.params.factor));
const summarize = step("summarize", { metrics: ["mean", "max"] }, (xs: number[], ctx) => {
  ctx.record("mean", xs.reduce((a, b) => a + b, 0) / xs.length);
  ctx.record("max", Math.max(...xs));
  return xs;
});
const join = step("join", (xs: number[]) => xs.join(","));
const length = step("length", async (s: string) => s.length);

describe("source and step types", () => {
  it("infers Source<T>, unwrapping promises", () => {
    expectTypeOf(numbers).toEqualTypeOf<Source<number[]>>();
    expectTypeOf(words).toEqualTypeOf<Source<string[]>>();
  });
  it("infers Step<In, Out, Params, Metrics> with widened params and literal metrics", () => {
    expectTypeOf(scale).toEqualTypeOf<Step<number[], number[], { factor: number }, never>>();
    expectTypeOf(summarize).toEqualTypeOf<Step<number[], number[], {}, "mean" | "max">>();
    expectTypeOf(length).toEqualTypeOf<Step<string, number, {}, never>>();
  });
  it("types ctx.params as readonly resolved params", () => {
    step("p", { params: { factor: 1, label: "x" } }, (x: number, ctx) => {
      expectTypeOf(ctx.params).toEqualTypeOf<Readonly<{ factor: number; label: string }>>();
      return x;
    });
  });
});

describe("ctx.record only accepts declared metrics", () => {
  it("accepts a declared metric", () => {
    step("ok", { metrics: ["loss"] }, (x: number, ctx) => {
      ctx.record("loss", x);
      return x;
    });
  });
  it("rejects an undeclared metric", () => {
    step("bad", { metrics: ["loss"] }, (x: number, ctx) => {
      // @ts-expect-error "los" is not a declared metric
      ctx.record("los", x);
      return x;
    });
    step("none", (x: number, ctx) => {
      // @ts-expect-error a step without metrics cannot record any
      ctx.record("loss", x);
      return x;
    });
  });
});

describe("params must be JSON-serialisable", () => {
  it("accepts JSON values", () => {
    step("ok", { params: { a: 1, b: "s", c: true, d: null, e: [1, 2], f: { g: 1 } } }, (x: number) => x);
  });
  it("rejects functions, dates, undefined and bigints", () => {
    // @ts-expect-error a function is not JSON
    step("f", { params: { f: () => 1 } }, (x: number) => x);
    // @ts-expect-error a Date is not JSON
    step("d", { params: { d: new Date() } }, (x: number) => x);
    // @ts-expect-error a bigint is not JSON
    step("b", { params: { b: 1n } }, (x: number) => x);
  });
});

describe("pipeline(a, b, ...) checks adjacent types", () => {
  it("accepts a well-wired pipeline and computes In, Out, Params, Metrics", () => {
    const p = pipeline(scale, summarize, join, length);
    expectTypeOf(p).toEqualTypeOf<Pipeline<number[], number, { factor: number }, "mean" | "max">>();
  });
  it("reports a step whose input does not accept the previous output", () => {
    // @ts-expect-error summarize takes number[], join returns string
    pipeline(scale, join, summarize);
  });
  it("type-checks a 32-step pipeline", () => {
    const s = (n: string) => step(n, { params: { [`p${n}`]: 0 } as Record<`p${string}`, number> }, (x: number) => x + 1);
    const a = s("a");
    const toList = step("toList", (x: number) => [x]);
    const p = pipeline(a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, toList, join);
    expectTypeOf(p).toEqualTypeOf<Pipeline<number, string, Record<`p${string}`, number>, never>>();
  });
});

describe("experiment() checks source, treatments and hypotheses", () => {
  const pipe = pipeline(scale, summarize);
  it("accepts the API.md example and types the result", () => {
    const demo = experiment("demo", {
      source: numbers,
      pipeline: pipe,
      treatments: [treatment("doubled", { factor: 2 }), treatment("random", (ctx) => ({ factor: ctx.random() }))],
      hypotheses: [hypothesis("mean_up", { metric: "mean", test })],
      replicates: 20,
      seed: 42,
    });
    expectTypeOf(demo).toEqualTypeOf<Experiment<number[], number[], { factor: number }, "mean" | "max", "doubled" | "random", "mean_up">>();
    type R = Awaited<ReturnType<typeof demo.run>>;
    expectTypeOf<R["metrics"]["treatments"]["doubled"]["mean"]>().toEqualTypeOf<readonly number[]>();
    expectTypeOf<Parameters<R["hypothesis"]>[0]>().toEqualTypeOf<"mean_up">();
    expectTypeOf<Awaited<ReturnType<typeof demo.apply>>>().toEqualTypeOf<number[]>();
  });
  it("rejects a source whose type does not fit the first step", () => {
    // @ts-expect-error words gives string[], scale takes number[]
    experiment("e", { source: words, pipeline: pipe });
  });
  it("rejects a misspelt treatment key", () => {
    // @ts-expect-error "factr" is not a declared param
    experiment("e", { source: numbers, pipeline: pipe, treatments: [treatment("t", { factr: 2 })] });
  });
  it("rejects a treatment value of the wrong type", () => {
    // @ts-expect-error factor is a number
    experiment("e", { source: numbers, pipeline: pipe, treatments: [treatment("t", { factor: "2" })] });
  });
  it("rejects a hypothesis on an undeclared metric", () => {
    // @ts-expect-error "meen" is not declared
    experiment("e", { source: numbers, pipeline: pipe, hypotheses: [hypothesis("h", { metric: "meen", test })] });
    // @ts-expect-error one of several metrics is not declared
    experiment("e", { source: numbers, pipeline: pipe, hypotheses: [hypothesis("h", { metric: ["mean", "p99"], test })] });
  });
});

describe("experiment.builder() has the same checks", () => {
  it("accepts a well-wired builder chain", () => {
    const e = experiment
      .builder("b")
      .source(numbers)
      .step(scale)
      .step(summarize)
      .treatments([treatment("doubled", { factor: 2 })])
      .hypotheses([hypothesis("h", { metric: "max", test })])
      .replicates(3)
      .build();
    expectTypeOf(e).toEqualTypeOf<Experiment<number[], number[], { factor: number }, "mean" | "max", "doubled", "h">>();
  });
  it("rejects a step that does not accept the previous output", () => {
    // @ts-expect-error join gives string; summarize takes number[]
    experiment.builder("b").source(numbers).step(join).step(summarize);
    // @ts-expect-error the source gives string[]; scale takes number[]
    experiment.builder("b").source(words).step(scale);
  });
  it("rejects bad treatments and hypotheses", () => {
    // @ts-expect-error misspelt key
    experiment.builder("b").source(numbers).step(scale).treatments([treatment("t", { factr: 2 })]);
    // @ts-expect-error undeclared metric
    experiment.builder("b").source(numbers).step(scale).hypotheses([hypothesis("h", { metric: "mean", test })]);
  });
});
