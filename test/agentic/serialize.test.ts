// The child's result serialiser, run directly: it copies plain data, never runs guest code, and
// stops at the byte cap.
import { describe, expect, it } from "vitest";
import { serializeResult } from "../../src/agentic/sandbox/serialize.js";

const ok = (v: unknown, cap = 1 << 20) => {
  const r = serializeResult(v, cap);
  if (!r.ok) throw new Error(r.failure.message);
  return r.value;
};
const failure = (v: unknown, cap = 1 << 20) => {
  const r = serializeResult(v, cap);
  if (r.ok) throw new Error("expected a failure");
  return r.failure;
};

describe("serializeResult", () => {
  it("copies plain data into fresh objects", () => {
    const input = { a: [1, "x", null, true, undefined], b: { c: 2n }, d: new Date(3), e: new Int16Array([1, 2]) };
    const out = ok(input) as typeof input;
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(out.a).not.toBe(input.a);
    expect(ok([1, , 3])).toEqual([1, null, 3]);
    expect(ok(Object.create(null, { k: { value: 1, enumerable: true } }))).toEqual({ k: 1 });
  });

  it("never calls getters, toJSON or proxy traps", () => {
    let touched = 0;
    const trap = () => {
      touched++;
      return 1;
    };
    expect(failure({ get x() { return trap(); } })).toMatchObject({ reason: "non-serialisable-result", message: expect.stringMatching(/result\.x is a getter/) });
    expect(failure({ toJSON: trap })).toMatchObject({ message: expect.stringMatching(/function/) });
    expect(failure({ deep: [new Proxy({}, { get: trap, ownKeys: () => (touched++, []), getPrototypeOf: () => (touched++, null) })] })).toMatchObject({
      message: "result.deep[0] is a Proxy; return plain data",
    });
    const arr = [1, 2];
    Object.defineProperty(arr, 1, { get: trap, enumerable: true });
    expect(failure(arr).message).toBe("result[1] is a getter; return plain data");
    expect(touched).toBe(0);
  });

  it("refuses cycles, class instances, Maps and array subclasses with a path", () => {
    const cyc: Record<string, unknown> = {};
    cyc.self = { back: cyc };
    expect(failure(cyc).message).toMatch(/result\.self\.back refers back/);
    class Point {
      x = 1;
    }
    expect(failure({ p: new Point() }).message).toMatch(/result\.p is an instance of a class/);
    expect(failure(new Map()).message).toMatch(/a Map/);
    class MyArray extends Array {}
    expect(failure(MyArray.from([1])).message).toMatch(/array subclass/);
  });

  it("keeps shared (acyclic) references, copying each use", () => {
    const shared = { v: 1 };
    expect(ok({ a: shared, b: shared })).toEqual({ a: { v: 1 }, b: { v: 1 } });
  });

  it("stops at the cap, also for exponentially shared values", () => {
    expect(failure("x".repeat(100), 50)).toMatchObject({ reason: "output-too-large" });
    let dag: unknown = [1];
    for (let i = 0; i < 64; i++) dag = [dag, dag];
    expect(failure(dag, 10_000)).toMatchObject({ reason: "output-too-large" });
    expect(serializeResult({ a: "x".repeat(10) }, 100)).toMatchObject({ ok: true, bytes: expect.any(Number) });
  });

  it("copies only the viewed bytes of a typed array", () => {
    const big = new Float64Array(1000);
    const view = big.subarray(10, 12);
    const out = ok(view) as Float64Array;
    expect(out.length).toBe(2);
    expect(out.buffer.byteLength).toBe(16);
  });

  it("keeps a __proto__ key as data", () => {
    const input = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    const out = ok(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, "__proto__")).toBe(true);
  });
});
