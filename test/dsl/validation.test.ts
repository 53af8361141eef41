import { describe, expect, it } from "vitest";
import {
  ValidationError,
  artifact,
  experiment,
  hypothesis,
  pipeline,
  source,
  step,
  treatment,
  type Verifier,
} from "../../src/index.js";

const test: Verifier = {
  kind: "verifier",
  name: "fake",
  alpha: 0.05,
  alternative: "two-sided",
  test: () => ({ pValue: 1, statistic: 0, significant: false, effectSize: 0, method: "fake" }),
};
const numbers = source("numbers", () => [1, 2, 3]);
const scale = step("scale", { params: { factor: 1 } }, (xs: number[], ctx) => xs.map((x) => x * ctx.params.factor));
const summarize = step("summarize", { metrics: ["mean"] }, (xs: number[]) => xs);

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).code).toBe("E_VALIDATION");
    return [...(e as ValidationError).problems];
  }
  throw new Error("expected a ValidationError");
}

// Plain-JavaScript callers bypass the types; these casts model them.
const untyped = experiment as unknown as (name: string, def: Record<string, unknown>) => unknown;

describe("definition-time validation", () => {
  it("a treatment named baseline is refused, naming the value", () => {
    expect(problemsOf(() => treatment("baseline", { factor: 2 })).join()).toMatch(/"baseline" is reserved/);
  });

  it("duplicate treatment names are refused", () => {
    const t = treatment("twice", { factor: 2 });
    const ps = problemsOf(() => experiment("e", { source: numbers, pipeline: pipeline(scale), treatments: [t, t] }));
    expect(ps.join()).toMatch(/treatment name "twice" is used twice/);
  });

  it("replicates must be a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, "3", true]) {
      const ps = problemsOf(() => untyped("e", { source: numbers, pipeline: pipeline(scale), replicates: bad }));
      expect(ps.join()).toMatch(/replicates must be a positive integer/);
    }
  });

  it("params must be JSON-serialisable, naming the value", () => {
    const untypedStep = step as unknown as (n: string, o: object, f: (x: number) => number) => unknown;
    expect(problemsOf(() => untypedStep("s", { params: { when: new Date() } }, (x) => x)).join()).toMatch(/params\.when is a Date/);
    expect(problemsOf(() => untypedStep("s", { params: { f: () => 1 } }, (x) => x)).join()).toMatch(/params\.f is a function/);
    expect(problemsOf(() => untypedStep("s", { params: { n: Number.POSITIVE_INFINITY } }, (x) => x)).join()).toMatch(/params\.n is Infinity/);
    expect(problemsOf(() => untypedStep("s", { params: { deep: { list: [1, undefined] } } }, (x) => x)).join()).toMatch(/params\.deep\.list\[1\]/);
  });

  it("treatment keys that no step declares are refused for plain-JS callers, listing the declared ones", () => {
    const t = (treatment as unknown as (n: string, v: object) => unknown)("t", { factr: 2 });
    const ps = problemsOf(() => untyped("e", { source: numbers, pipeline: pipeline(scale), treatments: [t] }));
    expect(ps.join()).toMatch(/sets "factr", which no step declares as a param \(declared: factor\)/);
  });

  it("hypotheses on undeclared metrics are refused for plain-JS callers", () => {
    const h = hypothesis("h", { metric: "loss", test });
    const ps = problemsOf(() => untyped("e", { source: numbers, pipeline: pipeline(scale, summarize), hypotheses: [h] }));
    expect(ps.join()).toMatch(/metric "loss", which no step declares \(declared: mean\)/);
  });

  it("duplicate step names are refused", () => {
    const ps = problemsOf(() => experiment("e", { source: numbers, pipeline: pipeline(scale, scale) }));
    expect(ps.join()).toMatch(/step name "scale" is used twice/);
  });

  it("names must be usable as path segments", () => {
    expect(problemsOf(() => step("a/b", (x: number) => x)).join()).toMatch(/path separator/);
    expect(problemsOf(() => treatment("..", {})).join()).toMatch(/refers to a directory/);
    expect(problemsOf(() => experiment("", { source: numbers, pipeline: pipeline(scale) })).join()).toMatch(/empty/);
  });

  it("lists every problem, not only the first", () => {
    const t = treatment("dup", { factor: 2 });
    const ps = problemsOf(() => untyped("bad/name", { source: numbers, pipeline: pipeline(scale, scale), treatments: [t, t], replicates: 0, seed: -1 }));
    expect(ps.length).toBeGreaterThanOrEqual(5);
  });

  it("validate() re-checks and accepts a correct experiment", () => {
    const e = experiment("ok", { source: numbers, pipeline: pipeline(scale, summarize), treatments: [treatment("t", { factor: 2 })] });
    expect(() => e.validate()).not.toThrow();
    expect(Object.isFrozen(e)).toBe(true);
    expect(Object.isFrozen(e.treatments[0]!.values)).toBe(true);
  });

  it("builder validates the same way", () => {
    expect(problemsOf(() => experiment.builder("b").source(numbers).step(scale).replicates(0).build()).join()).toMatch(/positive integer/);
    expect(problemsOf(() => experiment.builder("b").build()).join()).toMatch(/no steps/);
  });

  it("output() must name a declared output", () => {
    const model = artifact<{ w: number }>("model.json");
    const other = artifact<string>("other.txt");
    const e = experiment("producer", { source: numbers, pipeline: pipeline(scale), outputs: [model] });
    expect(e.output(model)).toMatchObject({ kind: "artifact-ref", artifact: model });
    expect(problemsOf(() => e.output(other)).join()).toMatch(/does not list in outputs/);
  });
});
