// Checking what a verifier is given. Every verifier needs at least two finite numbers on each side;
// a paired test also needs a partner for every value.
import { ValidationError } from "../errors.js";
import type { VerifierSamples } from "../dsl/verifier.js";

export type SampleSide = "treatment" | "baseline";

/** Describes a bad value for a message: `"abc" (a string)`, `NaN`, `Infinity`. */
export function describeValue(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return `${JSON.stringify(value)} (a string)`;
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/**
 * Problems with one sample, as sentences ("the treatment sample has 1 value; at least 2 are
 * needed"). Empty when the sample is fine.
 */
export function sampleProblems(side: SampleSide, values: unknown, minimum = 2): string[] {
  if (!Array.isArray(values) && !ArrayBuffer.isView(values)) {
    return [`the ${side} sample must be an array of numbers (got ${describeValue(values)})`];
  }
  const list = values as ArrayLike<unknown>;
  const problems: string[] = [];
  const bad: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      if (bad.length < 5) bad.push(`value ${i} is ${describeValue(v)}`);
      else if (bad.length === 5) bad.push("…");
    }
  }
  if (bad.length > 0) {
    problems.push(`the ${side} sample must hold finite numbers only: ${bad.join(", ")}`);
  }
  if (list.length < minimum) {
    problems.push(
      `the ${side} sample has ${list.length} value${list.length === 1 ? "" : "s"}; at least ${minimum} are needed`,
    );
  }
  return problems;
}

/** Throws a ValidationError naming the test and every problem with either sample. */
export function checkSamples(method: string, samples: VerifierSamples, minimum = 2): void {
  if (samples === null || typeof samples !== "object") {
    throw new ValidationError(`${method}: samples`, [
      `expected { treatment: number[], baseline: number[] } (got ${describeValue(samples)})`,
    ]);
  }
  const problems = [
    ...sampleProblems("treatment", samples.treatment, minimum),
    ...sampleProblems("baseline", samples.baseline, minimum),
  ];
  if (problems.length > 0) throw new ValidationError(`${method}: samples`, problems);
}

/**
 * Pairs treatment and baseline values for a paired test. With replicate indices, the k-th value
 * of replicate r in the treatment pairs with the k-th value of replicate r in the baseline, and a
 * value without a partner is an error (it would silently change the analysis). Without them,
 * values pair by position and the lengths must match.
 */
export function pairValues(method: string, samples: VerifierSamples): { treatment: number[]; baseline: number[] } {
  const { treatment, baseline, replicates } = samples;
  if (replicates === undefined) {
    if (treatment.length !== baseline.length) {
      throw new ValidationError(`${method}: samples`, [
        `a paired test needs as many treatment values as baseline values (got ${treatment.length} and ${baseline.length})`,
      ]);
    }
    return { treatment: [...treatment], baseline: [...baseline] };
  }
  const problems: string[] = [];
  for (const side of ["treatment", "baseline"] as const) {
    const idx: unknown = replicates[side];
    if (!Array.isArray(idx) || idx.length !== samples[side].length) {
      problems.push(
        `replicates.${side} must give one replicate index per ${side} value (${samples[side].length} values)`,
      );
    } else if (!idx.every((r) => typeof r === "number" && Number.isInteger(r))) {
      problems.push(`replicates.${side} must hold integer replicate indices`);
    }
  }
  if (problems.length > 0) throw new ValidationError(`${method}: samples`, problems);

  const group = (values: readonly number[], idx: readonly number[]): Map<number, number[]> => {
    const byReplicate = new Map<number, number[]>();
    values.forEach((v, i) => {
      const r = idx[i] as number;
      const list = byReplicate.get(r);
      if (list) list.push(v);
      else byReplicate.set(r, [v]);
    });
    return byReplicate;
  };
  const t = group(treatment, replicates.treatment);
  const b = group(baseline, replicates.baseline);
  const keys = [...new Set([...t.keys(), ...b.keys()])].sort((x, y) => x - y);
  const pairedT: number[] = [];
  const pairedB: number[] = [];
  const onlyT: number[] = [];
  const onlyB: number[] = [];
  for (const r of keys) {
    const tv = t.get(r) ?? [];
    const bv = b.get(r) ?? [];
    if (tv.length > bv.length) onlyT.push(r);
    if (bv.length > tv.length) onlyB.push(r);
    const n = Math.min(tv.length, bv.length);
    for (let k = 0; k < n; k++) {
      pairedT.push(tv[k] as number);
      pairedB.push(bv[k] as number);
    }
  }
  const list = (rs: number[]): string =>
    `replicate${rs.length === 1 ? "" : "s"} ${rs.length > 8 ? `${rs.slice(0, 8).join(", ")}, …` : rs.join(", ")}`;
  if (onlyT.length > 0) {
    problems.push(`${list(onlyT)} ${onlyT.length === 1 ? "has" : "have"} a treatment value without a baseline partner`);
  }
  if (onlyB.length > 0) {
    problems.push(`${list(onlyB)} ${onlyB.length === 1 ? "has" : "have"} a baseline value without a treatment partner`);
  }
  if (problems.length > 0) {
    throw new ValidationError(`${method}: samples`, [
      `a paired test needs every value paired by replicate (got ${treatment.length} treatment and ${baseline.length} baseline values)`,
      ...problems,
    ]);
  }
  return { treatment: pairedT, baseline: pairedB };
}
