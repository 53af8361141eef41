// Issue 14: treatment values against params declared with a literal union (`"euclidean" as Dist`)
// or a boolean default (`flag: false`): correct values compile without `as const`, wrong ones are
// type errors at the treatment, in experiment() and in the builder alike.
import { describe, expectTypeOf, it } from "vitest";
import { experiment, pipeline, source, step, treatment, type Step } from "../../src/dsl/index.js";

type Dist = "euclidean" | "manhattan";
const points = source("points", () => [[0, 1], [2, 3]]);
const knn = step(
  "knn",
  { params: { distance: "euclidean" as Dist, normalise: false, k: 3, options: { verbose: false, tag: "x" }, weights: [1, 2] } },
  (xs: number[][], ctx) => {
    // Inside the step the params have their declared (widened) types too.
    expectTypeOf(ctx.params.distance).toEqualTypeOf<Dist>();
    expectTypeOf(ctx.params.normalise).toEqualTypeOf<boolean>();
    return xs.length * ctx.params.k;
  },
);
const pipe = pipeline(knn);

describe("params declared with literal unions and boolean defaults", () => {
  it("keeps the union, widens boolean defaults (at any depth)", () => {
    expectTypeOf(knn).toEqualTypeOf<
      Step<number[][], number, { distance: Dist; normalise: boolean; k: number; options: { verbose: boolean; tag: string }; weights: number[] }, never>
    >();
  });

  it("accepts a correct literal-union value and `true` for a `false` default, without `as const`", () => {
    const e = experiment("knn", {
      source: points,
      pipeline: pipe,
      treatments: [
        treatment("manhattan", { distance: "manhattan" }),
        treatment("normalised", { normalise: true }),
        treatment("both", { distance: "euclidean", normalise: true, k: 5 }),
        treatment("nested", { options: { verbose: true, tag: "y" }, weights: [3] }),
        treatment("computed", (ctx) => ({ normalise: ctx.random() > 0.5 })),
      ],
    });
    expectTypeOf(e.name).toEqualTypeOf<string>();
    experiment.builder("knn-b").source(points).step(knn).treatments([treatment("m", { distance: "manhattan", normalise: true })]).build();
  });

  it("still rejects values outside the union and values of the wrong type", () => {
    // @ts-expect-error "chebyshev" is not a Dist
    experiment("bad-1", { source: points, pipeline: pipe, treatments: [treatment("t", { distance: "chebyshev" })] });
    // @ts-expect-error normalise is a boolean, not a string
    experiment("bad-2", { source: points, pipeline: pipe, treatments: [treatment("t", { normalise: "yes" })] });
    // @ts-expect-error normalise is a boolean, not a number
    experiment("bad-3", { source: points, pipeline: pipe, treatments: [treatment("t", { normalise: 1 })] });
    // @ts-expect-error k is a number
    experiment("bad-4", { source: points, pipeline: pipe, treatments: [treatment("t", { k: "5" })] });
    // @ts-expect-error "chebyshev" is not a Dist (builder)
    experiment.builder("bad-5").source(points).step(knn).treatments([treatment("t", { distance: "chebyshev" })]);
  });

  it("keeps the treatment's own value types (literal at the top level)", () => {
    expectTypeOf(treatment("m", { distance: "manhattan", k: 2 }).values).toEqualTypeOf<Readonly<{ distance: "manhattan"; k: 2 }> | undefined>();
  });
});
