// Metamorphic transforms (their laws, checked with fast-check), output comparison, and the
// property runner with plain functions standing in for the sandbox.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addColumn,
  checkProperty,
  compareOutputs,
  defineTransform,
  duplicateRows,
  permuteRows,
  registerTransform,
  resolveTransform,
  scale,
  shift,
  spec,
  type MetamorphicTransform,
} from "../../src/agentic/index.js";
import { ValidationError } from "../../src/errors.js";

type Row = { id: number; x: number; label: string; flag: boolean };

const rowArb = fc.record({
  id: fc.integer(),
  x: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  label: fc.string({ maxLength: 5 }),
  flag: fc.boolean(),
});
const tableArb = fc.array(rowArb, { minLength: 1, maxLength: 40 }).map((rows) => rows.map((r, i) => ({ ...r, id: i })));

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object") {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** Draws parameters for `t` on `input` with fast-check (one sample per seed). */
function paramsFor<P>(t: MetamorphicTransform<P>, input: unknown, seed: number, options = {}): P {
  return fc.sample(t.params(input, options), { numRuns: 1, seed })[0] as P;
}

const key = (r: unknown): string => JSON.stringify(r);
const sortedKeys = (rows: readonly unknown[]): string[] => rows.map(key).sort();

describe("transform laws", () => {
  it("permuteRows is a true permutation: same rows, same multiset, each row exactly once", () => {
    fc.assert(
      fc.property(tableArb, fc.integer(), (rows, seed) => {
        const input = deepFreeze(rows);
        const order = paramsFor(permuteRows, input, seed);
        expect([...order].sort((a, b) => a - b)).toEqual(rows.map((_, i) => i));
        const out = permuteRows.apply(input, order, {}) as Row[];
        expect(out).toHaveLength(rows.length);
        expect(sortedKeys(out)).toEqual(sortedKeys(rows));
        // The same row objects, each once (ids are unique).
        expect(new Set(out.map((r) => r.id)).size).toBe(rows.length);
        out.forEach((r, i) => expect(r).toBe(rows[order[i]!]));
      }),
      { numRuns: 200 },
    );
  });

  it("permuteRows moves rows (not just reversing) and keeps columns aligned in column tables", () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 2, maxLength: 30 }), fc.integer(), (xs, seed) => {
        const cols = deepFreeze({ a: xs, b: xs.map((v) => `s${v}`) });
        const order = paramsFor(permuteRows, cols, seed);
        const out = permuteRows.apply(cols, order, {}) as { a: number[]; b: string[] };
        expect(out.a.map((v) => `s${v}`)).toEqual(out.b);
        expect([...out.a].sort((p, q) => p - q)).toEqual([...xs].sort((p, q) => p - q));
      }),
    );
    // Over many seeds the generated orders are not all the same (a reversal would be).
    const input = Array.from({ length: 10 }, (_, i) => ({ i }));
    const orders = new Set(Array.from({ length: 20 }, (_, s) => key(paramsFor(permuteRows, input, s))));
    expect(orders.size).toBeGreaterThan(5);
  });

  it("permuteRows leaves strings and nested values alone (vector of strings)", () => {
    const input = deepFreeze(["abc", "de", "f"]);
    const out = permuteRows.apply(input, [2, 0, 1], {});
    expect(out).toEqual(["f", "abc", "de"]);
  });

  it("scale multiplies numeric columns only; booleans and strings are untouched", () => {
    fc.assert(
      fc.property(tableArb, fc.integer(), (rows, seed) => {
        const input = deepFreeze(rows);
        const p = paramsFor(scale, input, seed);
        expect(p.factor).toBeGreaterThanOrEqual(0.5);
        expect(p.factor).toBeLessThanOrEqual(4);
        const out = scale.apply(input, p, { columns: ["x"] }) as Row[];
        out.forEach((r, i) => {
          expect(r.x).toBe(rows[i]!.x * p.factor);
          expect(r.id).toBe(rows[i]!.id);
          expect(r.label).toBe(rows[i]!.label);
          expect(r.flag).toBe(rows[i]!.flag);
        });
        expect(scale.factor!(p)).toBe(p.factor);
      }),
    );
  });

  it("shift adds the offset to every numeric column by default", () => {
    fc.assert(
      fc.property(tableArb, fc.integer(), (rows, seed) => {
        const p = paramsFor(shift, rows, seed, { min: -5, max: 5 });
        expect(Math.abs(p.offset)).toBeLessThanOrEqual(5);
        const out = shift.apply(deepFreeze(rows), p, {}) as Row[];
        out.forEach((r, i) => {
          expect(r.x).toBe(rows[i]!.x + p.offset);
          expect(r.id).toBe(rows[i]!.id + p.offset);
          expect(r.flag).toBe(rows[i]!.flag);
        });
      }),
    );
  });

  it("duplicateRows repeats every row the same number of times", () => {
    fc.assert(
      fc.property(tableArb, fc.integer(), (rows, seed) => {
        const p = paramsFor(duplicateRows, rows, seed);
        expect(p.times).toBeGreaterThanOrEqual(2);
        const out = duplicateRows.apply(deepFreeze(rows), p, {}) as Row[];
        expect(out).toHaveLength(rows.length * p.times);
        const counts = new Map<number, number>();
        for (const r of out) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
        for (const r of rows) expect(counts.get(r.id)).toBe(p.times);
      }),
    );
  });

  it("addColumn adds one fresh column and changes nothing else", () => {
    fc.assert(
      fc.property(tableArb, fc.integer(), (rows, seed) => {
        const p = paramsFor(addColumn, rows, seed);
        expect(Object.keys(rows[0]!)).not.toContain(p.name);
        const out = addColumn.apply(deepFreeze(rows), p, {}) as Array<Record<string, unknown>>;
        expect(out).toHaveLength(rows.length);
        out.forEach((r, i) => {
          const { [p.name]: added, ...rest } = r;
          expect(rest).toEqual(rows[i]);
          expect(typeof added).toBe(p.type);
        });
      }),
    );
    // A name already present is never reused.
    const taken = [{ extra_a: 1 }];
    const names = Array.from({ length: 30 }, (_, s) => paramsFor(addColumn, taken, s).name);
    expect(names).not.toContain("extra_a");
  });

  it("options.field transforms a table inside the input and keeps the other fields", () => {
    const input = deepFreeze({ rows: [{ x: 1 }, { x: 2 }], k: 3 });
    const out = scale.apply(input, { factor: 10 }, { field: "rows" });
    expect(out).toEqual({ rows: [{ x: 10 }, { x: 20 }], k: 3 });
    expect(input.rows[0]!.x).toBe(1);
  });

  it("explains inputs the built-ins cannot transform", () => {
    expect(() => scale.apply({ a: 1 }, { factor: 2 }, {})).toThrow(/tables/);
    expect(() => scale.apply([{ s: "a" }], { factor: 2 }, {})).toThrow(/no numeric column/);
    expect(() => addColumn.apply([1, 2], { name: "extra_x", type: "number", seed: 1 }, {})).toThrow(/vector/);
    expect(() => permuteRows.apply({ rows: [] }, [], { field: "nope" })).toThrow(/no such field/);
  });
});

