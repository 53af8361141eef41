// randomSearch(space, { trials, seed }): `trials` independent samples of the space, drawn from a
// seeded stream (the same seed gives the same proposals). A list is sampled uniformly; a range
// uniformly, log-uniformly (`log: true`) or as an integer (`integer: true`). Named random_<i>.
import type { Params } from "../../dsl/json.js";
import type { Optimizer } from "../../dsl/optimizer.js";
import { seedProblem } from "../../dsl/validate.js";
import { ValidationError } from "../../errors.js";
import { createRandom } from "../seeds.js";
import { enumeratedOptimizer } from "./enumerated.js";
import { isRange, spaceProblems, type Range, type RandomSpace, type RandomValues } from "./search-space.js";

export interface RandomSearchOptions {
  /** How many samples to propose. */
  readonly trials: number;
  /** Seed of the sampling stream; default 0. */
  readonly seed?: number;
}

function sampleRange(range: Range, u: number): number {
  if (range.integer) {
    const lo = Math.ceil(range.min);
    const hi = Math.floor(range.max);
    if (range.log) {
      const x = Math.exp(Math.log(lo) + u * (Math.log(hi + 1) - Math.log(lo)));
      return Math.min(hi, Math.max(lo, Math.floor(x)));
    }
    return lo + Math.floor(u * (hi - lo + 1));
  }
  if (range.log) return Math.exp(Math.log(range.min) + u * (Math.log(range.max) - Math.log(range.min)));
  return range.min + u * (range.max - range.min);
}

export function randomSearch<const S extends RandomSpace>(space: S, options: RandomSearchOptions): Optimizer<RandomValues<S>> {
  const problems = spaceProblems(space, true);
  const trials = options?.trials;
  if (!Number.isInteger(trials) || trials < 1) problems.push(`trials must be a positive integer, got ${JSON.stringify(trials)}`);
  const sp = seedProblem(options?.seed, "seed");
  if (sp) problems.push(sp);
  if (problems.length) throw new ValidationError("randomSearch()", problems);
  const seed = options.seed ?? 0;
  const keys = Object.keys(space);
  const random = createRandom(`randomSearch/${seed}`);

  const sample = (): Params => {
    const values: Record<string, unknown> = {};
    for (const k of keys) {
      const entry = space[k]!;
      const u = random();
      const v = isRange(entry) ? sampleRange(entry, u) : (entry as readonly unknown[])[Math.floor(u * (entry as readonly unknown[]).length)];
      Object.defineProperty(values, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return values as Params;
  };

  // Candidates are drawn in order from one seeded stream, so candidate i is the i-th draw.
  return enumeratedOptimizer<RandomValues<S>>("randomSearch", "random", trials, () => sample());
}
