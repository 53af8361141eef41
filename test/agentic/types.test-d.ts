// Types of the agentic surface: claim/spec options, property names flowing into metric names,
// steps that pass data through, verifiers and plugins fitting the DSL's contracts.
import { describe, expectTypeOf, it } from "vitest";
import { experiment, hypothesis, pipeline, source, step, type Plugin, type Step, type Verifier } from "../../src/index.js";
import {
  acceptanceVerifier,
  claim,
  createSandbox,
  evidenceBundle,
  executeSandboxed,
  generateSpec,
  injectClaim,
  metamorphicTests,
  metamorphicVerifier,
  openAICompatible,
  promptTrace,
  scripted,
  spec,
  synthesize,
  type Claim,
  type LlmClient,
  type SandboxResult,
  type Spec,
} from "../../src/agentic/index.js";

describe("claim and spec option types", () => {
  it("checks claim fields", () => {
    expectTypeOf(claim({ id: "a", text: "t" })).toEqualTypeOf<Claim>();
    // @ts-expect-error direction is "increase" | "decrease"
    claim({ id: "a", text: "t", metric: "m", direction: "up" });
    // @ts-expect-error text is required
    claim({ id: "a" });
    // @ts-expect-error acceptance holds JSON only
    claim({ id: "a", text: "t", acceptance: { f: () => 1 } });
  });

  it("keeps property names as literal types", () => {
    const s = spec({ allowedImports: [], properties: [{ name: "order", transform: "permuteRows" }, { name: "dup", transform: "duplicateRows" }] });
    expectTypeOf(s).toEqualTypeOf<Spec<"order" | "dup">>();
    expectTypeOf(s.properties[0]!.name).toEqualTypeOf<"order" | "dup">();
    // @ts-expect-error relation is one of the known relations
    spec({ allowedImports: [], properties: [{ name: "x", transform: "scale", relation: "doubled" }] });
    // @ts-expect-error allowedImports is required
    spec({ properties: [] });
  });
});

describe("steps in pipelines", () => {
  const rows = source("rows", () => [{ x: 1 }]);

  it("pass data through, so typed steps can follow them", () => {
    const after = step("after", (data: { x: number }[]) => data.length);
    const p = pipeline(injectClaim({ id: "c", text: "t" }), generateSpec({ spec: { allowedImports: [], properties: [] } }), after);
    expectTypeOf(p.kind).toEqualTypeOf<"pipeline">();
  });

  it("declare the metrics they record: executeSandboxed metrics and `${property}_pass`", () => {
    const s = spec({ allowedImports: [], properties: [{ name: "order", transform: "permuteRows" }] });
    expectTypeOf(metamorphicTests({ spec: s })).toEqualTypeOf<Step<any, any, {}, "order_pass">>();
    expectTypeOf(metamorphicTests({ properties: ["a", "b"] })).toEqualTypeOf<Step<any, any, {}, "a_pass" | "b_pass">>();
    // Nothing declared: the spec in the context decides, so any `${string}_pass` may be recorded and tested.
    expectTypeOf(metamorphicTests()).toEqualTypeOf<Step<any, any, {}, `${string}_pass`>>();
    experiment("typed-agentic-open", {
      source: rows,
      pipeline: pipeline(metamorphicTests()),
      hypotheses: [hypothesis("ok", { metric: "order_pass", test: metamorphicVerifier() })],
    });
    expectTypeOf(executeSandboxed({ metrics: ["rmse"] })).toEqualTypeOf<Step<any, any, {}, "rmse">>();
    const exp = experiment("typed-agentic", {
      source: rows,
      pipeline: pipeline(synthesize({ code: "export default () => ({ rmse: 1 })" }), executeSandboxed({ metrics: ["rmse"] }), metamorphicTests({ spec: s })),
      hypotheses: [
        hypothesis("ok", { metric: "order_pass", test: metamorphicVerifier() }),
        hypothesis("better", { metric: "rmse", test: acceptanceVerifier({ direction: "decrease" }) }),
      ],
    });
    expectTypeOf(exp.name).toEqualTypeOf<string>();
  });

  it("rejects a hypothesis on a metric no agentic step declares", () => {
    experiment("typed-agentic-bad", {
      source: rows,
      pipeline: pipeline(metamorphicTests({ properties: ["order"] })),
      // @ts-expect-error "dup_pass" is not declared
      hypotheses: [hypothesis("bad", { metric: "dup_pass", test: metamorphicVerifier() })],
    });
  });

  it("needs either given values or an LLM client", () => {
    const llm = scripted(["x"]);
    expectTypeOf(llm).toMatchTypeOf<LlmClient>();
    expectTypeOf(openAICompatible({ baseUrl: "http://127.0.0.1:11434/v1", model: "llama3" })).toEqualTypeOf<LlmClient>();
    synthesize({ llm, maxAttempts: 2, budget: 1000 });
    synthesize({ llm, budget: { tokens: 1000 } });
    // @ts-expect-error code must be a string
    synthesize({ code: 42 });
    generateSpec({ llm, properties: ["order"] });
    // @ts-expect-error an LLM client has complete()
    generateSpec({ llm: {} });
  });
});

describe("verifiers, plugins and the sandbox", () => {
  it("fit the DSL's contracts", () => {
    expectTypeOf(metamorphicVerifier()).toMatchTypeOf<Verifier>();
    expectTypeOf(acceptanceVerifier()).toMatchTypeOf<Verifier>();
    expectTypeOf(promptTrace()).toMatchTypeOf<Plugin>();
    expectTypeOf(evidenceBundle()).toMatchTypeOf<Plugin>();
  });

  it("types run results by the caller's choice", () => {
    const sb = createSandbox({ allowedImports: [], timeoutMs: 100, memoryMb: 64 });
    expectTypeOf(sb.run<number>("export default () => 1", null)).toEqualTypeOf<Promise<SandboxResult<number>>>();
    // @ts-expect-error memoryMb is a number
    createSandbox({ memoryMb: "64" });
  });
});