describe("compareOutputs", () => {
  const tol = { tolerance: 1e-9 };
  it("checks numbers with a mixed tolerance, and requires identical keys", () => {
    expect(compareOutputs({ m: 1 }, { m: 1 + 1e-12 }, undefined, { relation: "invariant", ...tol }).pass).toBe(true);
    expect(compareOutputs({ m: 1e9 }, { m: 1e9 + 0.5 }, undefined, { relation: "invariant", tolerance: 1e-9 }).pass).toBe(true);
    expect(compareOutputs({ m: 1 }, { m: 1.1 }, undefined, { relation: "invariant", ...tol })).toMatchObject({ pass: false, detail: "output.m: expected 1, got 1.1" });
    expect(compareOutputs({ m: 1, n: 2 }, { m: 1 }, undefined, { relation: "invariant", ...tol }).detail).toMatch(/n: missing/);
    expect(compareOutputs({ m: 1 }, { m: 1, extra: 0 }, undefined, { relation: "invariant", ...tol }).pass).toBe(false);
  });

  it("does not treat booleans as numbers and compares strings exactly", () => {
    expect(compareOutputs({ ok: true }, { ok: 1 }, undefined, { relation: "invariant", ...tol }).pass).toBe(false);
    expect(compareOutputs({ s: "a" }, { s: "b" }, undefined, { relation: "invariant", ...tol }).pass).toBe(false);
  });

  it("applies scaled, scaled-abs, shifted and changed relations", () => {
    expect(compareOutputs(2, 6, undefined, { relation: "scaled", factor: 3, ...tol }).pass).toBe(true);
    expect(compareOutputs(2, -6, undefined, { relation: "scaled-abs", factor: -3, ...tol }).pass).toBe(false);
    expect(compareOutputs(2, 6, undefined, { relation: "scaled-abs", factor: -3, ...tol }).pass).toBe(true);
    expect(compareOutputs({ mean: 2, n: 3 }, { mean: 7, n: 3 }, "mean", { relation: "shifted", offset: 5, ...tol }).pass).toBe(true);
    expect(compareOutputs(2, 2, undefined, { relation: "changed", ...tol }).pass).toBe(false);
    expect(compareOutputs(2, 3, undefined, { relation: "changed", ...tol }).pass).toBe(true);
    expect(compareOutputs({ a: 1 }, { b: 1 }, "a", { relation: "invariant", ...tol }).detail).toMatch(/missing/);
  });
});

