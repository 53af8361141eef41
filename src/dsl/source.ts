// A data source: where a replicate's data comes from.
import { ValidationError } from "../errors.js";
import type { SourceContext } from "./context.js";
import { nameProblem } from "./names.js";

export interface Source<T> {
  readonly kind: "source";
  readonly name: string;
  fetch(ctx: SourceContext): T | Promise<T>;
}

export function source<T>(name: string, fetch: (ctx: SourceContext) => T | Promise<T>): Source<Awaited<T>> {
  const problems: string[] = [];
  const bad = nameProblem("source", name);
  if (bad) problems.push(bad);
  if (typeof fetch !== "function") problems.push("fetch must be a function (ctx) => data");
  if (problems.length) throw new ValidationError(`source "${String(name)}"`, problems);
  return Object.freeze({ kind: "source", name, fetch }) as Source<Awaited<T>>;
}
