// The shape every statistical test (a "verifier") has. Implementations live in src/stats/;
// the DSL only needs the type, so that hypotheses can name a test without importing jstat.

export type Alternative = "two-sided" | "greater" | "less";

export interface VerifierOptions {
  /** Significance level; default 0.05. */
  readonly alpha?: number;
  /** "greater" means treatment greater than baseline. Default "two-sided". */
  readonly alternative?: Alternative;
}

export interface VerifierResult {
  readonly pValue: number;
  /** Oriented treatment minus baseline (Mann-Whitney: the treatment's U). */
  readonly statistic: number;
  /** `pValue < alpha`, or `adjustedPValue < alpha` when a correction applies. */
  readonly significant: boolean;
  /** Cohen's d, treatment minus baseline. */
  readonly effectSize: number;
  /** Confidence interval of the difference, treatment minus baseline. */
  readonly ci?: readonly [number, number];
  readonly df?: number;
  /** A human-readable name of the method, e.g. "Welch's t-test". */
  readonly method: string;
  /** Set when the hypothesis applies a multiple-comparison correction. */
  readonly adjustedPValue?: number;
}

/** What a verifier is given: all values of one metric in each condition. */
export interface VerifierSamples {
  /** First sample: all values of the metric in the treatment, in replicate order. */
  readonly treatment: readonly number[];
  /** Second sample: all values of the metric in the baseline, in replicate order. */
  readonly baseline: readonly number[];
  /**
   * The replicate index of each value above, in the same order. A paired test uses these to pair
   * treatment and baseline values by replicate (values of replicates missing on either side are
   * dropped by the caller before pairing, or by the test).
   */
  readonly replicates?: { readonly treatment: readonly number[]; readonly baseline: readonly number[] };
}

export interface Verifier {
  readonly kind: "verifier";
  readonly name: string;
  readonly alpha: number;
  readonly alternative: Alternative;
  /** Pure and deterministic: the same samples give the same result (seeded tests carry their seed). */
  test(samples: VerifierSamples): VerifierResult;
}
