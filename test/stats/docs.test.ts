// docs/stats.md documents every verifier with an example, and the numbers it quotes are what the
// code returns.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as stats from "../../src/stats/index.js";

const doc = readFileSync(new URL("../../docs/stats.md", import.meta.url), "utf8");
const codeBlocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);

const treatment = [12.1, 13.4, 11.8, 14.2, 13.0, 12.7, 13.9, 12.5];
const baseline = [11.2, 12.0, 11.5, 12.8, 11.9, 12.3, 11.1, 12.4];
const s = { treatment, baseline };

/** Truncated to six decimals, as the docs quote them ("0.013485…"). */
function quoted(x: number): string {
  return (Math.trunc(x * 1e6) / 1e6).toFixed(6);
}

describe("docs/stats.md", () => {
  const verifiers = ["welchTTest", "studentTTest", "pairedTTest", "mannWhitneyU", "permutationTest", "bootstrapCI", "verifier"];

  it("has a section and a TypeScript example for every verifier and helper", () => {
    for (const name of verifiers) {
      expect(doc, name).toContain(`### \`${name}(`);
      expect(codeBlocks.some((b) => b.includes(`${name}(`)), `${name} example`).toBe(true);
      expect(typeof (stats as Record<string, unknown>)[name]).toBe("function");
    }
    for (const name of ["cohensD", "hedgesG", "cohensDz", "holm", "bonferroni", "benjaminiHochberg"]) {
      expect(doc, name).toContain(`\`${name}(`);
    }
  });

  it("quotes the numbers the code returns", () => {
    const checks: [string, number][] = [
      ["welch p", stats.welchTTest().test(s).pValue],
      ["welch t", stats.welchTTest().test(s).statistic],
      ["welch df", stats.welchTTest().test(s).df as number],
      ["welch greater", stats.welchTTest({ alternative: "greater" }).test(s).pValue],
      ["student p", stats.studentTTest().test(s).pValue],
      ["paired p", stats.pairedTTest().test(s).pValue],
      ["paired t", stats.pairedTTest().test(s).statistic],
      ["mann-whitney p", stats.mannWhitneyU().test(s).pValue],
      ["permutation p", stats.permutationTest({ permutations: 10_000, seed: 42 }).test(s).pValue],
      ["bootstrap p", stats.bootstrapCI({ resamples: 10_000, confidence: 0.95, method: "bca", seed: 42 }).test(s).pValue],
      ["cohen's d", stats.cohensD(treatment, baseline)],
      ["hedges' g", stats.hedgesG(treatment, baseline)],
      ["d_z", stats.cohensDz(treatment, baseline)],
    ];
    for (const [label, value] of checks) expect(doc, label).toContain(quoted(value));
    expect(stats.mannWhitneyU().test(s).method).toBe("Mann-Whitney U test (exact)");
    expect(stats.permutationTest({ permutations: 20_000 }).test(s).method).toBe("Permutation test (exact, all 12870 splits)");
    expect(stats.bootstrapCI({ resamples: 10_000, confidence: 0.95, method: "bca", seed: 42 }).test(s).ci).toEqual([
      0.40000000000000036, 1.7250000000000014,
    ]);
    expect(doc).toContain(quoted(stats.permutationTest({ permutations: 20_000 }).test(s).pValue));
    expect(stats.holm([0.01, 0.04, 0.03, 0.2]).adjusted).toEqual([0.04, 0.09, 0.09, 0.2]);
    expect(doc).toContain("[0.04, 0.09, 0.09, 0.2]");
  });
});
