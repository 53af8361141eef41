// seed({ seed?, perReplicate? = true }): chooses the master seed and whether each replicate gets
// its own seed. Seeding itself is pure (see runtime/seeds.ts): no global RNG is touched.
import type { Plugin } from "../dsl/plugin.js";
import { seedProblem } from "../dsl/validate.js";
import { ValidationError } from "../errors.js";

export interface SeedOptions {
  /** Master seed (an experiment's own `seed` or a run's `seed` option takes precedence). */
  readonly seed?: number;
  /** true (default): replicate r gets seed mix(master, r); false: every replicate gets the master seed. */
  readonly perReplicate?: boolean;
}

export interface SeedPlugin extends Plugin {
  readonly seeding: { readonly seed?: number; readonly perReplicate: boolean };
}

export function seed(options: SeedOptions = {}): SeedPlugin {
  const problem = seedProblem(options.seed, "seed({ seed })");
  if (problem) throw new ValidationError("seed()", [problem]);
  return Object.freeze({
    name: "seed",
    seeding: Object.freeze({
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      perReplicate: options.perReplicate ?? true,
    }),
  });
}
