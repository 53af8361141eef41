// A treatment: a named variation of the params. Values override step defaults via `ctx.params`.
import { ValidationError } from "../errors.js";
import type { TreatmentContext } from "./context.js";
import { freezeJson, nonJsonReason, type Json, type Params } from "./json.js";
import { nameProblem } from "./names.js";

export interface Treatment<N extends string = string, V extends object = Params> {
  readonly kind: "treatment";
  readonly name: N;
  /** Fixed values, or absent when `compute` gives them per replicate. */
  readonly values?: Readonly<V>;
  /** Evaluated once per replicate (with `replicate`, `condition`, `seed`, `random()`). */
  readonly compute?: (ctx: TreatmentContext) => V;
}

export type AnyTreatment = Treatment<string, object>;

// `S` only keeps each value's literal type (`"manhattan"`, not `string`), so a value is checked
// against a literal-union param (`distance: "euclidean" as Dist`) without `as const`.
export function treatment<const N extends string, V extends { readonly [key: string]: S }, S extends Json = Json>(
  name: N,
  values: V | ((ctx: TreatmentContext) => V),
): Treatment<N, V> {
  const problems: string[] = [];
  const bad = nameProblem("treatment", name);
  if (bad) problems.push(bad);
  if (name === "baseline") {
    problems.push(`"baseline" is reserved for the untreated condition; give the treatment another name`);
  }
  if (typeof values === "function") {
    if (problems.length) throw new ValidationError(`treatment "${String(name)}"`, problems);
    return Object.freeze({ kind: "treatment", name, compute: values });
  }
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    problems.push("values must be an object of param: value, or a function (ctx) => values");
  } else {
    for (const [key, value] of Object.entries(values)) {
      const why = nonJsonReason(value, key);
      if (why) problems.push(`${why}; treatment values must be JSON-serialisable`);
    }
  }
  if (problems.length) throw new ValidationError(`treatment "${String(name)}"`, problems);
  return Object.freeze({ kind: "treatment", name, values: freezeJson(structuredClone(values)) });
}
