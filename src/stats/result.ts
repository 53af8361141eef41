// Building verifier results: frozen plain objects with a fixed key order, so that a result
// serialises the same way every time.
import type { VerifierResult } from "../dsl/verifier.js";

export interface ResultFields {
  readonly pValue: number;
  readonly statistic: number;
  readonly effectSize: number;
  readonly ci?: readonly [number, number] | undefined;
  readonly df?: number | undefined;
  readonly method: string;
  readonly adjustedPValue?: number | undefined;
}

/**
 * A frozen VerifierResult: `{ pValue, statistic, significant, effectSize, ci?, df?, method,
 * adjustedPValue? }` in that order. `significant` is `p < alpha`, p being the adjusted p-value
 * when there is one (a NaN p-value is never significant).
 */
export function makeResult(fields: ResultFields, alpha: number): VerifierResult {
  const decisive = fields.adjustedPValue ?? fields.pValue;
  const result: VerifierResult = {
    pValue: fields.pValue,
    statistic: fields.statistic,
    significant: decisive < alpha,
    effectSize: fields.effectSize,
    ...(fields.ci !== undefined ? { ci: Object.freeze([fields.ci[0], fields.ci[1]] as const) } : {}),
    ...(fields.df !== undefined ? { df: fields.df } : {}),
    method: fields.method,
    ...(fields.adjustedPValue !== undefined ? { adjustedPValue: fields.adjustedPValue } : {}),
  };
  return Object.freeze(result);
}

/** The same result with an adjusted p-value, `significant` now deciding on it. */
export function withAdjustedPValue(result: VerifierResult, adjustedPValue: number, alpha: number): VerifierResult {
  return makeResult({ ...result, adjustedPValue }, alpha);
}
