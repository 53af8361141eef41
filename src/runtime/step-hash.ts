// The hash that identifies a step's code: the compiler's structural hash when a manifest gives
// one, else the runtime fallback over the step's name and its normalised source text.
import type { StepHashInfo } from "../dsl/plugin.js";
import type { AnyStep } from "../dsl/step.js";
import { fallbackStepHash } from "./cache/fallback-step-hash.js";

const fallbackHashes = new WeakMap<AnyStep, StepHashInfo>();

export function stepHashOf(step: AnyStep, manifest: Readonly<Record<string, StepHashInfo>> | undefined): StepHashInfo {
  const known = manifest?.[step.name];
  if (known) return known;
  let info = fallbackHashes.get(step);
  if (info === undefined) {
    // Without the compiler we cannot know whether the step draws random numbers: assume it does
    // (its stream seed then enters the cache key, which is always safe).
    info = { hash: fallbackStepHash(step.name, step.run as (...args: never[]) => unknown), usesRandom: true };
    fallbackHashes.set(step, info);
  }
  return info;
}
