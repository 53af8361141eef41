// The data shapes the built-in transforms understand, and how to read and rebuild them.
//  - rows:    an array of row objects            [{ x: 1, y: 2 }, ...]
//  - vector:  an array of values (one column)    [1, 2, 3]
//  - columns: an object of equal-length arrays   { x: [1, 2], y: [3, 4] }
// A property's `options.field` names a table inside a larger input object ({ rows: [...], k: 3 }):
// the transform then rewrites that field and keeps the others.
import { ValidationError } from "../../errors.js";

export type Row = Readonly<Record<string, unknown>>;

export type Table =
  | { readonly kind: "rows"; readonly rows: readonly Row[] }
  | { readonly kind: "vector"; readonly values: readonly unknown[] }
  | { readonly kind: "columns"; readonly columns: Readonly<Record<string, readonly unknown[]>>; readonly length: number };

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/** A number that is a measurement (booleans are not numbers here). */
export const isNumber = (v: unknown): v is number => typeof v === "number";

const SHAPES = "an array of row objects, an array of values, or an object of equal-length column arrays";

export function readTable(data: unknown, transform: string): Table {
  if (Array.isArray(data)) {
    if (data.length > 0 && data.every(isPlainObject)) return { kind: "rows", rows: data as Row[] };
    return { kind: "vector", values: data };
  }
  if (isPlainObject(data)) {
    const entries = Object.entries(data);
    if (entries.length > 0 && entries.every(([, v]) => Array.isArray(v))) {
      const length = (entries[0]![1] as unknown[]).length;
      if (entries.every(([, v]) => (v as unknown[]).length === length)) {
        return { kind: "columns", columns: data as Record<string, unknown[]>, length };
      }
      throw new ValidationError(`transform "${transform}"`, ["the columns have different lengths"]);
    }
  }
  throw new ValidationError(`transform "${transform}"`, [`it works on tables: ${SHAPES}; got ${describeShape(data)}`]);
}

function describeShape(data: unknown): string {
  if (data === null) return "null";
  if (Array.isArray(data)) return "an array";
  return typeof data === "object" ? "an object that is not a table" : `a ${typeof data}`;
}

export function tableLength(t: Table): number {
  return t.kind === "rows" ? t.rows.length : t.kind === "vector" ? t.values.length : t.length;
}

/** Names of the columns whose every value is a number (for a vector: none, it is one column). */
export function numericColumns(t: Table): string[] {
  if (t.kind === "rows") {
    const first = t.rows[0] ?? {};
    return Object.keys(first).filter((k) => t.rows.every((r) => isNumber(r[k])));
  }
  if (t.kind === "columns") return Object.keys(t.columns).filter((k) => (t.columns[k] ?? []).every(isNumber));
  return [];
}

export function columnNames(t: Table): string[] {
  if (t.kind === "rows") {
    const names = new Set<string>();
    for (const r of t.rows) for (const k of Object.keys(r)) names.add(k);
    return [...names];
  }
  return t.kind === "columns" ? Object.keys(t.columns) : [];
}

/** Reads the table a transform works on: the input itself, or `input[field]`. */
export function locate(input: unknown, field: string | undefined, transform: string): Table {
  if (field === undefined) return readTable(input, transform);
  if (!isPlainObject(input) || !(field in input)) {
    throw new ValidationError(`transform "${transform}"`, [`options.field is "${field}", but the input has no such field`]);
  }
  return readTable(input[field], transform);
}

/** Puts a rewritten table back where `locate` found it (never mutating the input). */
export function replace(input: unknown, field: string | undefined, table: unknown): unknown {
  if (field === undefined) return table;
  return { ...(input as Record<string, unknown>), [field]: table };
}

export function fieldOption(options: Readonly<Record<string, unknown>>): string | undefined {
  return typeof options.field === "string" ? options.field : undefined;
}
