// crystallize/stats: statistical tests ("verifiers") for hypotheses, effect sizes and
// multiple-comparison corrections. Conventions: a verifier compares the treatment (first sample)
// with the baseline (second); statistic, effect size and interval are oriented treatment minus
// baseline; alternative "greater" means treatment greater than baseline.
export type { Alternative, Verifier, VerifierOptions, VerifierResult, VerifierSamples } from "../dsl/verifier.js";

export { welchTTest, studentTTest, pairedTTest, type TTestOptions } from "./t-tests.js";
export { mannWhitneyU, type MannWhitneyOptions, type MannWhitneyMethod } from "./mann-whitney.js";
export {
  permutationTest,
  bootstrapCI,
  type PermutationTestOptions,
  type ResolvedPermutationOptions,
  type BootstrapOptions,
  type ResolvedBootstrapOptions,
  type BootstrapMethod,
} from "./resampling.js";
export {
  verifier,
  type DefinedVerifier,
  type ResolvedVerifierOptions,
  type VerifierContext,
  type VerifierFunction,
  type CustomVerifierOutput,
} from "./verifier.js";
export { cohensD, hedgesG, cohensDz } from "./effect-size.js";
export {
  holm,
  bonferroni,
  benjaminiHochberg,
  adjustPValues,
  CORRECTION_METHODS,
  type CorrectionMethod,
  type CorrectionResult,
} from "./corrections.js";
export type { Seed } from "./rng.js";
