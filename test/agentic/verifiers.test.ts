// metamorphicVerifier and acceptanceVerifier against the Verifier contract.
import { describe, expect, it } from "vitest";
import { acceptanceVerifier, claim, metamorphicVerifier, relativeChangePct } from "../../src/agentic/index.js";
import type { Verifier } from "../../src/dsl/verifier.js";
import { ValidationError } from "../../src/errors.js";

describe("metamorphicVerifier", () => {
  it("is a Verifier", () => {
    const v: Verifier = metamorphicVerifier();
    expect(v).toMatchObject({ kind: "verifier", name: "metamorphicVerifier", alpha: 0.05, alternative: "greater" });
    expect(Object.isFrozen(v)).toBe(true);
  });

  it("is significant only when every treatment replicate passed (by default)", () => {
    const v = metamorphicVerifier();
    const r = v.test({ treatment: [1, 1, 1], baseline: [1, 0, 1] });
    expect(r).toMatchObject({ significant: true, pValue: 0 });
    expect(r.statistic).toBeCloseTo(1 / 3, 12);
    expect(v.test({ treatment: [1, 0, 1], baseline: [1, 1, 1] })).toMatchObject({ significant: false, pValue: 1 });
    expect(v.test({ treatment: [], baseline: [1] })).toMatchObject({ significant: false });
  });

  it("accepts a lower pass rate when asked", () => {
    const v = metamorphicVerifier({ minPassRate: 0.6 });
    expect(v.test({ treatment: [1, 0, 1], baseline: [] }).significant).toBe(true);
    expect(v.test({ treatment: [1, 0, 0], baseline: [] }).significant).toBe(false);
  });

  it("refuses values that are not pass flags, and bad options", () => {
    expect(() => metamorphicVerifier().test({ treatment: [0.5], baseline: [] })).toThrow(ValidationError);
    expect(() => metamorphicVerifier({ minPassRate: 0 })).toThrow(/minPassRate/);
  });
});

describe("acceptanceVerifier", () => {
  it("computes relative change, guarding a zero baseline", () => {
    expect(relativeChangePct(110, 100)).toBeCloseTo(10);
    expect(relativeChangePct(-90, -100)).toBeCloseTo(10);
    expect(relativeChangePct(0, 0)).toBe(0);
    expect(relativeChangePct(1, 0)).toBe(Infinity);
  });

  it("takes direction and threshold from the claim", () => {
    const v = acceptanceVerifier({ claim: claim({ id: "c", text: "rmse drops by 5%", metric: "rmse", direction: "decrease", threshold: 5 }) });
    expect(v.options).toEqual({ direction: "decrease", threshold: 5, alpha: 0.05 });
    expect(v.alternative).toBe("less");
  });

  it("needs both a significant one-sided t-test and the threshold with two or more values a side", () => {
    const v = acceptanceVerifier({ direction: "increase", threshold: 5 });
    const strong = v.test({ treatment: [120, 121, 119, 122], baseline: [100, 101, 99, 100] });
    expect(strong.significant).toBe(true);
    expect(strong.pValue).toBeLessThan(0.05);
    expect(strong.statistic).toBeCloseTo(20.5, 9);
    expect(strong.method).toMatch(/Welch/);
    // Significant but too small an effect.
    const small = v.test({ treatment: [102, 102.1, 101.9, 102], baseline: [100, 100.1, 99.9, 100] });
    expect(small.pValue).toBeLessThan(0.05);
    expect(small.significant).toBe(false);
    // The wrong direction.
    expect(v.test({ treatment: [80, 81, 79], baseline: [100, 101, 99] }).significant).toBe(false);
  });

  it("falls back to the decision rule with a single value a side or no variance", () => {
    const v = acceptanceVerifier({ direction: "decrease", threshold: 10 });
    expect(v.test({ treatment: [80], baseline: [100] })).toMatchObject({ significant: true, pValue: 0 });
    expect(v.test({ treatment: [95], baseline: [100] })).toMatchObject({ significant: false, pValue: 1 });
    expect(v.test({ treatment: [80, 80], baseline: [100, 100] }).significant).toBe(true);
  });

  it("with threshold 0 requires a strict improvement", () => {
    const v = acceptanceVerifier();
    expect(v.test({ treatment: [1], baseline: [1] }).significant).toBe(false);
    expect(v.test({ treatment: [2], baseline: [1] }).significant).toBe(true);
  });

  it("validates options", () => {
    expect(() => acceptanceVerifier({ threshold: -1, alpha: 2, direction: "up" as never })).toThrow(/direction[\s\S]*threshold[\s\S]*alpha/);
  });
});
