// A pipeline step: a named function of (data, ctx) with declared params and metrics.
import { ValidationError } from "../errors.js";
import type { Context } from "./context.js";
import { freezeJson, nonJsonReason, type Params, type WidenParams } from "./json.js";
import { nameProblem } from "./names.js";

export interface Step<In, Out, P extends object = {}, M extends string = never> {
  readonly kind: "step";
  readonly name: string;
  /** Default values of the params; a treatment overrides them through `ctx.params`. */
  readonly params: Readonly<P>;
  /** Names the step may `ctx.record`. */
  readonly metrics: readonly M[];
  /**
   * Metric names known only at run time: besides `metrics`, the step may record any name made of
   * letters, digits and "_" that ends with one of these suffixes (`metamorphicTests()` without
   * declared properties records `${property}_pass` for the spec the context holds).
   */
  readonly metricSuffixes?: readonly string[];
  /** Cached under (step hash, resolved params, input hash[, random seed]) when true. */
  readonly cacheable: boolean;
  // A method (not a function property) so that steps compare bivariantly in constraints; the
  // DSL's own checks (see checks.ts) enforce the input/output wiring.
  run(data: In, ctx: Context<P, M>): Out | Promise<Out>;
}

const OPEN_METRIC = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether a step may record `name`: declared in `metrics`, or matching one of its `metricSuffixes`. */
export function declaresMetric(s: { readonly metrics: readonly string[]; readonly metricSuffixes?: readonly string[] }, name: string): boolean {
  if (s.metrics.includes(name)) return true;
  return (s.metricSuffixes ?? []).some((suffix) => name.length > suffix.length && name.endsWith(suffix) && OPEN_METRIC.test(name));
}

/** Any step, for constraints. */
export type AnyStep = Step<never, unknown, object, string>;

export interface StepOptions<P extends Params, M extends string> {
  /** Params with their defaults. Literal defaults widen (`factor: 1` gives `number`, `flag: false` gives `boolean`). */
  readonly params?: P;
  readonly metrics?: readonly M[];
  readonly cacheable?: boolean;
}

export function step<In, Out>(name: string, run: (data: In, ctx: Context<{}, never>) => Out | Promise<Out>): Step<In, Out, {}, never>;
export function step<In, Out, P extends Params = {}, const M extends string = never>(
  name: string,
  options: StepOptions<P, M>,
  run: (data: In, ctx: Context<WidenParams<P>, M>) => Out | Promise<Out>,
): Step<In, Out, WidenParams<P>, M>;
export function step(
  name: string,
  optionsOrRun: StepOptions<Params, string> | ((data: unknown, ctx: Context<Params, string>) => unknown),
  maybeRun?: (data: unknown, ctx: Context<Params, string>) => unknown,
): Step<unknown, unknown, Params, string> {
  const options = typeof optionsOrRun === "function" ? {} : (optionsOrRun ?? {});
  const run = typeof optionsOrRun === "function" ? optionsOrRun : maybeRun;
  const problems: string[] = [];
  const bad = nameProblem("step", name);
  if (bad) problems.push(bad);
  if (typeof run !== "function") problems.push("the last argument must be the step function (data, ctx) => output");
  const params = options.params ?? {};
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    problems.push("params must be an object of name: default value");
  } else {
    for (const [key, value] of Object.entries(params)) {
      const why = nonJsonReason(value, `params.${key}`);
      if (why) problems.push(`${why}; params must be JSON-serialisable (numbers, strings, booleans, null, arrays, plain objects)`);
    }
  }
  const metrics = options.metrics ?? [];
  const seen = new Set<string>();
  for (const m of metrics) {
    if (typeof m !== "string" || m.length === 0) problems.push(`metric names must be non-empty strings, got ${JSON.stringify(m)}`);
    else if (seen.has(m)) problems.push(`metric "${m}" is declared twice`);
    seen.add(m);
  }
  if (options.cacheable !== undefined && typeof options.cacheable !== "boolean") {
    problems.push("cacheable must be true or false");
  }
  if (problems.length) throw new ValidationError(`step "${String(name)}"`, problems);
  return Object.freeze({
    kind: "step",
    name,
    params: freezeJson(structuredClone(params)),
    metrics: Object.freeze([...metrics]),
    cacheable: options.cacheable ?? false,
    run: run as (data: unknown, ctx: Context<Params, string>) => unknown,
  });
}
