// generateSpec({ spec }) puts a given spec in the context; generateSpec({ llm }) asks a model for
// one (from the claim and a description of the data), validates it, and feeds problems back for
// up to maxAttempts answers. The model may only grant the generated code imports from the
// author's `allowedImports`, and must use the author's property names when given.
import { ValidationError } from "../../errors.js";
import { step, type Step } from "../../dsl/step.js";
import type { LlmClient } from "../llm/types.js";
import { registeredTransformNames, resolveTransform, type MetamorphicTransform } from "../metamorphic/transforms.js";
import { parseSpec, spec as makeSpec, type Claim, type Spec, type SpecOptions } from "../schema.js";
import { describeData } from "./describe-data.js";
import { callModel, llmCallLog, modelSettings, type ModelSettings } from "./llm-calls.js";
import { feedback, specPrompt } from "./prompts.js";
import { AGENTIC_KEYS, AGENTIC_STEPS } from "./records.js";
import { writeEvidenceIfLast } from "../provenance/trace.js";

export interface GivenSpecOptions<N extends string> {
  readonly spec: Spec<N> | SpecOptions<N>;
}

export interface GeneratedSpecOptions extends ModelSettings {
  readonly llm: LlmClient;
  /** Answers to ask for before giving up. Default 2. */
  readonly maxAttempts?: number;
  /** The most the generated spec may allow the code to import. Default: nothing. */
  readonly allowedImports?: readonly string[];
  /** Property names the spec must use (so that their `${name}_pass` metrics can be declared). */
  readonly properties?: readonly string[];
  /** Custom transforms the model may choose from (registered ones are offered too). */
  readonly transforms?: readonly MetamorphicTransform<never>[];
}

export const GENERATE_SPEC = AGENTIC_STEPS.generateSpec;

function checkGenerated(s: Spec, bound: readonly string[], names: readonly string[] | undefined, transforms: readonly MetamorphicTransform<never>[]): string[] {
  const problems: string[] = [];
  const extra = s.allowedImports.filter((m) => !bound.includes(m));
  if (extra.length) problems.push(`allowedImports may only contain ${bound.length ? bound.join(", ") : "nothing"}; remove ${extra.join(", ")}`);
  if (names) {
    const have = s.properties.map((p) => p.name);
    const missing = names.filter((n) => !have.includes(n));
    const unknown = have.filter((n) => !names.includes(n));
    if (missing.length) problems.push(`the properties must include ${missing.join(", ")}`);
    if (unknown.length) problems.push(`use only the property names ${names.join(", ")} (not ${unknown.join(", ")})`);
  }
  for (const p of s.properties) {
    try {
      resolveTransform(p.transform, transforms);
    } catch {
      problems.push(`property "${p.name}": unknown transform "${p.transform}"`);
    }
  }
  return problems;
}

export function generateSpec<T = any, const N extends string = string>(options: GivenSpecOptions<N>): Step<T, T, {}, never>;
export function generateSpec<T = any>(options: GeneratedSpecOptions): Step<T, T, {}, never>;
export function generateSpec<T>(options: GivenSpecOptions<string> | GeneratedSpecOptions): Step<T, T, {}, never> {
  if (options && "spec" in options && options.spec !== undefined) {
    const given = makeSpec(options.spec);
    return step<T, T>(GENERATE_SPEC, (data, ctx) => {
      ctx.add(AGENTIC_KEYS.spec, given);
      writeEvidenceIfLast(ctx, GENERATE_SPEC);
      return data;
    });
  }
  const o = options as GeneratedSpecOptions;
  const problems: string[] = [];
  if (!o || typeof o.llm?.complete !== "function") problems.push("pass either { spec } or { llm } (an LLM client such as openAICompatible() or scripted())");
  const maxAttempts = o?.maxAttempts ?? 2;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) problems.push("maxAttempts must be an integer >= 1");
  if (problems.length) throw new ValidationError("generateSpec", problems);
  const bound = [...(o.allowedImports ?? [])];
  const extraTransforms = o.transforms ?? [];

  return step<T, T>(GENERATE_SPEC, async (data, ctx) => {
    const offered = [
      ...extraTransforms,
      ...registeredTransformNames()
        .filter((n) => !extraTransforms.some((t) => t.name === n))
        .map((n) => resolveTransform(n)),
    ];
    const messages = specPrompt({
      claim: ctx.get<Claim>(AGENTIC_KEYS.claim),
      data: describeData(data),
      transforms: offered,
      allowedImports: bound,
      properties: o.properties,
    });
    const settings = modelSettings(o, ctx.seed);
    const { keep, store: storeCalls } = llmCallLog(ctx, GENERATE_SPEC);
    try {
      let lastProblem = "";
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const { response, record } = await callModel(o.llm, GENERATE_SPEC, attempt, messages, settings, ctx.signal);
        let parsed: Spec | undefined;
        let why: string[] = [];
        try {
          parsed = parseSpec(response.text);
          why = checkGenerated(parsed, bound, o.properties, extraTransforms);
        } catch (e) {
          why = e instanceof ValidationError ? [...e.problems] : [(e as Error).message];
        }
        if (parsed && why.length === 0) {
          keep(record("accepted"));
          ctx.add(AGENTIC_KEYS.spec, parsed);
          storeCalls();
          writeEvidenceIfLast(ctx, GENERATE_SPEC);
          return data;
        }
        lastProblem = why.map((p) => `- ${p}`).join("\n");
        keep(record(`rejected: ${why.join("; ")}`));
        messages.push(...feedback(response.text, lastProblem, "spec"));
      }
      throw new ValidationError(`the spec generated by ${o.llm.model} (after ${maxAttempts} attempts)`, lastProblem.split("\n").map((l) => l.replace(/^- /, "")));
    } finally {
      storeCalls();
    }
  });
}