const mean = (rows: readonly { x: number }[]): number => rows.reduce((s, r) => s + r.x, 0) / rows.length;
const table = Array.from({ length: 50 }, (_, i) => ({ x: (i * 37) % 11, g: i % 3 }));

describe("checkProperty", () => {
  const props = spec({
    allowedImports: [],
    properties: [
      { name: "perm", transform: "permuteRows", metric: "mean", tolerance: 1e-9 },
      { name: "scaled", transform: "scale", metric: "mean", relation: "scaled", tolerance: 1e-9 },
      { name: "shifted", transform: "shift", metric: "mean", relation: "shifted", options: { columns: ["x"] }, tolerance: 1e-9 },
      { name: "dup", transform: "duplicateRows", metric: "mean", tolerance: 1e-9 },
      { name: "extra", transform: "addColumn", tolerance: 1e-9 },
    ],
  }).properties;

  it("passes every property for a correct mean", async () => {
    const execute = async (input: unknown) => ({ mean: mean(input as { x: number }[]) });
    for (const property of props) {
      const r = await checkProperty({
        property,
        transform: resolveTransform(property.transform),
        input: table,
        baseOutput: await execute(table),
        execute,
        numRuns: 30,
        seed: 1,
      });
      expect(r).toMatchObject({ name: property.name, passed: true, cases: 30 });
    }
  });

  it("finds the bug in an order-dependent 'mean' and reports the first failing case", async () => {
    const execute = async (input: unknown) => ({ mean: (input as { x: number }[])[0]!.x });
    const property = props[0]!;
    const r = await checkProperty({ property, transform: permuteRows as never, input: table, baseOutput: await execute(table), execute, seed: 3 });
    expect(r.passed).toBe(false);
    expect(r.cases).toBeLessThan(100);
    expect(r.counterexample?.detail).toMatch(/^mean: expected 0, got/);
    expect(r.counterexample?.params).toMatchObject({ rows: 50 });
  });

  it("is deterministic for a seed", async () => {
    const seen: number[][] = [];
    const execute = async (input: unknown) => {
      seen.push((input as { x: number }[]).map((r) => r.x));
      return 0;
    };
    const run = () =>
      checkProperty({ property: props[0]!, transform: permuteRows as never, input: table, baseOutput: 0, execute, numRuns: 5, seed: 42 });
    await run();
    const first = seen.splice(0);
    await run();
    expect(seen).toEqual(first);
  });

  it("records a failure of the code on a transformed input as a failed property", async () => {
    let n = 0;
    const execute = async () => {
      if (++n === 3) throw Object.assign(new Error("boom"), { reason: "runtime-error" });
      return { mean: 1 };
    };
    const r = await checkProperty({ property: props[0]!, transform: permuteRows as never, input: table, baseOutput: { mean: 1 }, execute, seed: 1 });
    expect(r).toMatchObject({ passed: false, cases: 3, error: { reason: "runtime-error", message: "boom" } });
  });

  it("refuses relations the transform cannot express", async () => {
    const bad = spec({ allowedImports: [], properties: [{ name: "p", transform: "permuteRows", relation: "shifted" }] }).properties[0]!;
    await expect(
      checkProperty({ property: bad, transform: defineTransform({ name: "noOffset", params: () => fc.constant(0), apply: (x) => x }) as never, input: table, baseOutput: 0, execute: async () => 0, seed: 1 }),
    ).rejects.toThrow(ValidationError);
  });
});

describe("custom transforms", () => {
  it("registers a custom transform by name and resolves it", async () => {
    const negate = registerTransform({
      name: "negateAll",
      params: () => fc.constant(null),
      apply: (input: unknown) => (input as number[]).map((v) => -v),
      factor: () => -1,
    });
    expect(resolveTransform("negateAll")).toBe(negate);
    // Registering the same object again is fine; another one under the name is not.
    expect(registerTransform(negate)).toBe(negate);
    expect(() => registerTransform({ name: "negateAll", params: () => fc.constant(1), apply: (x: unknown) => x })).toThrow(/already registered/);
    expect(() => registerTransform({ name: "scale", params: () => fc.constant(1), apply: (x: unknown) => x })).toThrow(/built-in/);
    const property = spec({ allowedImports: [], properties: [{ name: "neg", transform: "negateAll", relation: "scaled" }] }).properties[0]!;
    const sum = async (xs: unknown) => (xs as number[]).reduce((a, b) => a + b, 0);
    const r = await checkProperty({ property, transform: resolveTransform("negateAll"), input: [1, 2, 3], baseOutput: 6, execute: sum, numRuns: 3, seed: 1 });
    expect(r.passed).toBe(true);
  });

  it("explains an unknown transform name and lists the known ones", () => {
    expect(() => resolveTransform("shuffle")).toThrow(/known: .*permuteRows/);
  });

  it("validates definitions", () => {
    expect(() => defineTransform({ name: "bad name", params: () => fc.constant(1), apply: (x: unknown) => x })).toThrow(ValidationError);
  });
});
