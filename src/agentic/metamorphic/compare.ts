// Compares the output on a transformed input with the output on the original, under a relation.
// Numbers (never booleans) must match the expected value within a mixed tolerance:
// |actual - expected| <= tolerance * max(1, |expected|). Everything else (strings, booleans, keys
// of objects, lengths of arrays) must be identical: a key missing on either side fails the check.
import type { Relation } from "../schema.js";

export interface Expectation {
  readonly relation: Relation;
  /** For "scaled" / "scaled-abs". */
  readonly factor?: number;
  /** For "shifted". */
  readonly offset?: number;
  readonly tolerance: number;
}

export interface Comparison {
  readonly pass: boolean;
  /** Why it failed (first difference), or a short confirmation. */
  readonly detail: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof Date);

function expectedNumber(base: number, e: Expectation): number {
  switch (e.relation) {
    case "scaled":
      return base * (e.factor ?? 1);
    case "scaled-abs":
      return base * Math.abs(e.factor ?? 1);
    case "shifted":
      return base + (e.offset ?? 0);
    default:
      return base;
  }
}

export function numbersMatch(actual: number, expected: number, tolerance: number): boolean {
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.isNaN(actual) && Number.isNaN(expected);
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
}

/** The first difference between `base` (mapped by the relation) and `actual`, or undefined. */
function difference(base: unknown, actual: unknown, e: Expectation, path: string): string | undefined {
  if (typeof base === "number" && typeof actual === "number") {
    const expected = expectedNumber(base, e);
    return numbersMatch(actual, expected, e.tolerance) ? undefined : `${path}: expected ${expected}, got ${actual}`;
  }
  if (typeof base === "number" || typeof actual === "number") {
    return `${path}: expected ${describe(base)}, got ${describe(actual)}`;
  }
  if (ArrayBuffer.isView(base) && ArrayBuffer.isView(actual) && !(base instanceof DataView) && !(actual instanceof DataView)) {
    return difference(Array.from(base as unknown as ArrayLike<unknown>), Array.from(actual as unknown as ArrayLike<unknown>), e, path);
  }
  if (Array.isArray(base) && Array.isArray(actual)) {
    if (base.length !== actual.length) return `${path}: expected ${base.length} items, got ${actual.length}`;
    for (let i = 0; i < base.length; i++) {
      const d = difference(base[i], actual[i], e, `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isPlainObject(base) && isPlainObject(actual)) {
    for (const k of Object.keys(base)) {
      if (!(k in actual)) return `${path}.${k}: missing from the output on the transformed input`;
    }
    for (const k of Object.keys(actual)) {
      if (!(k in base)) return `${path}.${k}: not in the output on the original input`;
    }
    for (const k of Object.keys(base)) {
      const d = difference(base[k], actual[k], e, `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  if (base instanceof Date && actual instanceof Date) {
    return base.getTime() === actual.getTime() ? undefined : `${path}: expected ${base.toISOString()}, got ${actual.toISOString()}`;
  }
  return Object.is(base, actual) ? undefined : `${path}: expected ${describe(base)}, got ${describe(actual)}`;
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (v === undefined) return "undefined";
  if (typeof v === "object" && v !== null) return Array.isArray(v) ? "an array" : "an object";
  return String(v);
}

function pick(output: unknown, metric: string | undefined, side: string): { value: unknown } | { missing: string } {
  if (metric === undefined) return { value: output };
  if (isPlainObject(output) && metric in output) return { value: output[metric] };
  return { missing: `metric "${metric}" is missing from the output on the ${side} input` };
}

/** Compares `transformed` with `base` as the property's relation demands. */
export function compareOutputs(base: unknown, transformed: unknown, metric: string | undefined, e: Expectation): Comparison {
  const b = pick(base, metric, "original");
  if ("missing" in b) return { pass: false, detail: b.missing };
  const t = pick(transformed, metric, "transformed");
  if ("missing" in t) return { pass: false, detail: t.missing };
  const where = metric ?? "output";
  if (e.relation === "changed") {
    const same = difference(b.value, t.value, { relation: "invariant", tolerance: e.tolerance }, where) === undefined;
    return same ? { pass: false, detail: `${where}: unchanged, but the transform should change it` } : { pass: true, detail: "changed" };
  }
  const d = difference(b.value, t.value, e, where);
  return d === undefined ? { pass: true, detail: "as expected" } : { pass: false, detail: d };
}
