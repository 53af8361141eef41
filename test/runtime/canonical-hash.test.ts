import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  UnhashableValueError,
  canonicalDigest,
  canonicalEncode,
  canonicalHash,
  canonicalValue,
  createCanonicalHasher,
} from "../../src/runtime/canonical-hash.js";

// ---------------------------------------------------------------------------------------------
// Arbitraries: values of every kind the hasher knows, nested.

const leaf = fc.oneof(
  fc.double(), // includes NaN, -0, ±Infinity
  fc.integer(),
  fc.string({ unit: "binary", maxLength: 12 }), // includes lone surrogates
  fc.string({ maxLength: 80 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date({ noInvalidDate: false }),
  fc.float64Array({ maxLength: 6 }),
  fc.float32Array({ maxLength: 6 }),
  fc.int32Array({ maxLength: 6 }),
  fc.uint8Array({ maxLength: 6 }),
);

const { value: anyValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie("value"), { maxKeys: 5 }),
    fc
      .array(fc.tuple(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), tie("value")), { maxLength: 4 })
      .map((entries) => new Map(entries)),
    fc.uniqueArray(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 5 }).map((xs) => new Set(xs)),
  ),
}));

/** A deterministic shuffle driven by `seed` (a small LCG), for reordering keys and entries. */
function shuffler(seed: number): <T>(xs: T[]) => T[] {
  let s = seed >>> 0 || 1;
  return (xs) => {
    const out = xs.slice();
    for (let i = out.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const j = s % (i + 1);
      [out[i], out[j]] = [out[j] as (typeof out)[number], out[i] as (typeof out)[number]];
    }
    return out;
  };
}

/** A deep copy with object keys and Map/Set entries inserted in another order. */
function reordered(v: unknown, shuffle: <T>(xs: T[]) => T[]): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) if (i in v) out[i] = reordered(v[i], shuffle);
    return out;
  }
  if (v instanceof Map) return new Map(shuffle([...v]).map(([k, x]) => [k, reordered(x, shuffle)]));
  if (v instanceof Set) return new Set(shuffle([...v]));
  if (v instanceof Date) return new Date(v.getTime());
  if (ArrayBuffer.isView(v)) return (v as unknown as { slice(): unknown }).slice();
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of shuffle(Object.keys(v))) out[k] = reordered((v as Record<string, unknown>)[k], shuffle);
    return out;
  }
  return v;
}

type Path = readonly (string | number | { mapKey: unknown })[];

/** Every place in a value a single change can be made (objects, arrays and Map values). */
function locations(v: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...locations(x, [...at, i])));
  else if (v instanceof Map) for (const [k, x] of v) out.push(...locations(x, [...at, { mapKey: k }]));
  else if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    for (const k of Object.keys(v)) out.push(...locations((v as Record<string, unknown>)[k], [...at, k]));
  }
  return out;
}

