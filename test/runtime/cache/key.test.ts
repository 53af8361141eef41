import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UnhashableValueError, canonicalHash } from "../../../src/runtime/canonical-hash.js";
import { cacheKey } from "../../../src/runtime/cache/key.js";
import type { StepCacheRequest } from "../../../src/runtime/services.js";

const base: StepCacheRequest = {
  experiment: "demo",
  step: "scale",
  stepHash: "rt1:abc",
  params: { factor: 1, mode: "fast" },
  input: [1, 2, 3],
  randomSeed: "123",
};

describe("cacheKey", () => {
  it("is a sha256 of the parts and returns the input's canonical hash", () => {
    const k = cacheKey(base);
    expect(k.key).toMatch(/^[0-9a-f]{64}$/);
    expect(k.inputHash).toBe(canonicalHash([1, 2, 3]));
    expect(cacheKey({ ...base }).key).toBe(k.key);
  });

  it("does not depend on params' key order", () => {
    expect(cacheKey({ ...base, params: { mode: "fast", factor: 1 } }).key).toBe(cacheKey(base).key);
  });

  it("gives a treatment's resolved params their own key (never the baseline's)", () => {
    const baseline = cacheKey({ ...base, params: { factor: 1, mode: "fast" } });
    const treated = cacheKey({ ...base, params: { factor: 2, mode: "fast" } });
    expect(treated.key).not.toBe(baseline.key);
    expect(treated.inputHash).toBe(baseline.inputHash);
  });

  it("changes with the step hash, the input, and the random-stream seed", () => {
    const k = cacheKey(base).key;
    expect(cacheKey({ ...base, stepHash: "rt1:abd" }).key).not.toBe(k);
    expect(cacheKey({ ...base, input: [1, 2, 4] }).key).not.toBe(k);
    expect(cacheKey({ ...base, randomSeed: "124" }).key).not.toBe(k);
    const { randomSeed: _r, ...noSeed } = base;
    expect(cacheKey(noSeed).key).not.toBe(k);
  });

  it("does not depend on the experiment's or step's label beyond the step hash", () => {
    // The step hash identifies the code; the same computation is shared across experiments.
    expect(cacheKey({ ...base, experiment: "other" }).key).toBe(cacheKey(base).key);
  });

  it("changes when any param changes (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue(), { minKeys: 1, maxKeys: 5 }),
        fc.nat(),
        fc.jsonValue(),
        (params, pick, value) => {
          const keys = Object.keys(params);
          const k = keys[pick % keys.length] as string;
          fc.pre(canonicalHash(params[k]) !== canonicalHash(value));
          const changed = { ...params };
          Object.defineProperty(changed, k, { value, enumerable: true, writable: true, configurable: true });
          expect(cacheKey({ ...base, params: changed }).key).not.toBe(cacheKey({ ...base, params }).key);
        },
      ),
    );
  });

  it("names the step and the path when the input cannot be hashed", () => {
    const err = (() => {
      try {
        cacheKey({ ...base, input: { rows: [1, () => 2] } });
      } catch (e) {
        return e as UnhashableValueError;
      }
      throw new Error("expected a throw");
    })();
    expect(err).toBeInstanceOf(UnhashableValueError);
    expect(err.message).toMatch(/input of cacheable step "scale" at \$\.rows\[1\]/);
    expect(err.message).toMatch(/cacheable: false/);
  });
});
