// Runs one metamorphic property: fast-check generates the transform's parameters, the transformed
// input goes through `execute` (the sandbox, in the agentic step), and the output is compared with
// the output on the original input. Pure apart from `execute`; deterministic for a given seed.
// The first failing case ends the run (no shrinking: every case costs a sandbox job) and is
// reported with a summary of its parameters.
import fc from "fast-check";
import { ValidationError } from "../../errors.js";
import type { Json } from "../../dsl/json.js";
import type { MetamorphicProperty } from "../schema.js";
import { compareOutputs } from "./compare.js";
import type { MetamorphicTransform } from "./transforms.js";

export interface PropertyCheck {
  readonly property: MetamorphicProperty;
  readonly transform: MetamorphicTransform<never>;
  /** The original input. */
  readonly input: unknown;
  /** The output of the code on the original input. */
  readonly baseOutput: unknown;
  /** Runs the code under test on a transformed input. */
  execute(input: unknown): Promise<unknown>;
  /** Generated cases. Default 100. */
  readonly numRuns?: number;
  /** fast-check seed (the step derives it from the replicate). */
  readonly seed: number;
}

export interface PropertyResult {
  readonly name: string;
  readonly transform: string;
  readonly relation: MetamorphicProperty["relation"];
  readonly metric?: string;
  readonly tolerance: number;
  readonly passed: boolean;
  /** Cases executed (fewer than numRuns when a case failed). */
  readonly cases: number;
  readonly seed: number;
  /** The first failing case: a summary of its parameters and what differed. */
  readonly counterexample?: { readonly params: Json; readonly detail: string };
  /** Set when the code failed (threw, timed out, ...) on a transformed input. */
  readonly error?: { readonly name: string; readonly reason?: string; readonly message: string };
}

function toJson(value: unknown): Json {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : (JSON.parse(text) as Json);
  } catch {
    return String(value);
  }
}

export async function checkProperty(check: PropertyCheck): Promise<PropertyResult> {
  const { property, transform } = check;
  const options = property.options;
  if ((property.relation === "scaled" || property.relation === "scaled-abs") && !transform.factor) {
    throw new ValidationError(`property "${property.name}"`, [`relation "${property.relation}" needs a transform with a factor (such as scale); "${transform.name}" has none`]);
  }
  if (property.relation === "shifted" && !transform.offset) {
    throw new ValidationError(`property "${property.name}"`, [`relation "shifted" needs a transform with an offset (such as shift); "${transform.name}" has none`]);
  }
  const arbitrary = transform.params(check.input, options) as fc.Arbitrary<unknown>;
  let cases = 0;
  let counterexample: PropertyResult["counterexample"];
  let error: PropertyResult["error"];

  const prop = fc.asyncProperty(arbitrary, async (params) => {
    cases++;
    const summary = (): Json => (transform.summarize ? transform.summarize(params as never) : toJson(params));
    const transformed = transform.apply(check.input, params as never, options);
    let output: unknown;
    try {
      output = await check.execute(transformed);
    } catch (e) {
      const err = e as { name?: unknown; reason?: unknown; message?: unknown };
      error = {
        name: typeof err?.name === "string" ? err.name : "Error",
        ...(typeof err?.reason === "string" ? { reason: err.reason } : {}),
        message: typeof err?.message === "string" ? err.message : String(e),
      };
      counterexample = { params: summary(), detail: `the code failed on the transformed input: ${error.message}` };
      return false;
    }
    const comparison = compareOutputs(check.baseOutput, output, property.metric, {
      relation: property.relation,
      tolerance: property.tolerance,
      ...(transform.factor ? { factor: transform.factor(params as never) } : {}),
      ...(transform.offset ? { offset: transform.offset(params as never) } : {}),
    });
    if (!comparison.pass) counterexample = { params: summary(), detail: comparison.detail };
    return comparison.pass;
  });

  const details = await fc.check(prop, { numRuns: check.numRuns ?? 100, seed: check.seed, endOnFailure: true });
  if (details.failed && counterexample === undefined && details.errorInstance) {
    // apply() or the comparison itself threw: a problem with the property, not the code.
    throw details.errorInstance;
  }
  return {
    name: property.name,
    transform: transform.name,
    relation: property.relation,
    ...(property.metric !== undefined ? { metric: property.metric } : {}),
    tolerance: property.tolerance,
    passed: !details.failed,
    cases,
    seed: check.seed,
    ...(counterexample !== undefined ? { counterexample } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}
