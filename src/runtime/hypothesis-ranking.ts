// Direction-aware ranking of a hypothesis' treatments. A p-value says how surely a treatment
// differs from the baseline, not whether it is better: with a two-sided test the p-value alone
// ranked a treatment that is significantly WORSE first. So each treatment gets an effect
// ("better", "worse" or "same", from the observed mean difference on each metric and the
// hypothesis' direction), and the ranking orders by evidence of being better:
//   0  better (on every metric it moved) and significant
//   1  better, not significant
//   2  same, or worse but not significantly
//   3  significantly worse (on some metric)
// and by score within a tier. A custom `rank` orders every tier ascending, as its contract says
// (lower is better). The default score, the p-value, is read as evidence of being better: with a
// two-sided test a smaller p among worse treatments means more surely worse, so tiers 2 and 3
// order by p descending; a one-sided test in the better direction already measures "better" (p
// ascending everywhere), one in the other direction measures "worse" (p descending everywhere).
// NaN scores go last in their tier.
import type { HypothesisDirection } from "../dsl/hypothesis.js";
import type { HypothesisEffect } from "../dsl/result.js";
import type { Alternative, VerifierResult } from "../dsl/verifier.js";

/** The hypothesis' direction: as given, else from a one-sided alternative, else "increase". */
export function directionOf(given: HypothesisDirection | undefined, alternative: Alternative): HypothesisDirection {
  if (given !== undefined) return given;
  return alternative === "less" ? "decrease" : "increase";
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** The effect on one metric: the sign of mean(treatment) − mean(baseline), read in the direction. */
export function metricEffect(direction: HypothesisDirection, treatment: readonly number[], baseline: readonly number[]): HypothesisEffect {
  const d = mean(treatment) - mean(baseline);
  if (!(d !== 0) || Number.isNaN(d)) return "same";
  return (d > 0) === (direction === "increase") ? "better" : "worse";
}

/** Worse on any metric is worse; else better on any is better; else the same. */
export function combinedEffect(effects: readonly HypothesisEffect[]): HypothesisEffect {
  if (effects.includes("worse")) return "worse";
  return effects.includes("better") ? "better" : "same";
}

export interface RankInput {
  readonly effect: HypothesisEffect;
  /** The combined result (significant on every metric). */
  readonly result: VerifierResult;
  /** Per-metric results with their effects (significantly worse on one metric is enough). */
  readonly perMetric: readonly { readonly result: VerifierResult; readonly effect: HypothesisEffect }[];
  readonly score: number;
}

export function tierOf(t: RankInput): number {
  if (t.perMetric.some((m) => m.effect === "worse" && m.result.significant)) return 3;
  if (t.effect === "better") return t.result.significant ? 0 : 1;
  return 2;
}

/** How scores order within tiers: a custom rank, or the default p-value of a test with this alternative. */
export type ScoreReading = { readonly custom: true } | { readonly custom: false; readonly alternative: Alternative; readonly direction: HypothesisDirection };

/** +1: lower score first within the tier; -1: higher score first. */
function orientation(reading: ScoreReading, tier: number): 1 | -1 {
  if (reading.custom) return 1;
  if (reading.alternative === "two-sided") return tier < 2 ? 1 : -1;
  const agrees = (reading.alternative === "greater") === (reading.direction === "increase");
  return agrees ? 1 : -1;
}

/** Indices of `items`, best first (ties keep the given order). */
export function rankOrder(items: readonly RankInput[], reading: ScoreReading): number[] {
  const tiers = items.map(tierOf);
  const order = items.map((_, i) => i);
  order.sort((i, j) => {
    const ti = tiers[i] as number;
    const tj = tiers[j] as number;
    if (ti !== tj) return ti - tj;
    const a = (items[i] as RankInput).score;
    const b = (items[j] as RankInput).score;
    if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b)) || i - j;
    const ascending = a < b ? -1 : a > b ? 1 : 0;
    return orientation(reading, ti) * ascending || i - j;
  });
  return order;
}
