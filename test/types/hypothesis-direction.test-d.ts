// Issue 14: a hypothesis' direction is typed, and the report says which way is better per treatment.
import { describe, expectTypeOf, it } from "vitest";
import { hypothesis, type HypothesisDirection, type HypothesisEffect, type HypothesisReport, type Verifier } from "../../src/dsl/index.js";

declare const test: Verifier;

describe("hypothesis direction", () => {
  it("accepts increase or decrease, nothing else", () => {
    hypothesis("loss_down", { metric: "loss", test, direction: "decrease" });
    hypothesis("acc_up", { metric: "acc", test, direction: "increase" });
    // @ts-expect-error not a direction
    hypothesis("h", { metric: "acc", test, direction: "up" });
  });
  it("is reported with an effect per treatment", () => {
    expectTypeOf<HypothesisReport<"a" | "b">["direction"]>().toEqualTypeOf<HypothesisDirection>();
    expectTypeOf<HypothesisReport<"a" | "b">["effects"]>().toEqualTypeOf<Readonly<Record<"a" | "b", HypothesisEffect>>>();
    expectTypeOf<HypothesisEffect>().toEqualTypeOf<"better" | "worse" | "same">();
  });
});
