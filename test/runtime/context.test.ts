import { describe, expect, it } from "vitest";
import { ContextMutationError, ValidationError, experiment, pipeline, source, step } from "../../src/index.js";

const one = source("one", () => 1);

describe("the frozen context", () => {
  it("ctx.add of an existing key throws ContextMutationError naming the key", async () => {
    const a = step("a", (x: number, ctx) => {
      ctx.add("model", { w: 1 });
      return x;
    });
    const b = step("b", (x: number, ctx) => {
      ctx.add("model", { w: 2 });
      return x;
    });
    const r = await experiment("ctx-dup", { source: one, pipeline: pipeline(a, b) }).run({ cache: false });
    expect(r.errors).toHaveLength(1);
    // The cause's own code and class survive the step wrapper, in toJSON() too (issue 17).
    expect(r.errors[0]).toMatchObject({ step: "b", code: "E_CONTEXT_MUTATION", name: "ContextMutationError", wrapperCode: "E_STEP_FAILED", condition: "baseline", replicate: 0 });
    expect(r.toJSON().errors[0]).toMatchObject({ step: "b", code: "E_CONTEXT_MUTATION", name: "ContextMutationError", wrapperCode: "E_STEP_FAILED" });
    expect(r.errors[0]!.message).toContain('"model"');
    const direct = step("direct", (x: number, ctx) => {
      ctx.add("k", 1);
      try {
        ctx.add("k", 2);
      } catch (e) {
        return e;
      }
      return x;
    });
    const err = await experiment("ctx-direct", { source: one, pipeline: pipeline(direct) }).apply();
    expect(err).toBeInstanceOf(ContextMutationError);
    expect((err as ContextMutationError).key).toBe("k");
    expect((err as ContextMutationError).code).toBe("E_CONTEXT_MUTATION");
  });

  it("values are frozen when added, so a later step cannot mutate what another sees", async () => {
    const writer = step("writer", (x: number, ctx) => {
      const shared = { list: [1, 2, 3], nested: { a: 1 } };
      ctx.add("shared", shared);
      expect(Object.isFrozen(shared.nested)).toBe(true);
      return x;
    });
    const mutator = step("mutator", (x: number, ctx) => {
      const v = ctx.get<{ list: number[]; nested: { a: number } }>("shared")!;
      expect(() => v.list.push(4)).toThrow(TypeError);
      expect(() => {
        v.nested.a = 2;
      }).toThrow(TypeError);
      return v.list.length + v.nested.a + x;
    });
    const out = await experiment("ctx-freeze", { source: one, pipeline: pipeline(writer, mutator) }).apply();
    expect(out).toBe(5);
  });

  it("maps, sets and typed arrays cannot be changed through the context", async () => {
    const writer = step("writer", (x: number, ctx) => {
      ctx.add("m", new Map([["a", 1]]));
      ctx.add("s", new Set([1]));
      ctx.add("t", new Float64Array([1, 2]));
      return x;
    });
    const reader = step("reader", (x: number, ctx) => {
      expect(() => ctx.get<Map<string, number>>("m")!.set("b", 2)).toThrow(ContextMutationError);
      expect(() => ctx.get<Set<number>>("s")!.add(2)).toThrow(ContextMutationError);
      ctx.get<Float64Array>("t")![0] = 99; // a copy: the stored value is untouched
      return ctx.get<Float64Array>("t")![0]! + x;
    });
    expect(await experiment("ctx-coll", { source: one, pipeline: pipeline(writer, reader) }).apply()).toBe(2);
  });

  it("records reads and writes per step in provenance", async () => {
    const w = step("w", (x: number, ctx) => {
      ctx.add("a", 1);
      return x;
    });
    const r = step("r", (x: number, ctx) => (ctx.get<number>("a") ?? 0) + x + (ctx.has("zzz") ? 1 : 0));
    const res = await experiment("ctx-prov", { source: one, pipeline: pipeline(w, r) }).run({ cache: false });
    const steps = res.provenance[0]!.steps;
    expect(steps.map((s) => s.ctx)).toEqual([
      { reads: [], wrote: ["a"] },
      { reads: ["a", "zzz"], wrote: [] },
    ]);
  });

  it("refuses an undeclared metric at run time (for plain JavaScript callers)", async () => {
    const s = step("s", { metrics: ["loss"] }, (x: number, ctx) => {
      (ctx.record as (m: string, v: number) => void)("los", 1);
      return x;
    });
    const res = await experiment("ctx-metric", { source: one, pipeline: pipeline(s) }).run({ cache: false });
    expect(res.errors[0]!.message).toMatch(/metric "los" is not declared/);
  });

  it("refuses non-finite metric values", async () => {
    const s = step("s", { metrics: ["loss"] }, (x: number, ctx) => {
      ctx.record("loss", Number.NaN);
      return x;
    });
    const res = await experiment("ctx-nan", { source: one, pipeline: pipeline(s) }).run({ cache: false });
    expect(res.errors[0]!.message).toMatch(/finite numbers/);
  });

  it("a context used after its step finished is refused", async () => {
    let leaked: { add(k: string, v: unknown): void } | undefined;
    const a = step("a", (x: number, ctx) => {
      leaked = ctx;
      return x;
    });
    const b = step("b", (x: number) => {
      expect(() => leaked!.add("late", 1)).toThrow(/after the step finished/);
      return x;
    });
    await experiment("ctx-leak", { source: one, pipeline: pipeline(a, b) }).apply();
  });

  it("ctx.add with an empty key is a ValidationError", async () => {
    const a = step("a", (x: number, ctx) => {
      ctx.add("", 1);
      return x;
    });
    await expect(experiment("ctx-empty", { source: one, pipeline: pipeline(a) }).apply()).rejects.toSatisfy(
      (e: unknown) => e instanceof Error && (e.cause as Error) instanceof ValidationError,
    );
  });
});
