// Search spaces for the built-in optimizers, and their checks. A grid space lists the values of
// each param; a random space may also give a numeric range. Pure: no I/O.
import type { Json } from "../../dsl/json.js";
import { nonJsonReason } from "../../dsl/json.js";

/** A numeric range to sample from: uniformly, or log-uniformly with `log: true`; integers with `integer: true`. */
export interface Range {
  readonly min: number;
  readonly max: number;
  readonly log?: boolean;
  readonly integer?: boolean;
}

export type GridSpace = Readonly<Record<string, readonly Json[]>>;
export type RandomSpace = Readonly<Record<string, readonly Json[] | Range>>;

/** The param values a grid space's treatments set. */
export type GridValues<S> = { -readonly [K in keyof S]: S[K] extends readonly (infer E)[] ? E : never };
/** The param values a random space's treatments set (a range gives numbers). */
export type RandomValues<S> = { -readonly [K in keyof S]: S[K] extends readonly (infer E)[] ? E : number };

export function isRange(value: unknown): value is Range {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "min" in value && "max" in value;
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Every problem of a search space; `ranges` allows Range entries (random search). */
export function spaceProblems(space: unknown, ranges: boolean): string[] {
  const problems: string[] = [];
  if (typeof space !== "object" || space === null || Array.isArray(space)) {
    return [`the search space must be an object of param: [values]${ranges ? " or { min, max }" : ""}, got ${describe(space)}`];
  }
  const keys = Object.keys(space);
  if (keys.length === 0) {
    problems.push(`the search space is empty: give at least one param and its values, e.g. { factor: [1, 2, 3] }`);
  }
  for (const key of keys) {
    const entry = (space as Record<string, unknown>)[key];
    if (Array.isArray(entry)) {
      if (entry.length === 0) problems.push(`param "${key}" has no values to try; list at least one`);
      const seen = new Set<string>();
      entry.forEach((v, i) => {
        const why = nonJsonReason(v, `${key}[${i}]`);
        if (why) problems.push(`${why}; search values must be JSON-serialisable`);
        const text = describe(v);
        if (seen.has(text)) problems.push(`param "${key}" lists the value ${text} twice`);
        seen.add(text);
      });
    } else if (ranges && isRange(entry)) {
      const { min, max, log, integer } = entry;
      if (typeof min !== "number" || !Number.isFinite(min) || typeof max !== "number" || !Number.isFinite(max)) {
        problems.push(`param "${key}": min and max must be finite numbers, got ${describe(min)} and ${describe(max)}`);
      } else {
        if (!(min < max)) problems.push(`param "${key}": min (${min}) must be less than max (${max}); a range with no width has no values to try`);
        if (log === true && min <= 0) problems.push(`param "${key}": a log range needs min > 0, got ${min}`);
        if (integer === true && Math.ceil(min) > Math.floor(max)) problems.push(`param "${key}": no integer lies between ${min} and ${max}`);
      }
      if (log !== undefined && typeof log !== "boolean") problems.push(`param "${key}": log must be true or false`);
      if (integer !== undefined && typeof integer !== "boolean") problems.push(`param "${key}": integer must be true or false`);
    } else {
      problems.push(
        `param "${key}" must be an array of values${ranges ? " or a range { min, max, log?, integer? }" : ""}, got ${describe(entry)}`,
      );
    }
  }
  return problems;
}
