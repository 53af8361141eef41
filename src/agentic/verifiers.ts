// Verifiers for agentic hypotheses (the Verifier contract of src/dsl/verifier.ts).
//
// metamorphicVerifier: on `${name}_pass` metrics (1 or 0 per replicate). A decision rule, not a
// statistical test: significant when the treatment's pass rate reaches `minPassRate` (default 1,
// every replicate passed); pValue is 0 then, else 1. statistic and effectSize are the pass rate of
// the treatment minus the baseline's.
//
// acceptanceVerifier: does the claim's metric move the claimed way by at least the threshold?
// The relative change is 100 * (mean(treatment) - mean(baseline)) / |mean(baseline)|. With two or
// more values on each side a one-sided Welch t-test in the claimed direction gives the p-value;
// significant = p < alpha AND the change reaches the threshold. With fewer values no test is
// possible and the rule alone decides (pValue 0 when it holds, else 1).
import { ValidationError } from "../errors.js";
import type { Alternative, Verifier, VerifierResult, VerifierSamples } from "../dsl/verifier.js";
import { welchTTest } from "../stats/t-tests.js";
import type { Claim, ClaimDirection } from "./schema.js";

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export interface MetamorphicVerifierOptions {
  /** Share of the treatment's replicates that must pass. Default 1 (all). */
  readonly minPassRate?: number;
}

export interface AgenticVerifier<O> extends Verifier {
  readonly options: Readonly<O>;
}

export function metamorphicVerifier(options: MetamorphicVerifierOptions = {}): AgenticVerifier<Required<MetamorphicVerifierOptions>> {
  const minPassRate = options.minPassRate ?? 1;
  if (typeof minPassRate !== "number" || !(minPassRate > 0 && minPassRate <= 1)) {
    throw new ValidationError("metamorphicVerifier(options)", [`minPassRate must be a number in (0, 1], got ${JSON.stringify(options.minPassRate)}`]);
  }
  return Object.freeze({
    kind: "verifier" as const,
    name: "metamorphicVerifier",
    alpha: 0.05,
    alternative: "greater" as const,
    options: Object.freeze({ minPassRate }),
    test(samples: VerifierSamples): VerifierResult {
      const bad = [...samples.treatment, ...samples.baseline].filter((v) => v !== 0 && v !== 1);
      if (bad.length) {
        throw new ValidationError("metamorphicVerifier", [`expects *_pass metrics of 0 or 1, got ${bad.slice(0, 3).join(", ")}`]);
      }
      const rate = samples.treatment.length ? mean(samples.treatment) : 0;
      const baseRate = samples.baseline.length ? mean(samples.baseline) : 0;
      const significant = samples.treatment.length > 0 && rate >= minPassRate;
      return Object.freeze({
        pValue: significant ? 0 : 1,
        statistic: rate - baseRate,
        significant,
        effectSize: rate - baseRate,
        method: `metamorphic pass rate >= ${minPassRate} (decision rule)`,
      });
    },
  });
}

export interface AcceptanceVerifierOptions {
  /** Take direction and threshold from a claim. */
  readonly claim?: Claim;
  /** Which way the treatment must move the metric. Default: the claim's, else "increase". */
  readonly direction?: ClaimDirection;
  /** Smallest relative change, in percent of the baseline mean. Default: the claim's, else 0. */
  readonly threshold?: number;
  /** Significance level of the t-test. Default 0.05. */
  readonly alpha?: number;
}

export interface ResolvedAcceptance {
  readonly direction: ClaimDirection;
  readonly threshold: number;
  readonly alpha: number;
}

/** 100 * (t - b) / |b|; infinite (signed) for a zero baseline with a different treatment mean. */
export function relativeChangePct(treatmentMean: number, baselineMean: number): number {
  if (baselineMean === 0) return treatmentMean === 0 ? 0 : Math.sign(treatmentMean) * Infinity;
  return (100 * (treatmentMean - baselineMean)) / Math.abs(baselineMean);
}

export function acceptanceVerifier(options: AcceptanceVerifierOptions = {}): AgenticVerifier<ResolvedAcceptance> {
  const problems: string[] = [];
  const direction = options.direction ?? options.claim?.direction ?? "increase";
  const threshold = options.threshold ?? options.claim?.threshold ?? 0;
  const alpha = options.alpha ?? 0.05;
  if (direction !== "increase" && direction !== "decrease") problems.push(`direction must be "increase" or "decrease"`);
  if (typeof threshold !== "number" || !Number.isFinite(threshold) || threshold < 0) problems.push("threshold must be a finite number >= 0 (percent)");
  if (typeof alpha !== "number" || !(alpha > 0 && alpha < 1)) problems.push("alpha must be in (0, 1)");
  if (problems.length) throw new ValidationError("acceptanceVerifier(options)", problems);
  const alternative: Alternative = direction === "increase" ? "greater" : "less";
  const welch = welchTTest({ alpha, alternative });

  return Object.freeze({
    kind: "verifier" as const,
    name: "acceptanceVerifier",
    alpha,
    alternative,
    options: Object.freeze({ direction, threshold, alpha }),
    test(samples: VerifierSamples): VerifierResult {
      const t = mean(samples.treatment);
      const b = mean(samples.baseline);
      const change = relativeChangePct(t, b);
      const improvement = direction === "increase" ? change : -change;
      const meets = Number.isFinite(t) && Number.isFinite(b) && improvement >= threshold && (threshold > 0 || improvement > 0);
      let r: VerifierResult | undefined;
      if (samples.treatment.length >= 2 && samples.baseline.length >= 2) {
        try {
          r = welch.test(samples);
        } catch {
          r = undefined; // e.g. no variance on either side: the decision rule below decides
        }
      }
      if (r !== undefined && !Number.isNaN(r.pValue)) {
        const significant = r.pValue < alpha && meets;
        return Object.freeze({
          ...r,
          statistic: change,
          significant,
          method: `relative change >= ${threshold}% (${direction}) and one-sided Welch's t-test`,
        });
      }
      return Object.freeze({
        pValue: meets ? 0 : 1,
        statistic: change,
        significant: meets,
        effectSize: 0,
        method: `relative change >= ${threshold}% (${direction}), decision rule (no t-test possible)`,
      });
    },
  });
}
