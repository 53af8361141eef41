// The hash that identifies a step's code: the compiler's structural hash when a manifest gives
// one, else a runtime fallback over the step's name and its normalised source text.
import { createHash } from "node:crypto";
import type { StepHashInfo } from "../dsl/plugin.js";
import type { AnyStep } from "../dsl/step.js";

const fallbackHashes = new WeakMap<AnyStep, string>();

export function fallbackStepHash(step: AnyStep): string {
  let hash = fallbackHashes.get(step);
  if (hash === undefined) {
    const text = String(step.run).replace(/\s+/g, " ").trim();
    hash = "rt1:" + createHash("sha256").update(step.name).update("\0").update(text).digest("hex").slice(0, 32);
    fallbackHashes.set(step, hash);
  }
  return hash;
}

export function stepHashOf(step: AnyStep, manifest: Readonly<Record<string, StepHashInfo>> | undefined): StepHashInfo {
  const known = manifest?.[step.name];
  if (known) return known;
  return { hash: fallbackStepHash(step), usesRandom: true };
}
