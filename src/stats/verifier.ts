// Verifier construction: option checking shared by every factory, and `verifier(name, fn)` for
// custom tests.
import { ValidationError } from "../errors.js";
import type { Alternative, Verifier, VerifierOptions, VerifierResult, VerifierSamples } from "../dsl/verifier.js";
import { mean } from "./descriptive.js";
import { cohensDUnchecked } from "./effect-size.js";
import { makeResult } from "./result.js";
import { checkSamples, describeValue } from "./samples.js";

export const ALTERNATIVES: readonly Alternative[] = Object.freeze(["two-sided", "greater", "less"]);

export interface ResolvedVerifierOptions {
  readonly alpha: number;
  readonly alternative: Alternative;
}

/**
 * Reads an options object: checks it is a plain object with only `allowed` keys (plus alpha and
 * alternative), and that alpha and alternative are valid. Returns the resolved alpha and
 * alternative and the raw object; collects every problem in `problems`.
 */
export function readOptions(
  options: unknown,
  allowed: readonly string[],
  problems: string[],
  defaults: { alpha?: number } = {},
): ResolvedVerifierOptions & { raw: Record<string, unknown> } {
  let raw: Record<string, unknown> = {};
  if (options !== undefined) {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      problems.push(`options must be an object (got ${describeValue(options)})`);
    } else {
      raw = options as Record<string, unknown>;
    }
  }
  const known = new Set(["alpha", "alternative", ...allowed]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) problems.push(`unknown option "${key}" (known: ${[...known].join(", ")})`);
  }
  let alpha = defaults.alpha ?? 0.05;
  if (raw.alpha !== undefined) {
    if (typeof raw.alpha !== "number" || !(raw.alpha > 0 && raw.alpha < 1)) {
      problems.push(`option "alpha" must be a number in (0, 1) (got ${describeValue(raw.alpha)})`);
    } else {
      alpha = raw.alpha;
    }
  }
  let alternative: Alternative = "two-sided";
  if (raw.alternative !== undefined) {
    if (!ALTERNATIVES.includes(raw.alternative as Alternative)) {
      problems.push(
        `option "alternative" must be "two-sided", "greater" or "less" (got ${describeValue(raw.alternative)})`,
      );
    } else {
      alternative = raw.alternative as Alternative;
    }
  }
  return { alpha, alternative, raw };
}

/** Throws one ValidationError listing every option problem, naming the factory. */
export function throwIfProblems(factory: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new ValidationError(`${factory}(options)`, problems);
}

/** A Verifier: a frozen `{ kind, name, alpha, alternative, options, test }`. */
export interface DefinedVerifier<O> extends Verifier {
  /** The resolved options, for provenance and display. */
  readonly options: Readonly<O>;
}

export function defineVerifier<O extends object>(
  name: string,
  resolved: ResolvedVerifierOptions,
  options: O,
  test: (samples: VerifierSamples) => VerifierResult,
): DefinedVerifier<O> {
  return Object.freeze({
    kind: "verifier" as const,
    name,
    alpha: resolved.alpha,
    alternative: resolved.alternative,
    options: Object.freeze({ ...options }),
    test,
  });
}

/** What a custom verifier's function receives besides the two samples. */
export interface VerifierContext {
  readonly alpha: number;
  readonly alternative: Alternative;
  /** Replicate index of each value, when the caller knows them (hypotheses always pass them). */
  readonly replicates?: VerifierSamples["replicates"];
}

/** What a custom verifier's function returns: at least a p-value. */
export interface CustomVerifierOutput {
  readonly pValue: number;
  /** Default: mean(treatment) - mean(baseline). */
  readonly statistic?: number;
  /** Default: Cohen's d, treatment minus baseline. */
  readonly effectSize?: number;
  readonly ci?: readonly [number, number];
  readonly df?: number;
  /** Default: the verifier's name. */
  readonly method?: string;
}

export type VerifierFunction = (
  treatment: readonly number[],
  baseline: readonly number[],
  context: VerifierContext,
) => CustomVerifierOutput;

function isNumber(v: unknown): v is number {
  return typeof v === "number";
}

/**
 * A custom verifier from `fn(treatment, baseline, { alpha, alternative, replicates })`, which must
 * return at least `{ pValue }` synchronously. Samples are checked first (two or more finite numbers
 * each side). Missing fields are filled in: statistic = difference of means, effectSize = Cohen's
 * d, method = `name`; `significant` is always `pValue < alpha` (whatever fn says).
 */
export function verifier(name: string, fn: VerifierFunction, options?: VerifierOptions): DefinedVerifier<ResolvedVerifierOptions> {
  const problems: string[] = [];
  if (typeof name !== "string" || name.trim() === "") {
    problems.push(`name must be a non-empty string (got ${describeValue(name)})`);
  }
  if (typeof fn !== "function") problems.push(`fn must be a function (got ${describeValue(fn)})`);
  const resolved = readOptions(options, [], problems);
  throwIfProblems(`verifier(${typeof name === "string" ? JSON.stringify(name) : "name"}, fn, options)`, problems);
  const context = (samples: VerifierSamples): VerifierContext =>
    Object.freeze({
      alpha: resolved.alpha,
      alternative: resolved.alternative,
      ...(samples.replicates !== undefined ? { replicates: samples.replicates } : {}),
    });
  return defineVerifier(name, resolved, { alpha: resolved.alpha, alternative: resolved.alternative }, (samples) => {
    checkSamples(name, samples);
    const treatment = Object.freeze([...samples.treatment]);
    const baseline = Object.freeze([...samples.baseline]);
    const out: unknown = fn(treatment, baseline, context(samples));
    const bad: string[] = [];
    if (out === null || typeof out !== "object" || typeof (out as { then?: unknown }).then === "function") {
      throw new ValidationError(`verifier "${name}" result`, [
        `the function must return { pValue, ... } synchronously (got ${describeValue(out)})`,
      ]);
    }
    const o = out as Record<string, unknown>;
    const pValue = o.pValue;
    if (!isNumber(pValue) || !(Number.isNaN(pValue) || (pValue >= 0 && pValue <= 1))) {
      bad.push(`pValue must be a number in [0, 1] (or NaN) (got ${describeValue(pValue)})`);
    }
    for (const key of ["statistic", "effectSize", "df"] as const) {
      if (o[key] !== undefined && !isNumber(o[key])) bad.push(`${key} must be a number (got ${describeValue(o[key])})`);
    }
    if (o.ci !== undefined && !(Array.isArray(o.ci) && o.ci.length === 2 && o.ci.every(isNumber))) {
      bad.push(`ci must be a pair of numbers [low, high]`);
    }
    if (o.method !== undefined && typeof o.method !== "string") {
      bad.push(`method must be a string (got ${describeValue(o.method)})`);
    }
    if (bad.length > 0) throw new ValidationError(`verifier "${name}" result`, bad);
    return makeResult(
      {
        pValue: pValue as number,
        statistic: isNumber(o.statistic) ? o.statistic : mean(treatment) - mean(baseline),
        effectSize: isNumber(o.effectSize) ? o.effectSize : cohensDUnchecked(treatment, baseline),
        ci: o.ci as readonly [number, number] | undefined,
        df: o.df as number | undefined,
        method: typeof o.method === "string" ? o.method : name,
      },
      resolved.alpha,
    );
  });
}