function getAt(v: unknown, path: Path): unknown {
  let cur = v;
  for (const seg of path) {
    if (typeof seg === "object") cur = (cur as Map<unknown, unknown>).get(seg.mapKey);
    else cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** A copy of `v` where the thing at `path` is replaced by `change(old)`. */
function updateAt(v: unknown, path: Path, change: (old: unknown) => unknown): unknown {
  if (path.length === 0) return change(v);
  const [seg, ...rest] = path;
  if (typeof seg === "object") {
    const m = new Map(v as Map<unknown, unknown>);
    m.set(seg.mapKey, updateAt(m.get(seg.mapKey), rest, change));
    return m;
  }
  if (Array.isArray(v)) {
    const a = v.slice();
    a[seg as number] = updateAt(a[seg as number], rest, change);
    return a;
  }
  const o = { ...(v as Record<string, unknown>) };
  o[seg as string] = updateAt(o[seg as string], rest, change);
  return o;
}

function sameLeaf(a: unknown, b: unknown): boolean {
  return Object.is(a, b) || (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b));
}

// ---------------------------------------------------------------------------------------------

describe("canonicalHash laws (property tests)", () => {
  it("equal values hash equal whatever the key and insertion order", () => {
    fc.assert(
      fc.property(anyValue, fc.integer(), (v, seed) => {
        const copy = reordered(v, shuffler(seed));
        expect(canonicalHash(copy)).toBe(canonicalHash(v));
      }),
      { numRuns: 300 },
    );
  });

  it("hashing is deterministic and a pure function of the value", () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        const first = canonicalHash(v);
        expect(canonicalHash(v)).toBe(first);
        expect(createHash("sha256").update(canonicalEncode(v)).digest("hex")).toBe(first);
      }),
      { numRuns: 200 },
    );
  });

  it("replacing any single value anywhere changes the hash", () => {
    fc.assert(
      fc.property(anyValue, fc.nat(), leaf, (v, pick, replacement) => {
        const locs = locations(v);
        const path = locs[pick % locs.length] as Path;
        const old = getAt(v, path);
        fc.pre(!sameLeaf(old, replacement));
        // Same-content typed arrays or dates are equal values, not a change.
        fc.pre(canonicalHash(old) !== canonicalHash(replacement));
        const changed = updateAt(v, path, () => replacement);
        expect(canonicalHash(changed)).not.toBe(canonicalHash(v));
      }),
      { numRuns: 400 },
    );
  });

  it("changing a number by any amount changes the hash", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.double(),
        (xs, i, y) => {
          const at = i % xs.length;
          fc.pre(!sameLeaf(xs[at], y));
          const ys = xs.slice();
          ys[at] = y;
          expect(canonicalHash({ xs: ys })).not.toBe(canonicalHash({ xs }));
        },
      ),
    );
  });

  it("renaming, adding or removing a key changes the hash", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 5 }), anyValue, { minKeys: 1, maxKeys: 6 }),
        fc.nat(),
        fc.string({ maxLength: 5 }),
        (o, i, fresh) => {
          const keys = Object.keys(o);
          const key = keys[i % keys.length] as string;
          fc.pre(!(fresh in o));
          const renamed: Record<string, unknown> = {};
          for (const k of keys) renamed[k === key ? fresh : k] = o[k];
          const removed = { ...o };
          delete removed[key];
          const added = { ...o, [fresh]: null };
          const h = canonicalHash(o);
          expect(canonicalHash(renamed)).not.toBe(h);
          expect(canonicalHash(removed)).not.toBe(h);
          expect(canonicalHash(added)).not.toBe(h);
        },
      ),
    );
  });

  it("changing an element type changes the hash (same numbers, another representation)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 1, maxLength: 10 }), (xs) => {
        const forms: unknown[] = [
          xs,
          Int8Array.from(xs),
          Int16Array.from(xs),
          Int32Array.from(xs),
          Float32Array.from(xs),
          Float64Array.from(xs),
          xs.map(String),
          xs.map((x) => BigInt(x)),
          new Set(xs.map((x) => x + 0.5)),
        ];
        const hashes = new Set(forms.map(canonicalHash));
        expect(hashes.size).toBe(forms.length);
      }),
    );
  });

  it("a Map's and a Set's hash does not depend on insertion order but on their contents", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { minLength: 2, maxLength: 8 }), (keys) => {
        const m1 = new Map(keys.map((k, i) => [k, i]));
        const m2 = new Map([...keys].reverse().map((k) => [k, keys.indexOf(k)]));
        expect(canonicalHash(m2)).toBe(canonicalHash(m1));
        expect(canonicalHash(new Set([...keys].reverse()))).toBe(canonicalHash(new Set(keys)));
        const m3 = new Map(m1);
        m3.set(keys[0] as string, -1);
        expect(canonicalHash(m3)).not.toBe(canonicalHash(m1));
        expect(canonicalHash(new Set(keys.slice(1)))).not.toBe(canonicalHash(new Set(keys)));
      }),
    );
  });
});

describe("canonicalHash specifics", () => {
  const h = canonicalHash;

  it("is sha256 hex", () => {
    expect(h({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalDigest({ a: 1 }).toString("hex")).toBe(h({ a: 1 }));
  });

  it("keeps a stable encoding (golden value; changing it invalidates every cache)", () => {
    expect(Buffer.from(canonicalEncode({ b: [1, "x"], a: null })).toString("hex")).toBe(
      "0b02000000" + // object, 2 keys
        "070100000061" + // "a"
        "01" + // null
        "070100000062" + // "b"
        "0902000000" + // array of 2
        "04000000000000f03f" + // 1 as float64 LE
        "070100000078", // "x"
    );
  });

  it("distinguishes -0 from 0 and treats every NaN alike", () => {
    expect(h(-0)).not.toBe(h(0));
    expect(h(NaN)).toBe(h(0 / 0));
    expect(h(NaN)).toBe(h(Number("x")));
    expect(h(NaN)).not.toBe(h(Infinity));
    expect(h(Infinity)).not.toBe(h(-Infinity));
  });

  it("distinguishes undefined from a missing key, and a hole from undefined", () => {
    expect(h({ a: undefined })).not.toBe(h({}));
    expect(h([undefined])).not.toBe(h(new Array(1)));
    expect(h([undefined])).not.toBe(h([null]));
    expect(h(undefined)).not.toBe(h(null));
  });

  it("distinguishes types that print alike", () => {
    const forms = [1, "1", 1n, true, [1], { 0: 1 }, new Map([[0, 1]]), new Set([1]), new Date(1), Object(1)];
    expect(new Set(forms.map(h)).size).toBe(forms.length);
    expect(h(1n)).not.toBe(h(-1n));
    expect(h(2n ** 100n)).not.toBe(h(2n ** 100n + 1n));
    expect(h(new Uint8Array([1, 2]))).not.toBe(h(new Uint8Array([1, 2]).buffer));
    expect(h(new Uint8Array([1, 2]))).not.toBe(h(new Uint8ClampedArray([1, 2])));
    expect(h(new DataView(new Uint8Array([1, 2]).buffer))).not.toBe(h(new Uint8Array([1, 2])));
  });

  it("hashes typed arrays by their own bytes (views, offsets, Buffer)", () => {
    const big = new Float64Array([1, 2, 3, 4]);
    expect(h(big.subarray(1, 3))).toBe(h(new Float64Array([2, 3])));
    expect(h(Buffer.from([1, 2, 3]))).toBe(h(new Uint8Array([1, 2, 3])));
    expect(h(new Float64Array([1]))).not.toBe(h(new Float64Array([1, 0])));
  });

  it("hashes Dates by time, and invalid Dates alike", () => {
    expect(h(new Date(5))).toBe(h(new Date(5)));
    expect(h(new Date(5))).not.toBe(h(new Date(6)));
    expect(h(new Date(NaN))).toBe(h(new Date("nope")));
  });

  it("does not let lone surrogates collide with the replacement character", () => {
    expect(h("\uD800")).not.toBe(h("\uFFFD"));
    expect(h("\uD800")).not.toBe(h("\uDC00"));
    expect(h("é")).toBe(h("e\u0301".normalize("NFC")));
  });

  it("handles strings longer than its internal chunk", () => {
    const s = "ab".repeat(100_000);
    const t = "ab".repeat(99_999) + "ac";
    expect(h(s)).not.toBe(h(t));
    expect(h(s)).toBe(h("ab".repeat(100_000)));
    expect(h("é".repeat(40_000))).not.toBe(h("é".repeat(40_001)));
  });

  it("includes a class instance's constructor name and honours toJSON and canonicalValue", () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    class Other {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expect(h(new Point(1, 2))).toBe(h(new Point(1, 2)));
    expect(h(new Point(1, 2))).not.toBe(h(new Point(1, 3)));
    expect(h(new Point(1, 2))).not.toBe(h({ x: 1, y: 2 }));
    expect(h(new Point(1, 2))).not.toBe(h(new Other(1, 2)));

    class Secret {
      #w: number;
      constructor(w: number) {
        this.#w = w;
      }
      [canonicalValue]() {
        return this.#w;
      }
    }
    expect(h(new Secret(1))).not.toBe(h(new Secret(2)));
    class Jsonish {
      constructor(private readonly v: number) {}
      toJSON() {
        return { v: this.v * 10 };
      }
    }
    expect(h(new Jsonish(1))).not.toBe(h(new Jsonish(2)));
  });

  it("hashes shared (non-cyclic) references like copies", () => {
    const shared = { a: [1, 2] };
    expect(h({ x: shared, y: shared })).toBe(h({ x: { a: [1, 2] }, y: { a: [1, 2] } }));
  });

  it("reports a cycle with its shortest path", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = { inner: [1, a] };
    const err = (() => {
      try {
        h({ root: a });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UnhashableValueError);
    expect((err as UnhashableValueError).path).toBe("$.root.self.inner[1]");
    expect((err as Error).message).toMatch(/cycle/);
    // The hasher recovers after an error.
    expect(h({ a: 1 })).toBe(h({ a: 1 }));
  });

  it("detects cycles through Maps and Sets", () => {
    const m = new Map<string, unknown>();
    m.set("me", m);
    expect(() => h(m)).toThrow(UnhashableValueError);
    const s = new Set<unknown>();
    s.add([s]);
    expect(() => h(s)).toThrow(/cycle/);
  });

  it("refuses functions, unique symbols, weak collections and promises, naming the path", () => {
    expect(() => h({ a: [0, () => 1] })).toThrow(/\$\.a\[1\].*function/);
    expect(() => h({ "odd key": Symbol("x") })).toThrow(/\$\["odd key"\]/);
    expect(h(Symbol.for("x"))).not.toBe(h(Symbol.for("y")));
    expect(() => h(new WeakMap())).toThrow(UnhashableValueError);
    expect(() => h(Promise.resolve(1))).toThrow(UnhashableValueError);
  });

  it("copes with deep (non-cyclic) nesting", () => {
    let deep: unknown = 0;
    for (let i = 0; i < 2000; i++) deep = { d: deep };
    let deep2: unknown = 1;
    for (let i = 0; i < 2000; i++) deep2 = { d: deep2 };
    expect(h(deep)).not.toBe(h(deep2));
  });

  it("delimits the parts of a multi-part hash", () => {
    const ab = createCanonicalHasher().update("a").update("b").digest();
    expect(createCanonicalHasher().update("b").update("a").digest()).not.toBe(ab);
    expect(createCanonicalHasher().update(["a", "b"]).digest()).not.toBe(ab);
    expect(createCanonicalHasher().update("ab").digest()).not.toBe(ab);
    expect(createCanonicalHasher().update("a").update("b").digest()).toBe(ab);
  });
});
