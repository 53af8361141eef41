// Metamorphic transforms: how to change an input so that a correct analysis changes in a known way.
// Each transform pairs a fast-check arbitrary of its parameters with a pure function that applies
// them (never mutating the input), and says how a numeric output should follow ("scaled" by the
// factor, "shifted" by the offset). Built-ins: identity, permuteRows (a true permutation of all
// rows, aligned across columns), scale, shift, duplicateRows, addColumn. Custom ones are defined
// with defineTransform and registered by name, or passed to metamorphicTests({ transforms }).
import fc from "fast-check";
import { ValidationError } from "../../errors.js";
import type { Json } from "../../dsl/json.js";
import { columnNames, fieldOption, isNumber, locate, numericColumns, replace, tableLength, type Row, type Table } from "./table.js";

export type TransformOptions = Readonly<Record<string, Json>>;

export interface TransformDefinition<P> {
  readonly name: string;
  readonly description?: string;
  /** The arbitrary of this transform's parameters, for this input. */
  params(input: unknown, options: TransformOptions): fc.Arbitrary<P>;
  /** A new input: the transformed copy of `input` (which must not be changed). */
  apply(input: unknown, params: P, options: TransformOptions): unknown;
  /** For relations "scaled" and "scaled-abs": what a numeric output is multiplied by. */
  factor?(params: P): number;
  /** For relation "shifted": what is added to a numeric output. */
  offset?(params: P): number;
  /** A small JSON summary of the parameters, for reports (default: the parameters themselves). */
  summarize?(params: P): Json;
}

export interface MetamorphicTransform<P = unknown> extends TransformDefinition<P> {
  readonly kind: "transform";
}

const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function defineTransform<P>(definition: TransformDefinition<P>): MetamorphicTransform<P> {
  const problems: string[] = [];
  if (typeof definition?.name !== "string" || !NAME.test(definition.name)) {
    problems.push(`name must be an identifier (letters, digits, "_", "$"), got ${JSON.stringify(definition?.name)}`);
  }
  if (typeof definition?.params !== "function") problems.push("params must be a function (input, options) => fc.Arbitrary");
  if (typeof definition?.apply !== "function") problems.push("apply must be a function (input, params, options) => input");
  for (const k of ["factor", "offset", "summarize"] as const) {
    if (definition?.[k] !== undefined && typeof definition[k] !== "function") problems.push(`${k} must be a function of the params`);
  }
  if (problems.length) throw new ValidationError(`transform ${JSON.stringify(definition?.name)}`, problems);
  return Object.freeze({ ...definition, kind: "transform" as const });
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

function selectedColumns(t: Table, options: TransformOptions, transform: string): string[] {
  const numeric = numericColumns(t);
  const asked = options.columns;
  if (asked === undefined) {
    if (numeric.length === 0) {
      throw new ValidationError(`transform "${transform}"`, ["the table has no numeric column; name the columns in options.columns"]);
    }
    return numeric;
  }
  if (!Array.isArray(asked) || !asked.every((c) => typeof c === "string")) {
    throw new ValidationError(`transform "${transform}"`, ["options.columns must be an array of column names"]);
  }
  const missing = (asked as string[]).filter((c) => !numeric.includes(c));
  if (missing.length) {
    throw new ValidationError(`transform "${transform}"`, [`options.columns names columns that are not numeric in every row: ${missing.join(", ")}`]);
  }
  return asked as string[];
}

function mapNumbers(input: unknown, options: TransformOptions, transform: string, f: (x: number) => number): unknown {
  const field = fieldOption(options);
  const t = locate(input, field, transform);
  if (t.kind === "vector") {
    if (!t.values.some(isNumber)) throw new ValidationError(`transform "${transform}"`, ["the values contain no number"]);
    return replace(input, field, t.values.map((v) => (isNumber(v) ? f(v) : v)));
  }
  const cols = selectedColumns(t, options, transform);
  if (t.kind === "rows") {
    return replace(
      input,
      field,
      t.rows.map((r) => {
        const out: Record<string, unknown> = { ...r };
        for (const c of cols) out[c] = f(r[c] as number);
        return out;
      }),
    );
  }
  const out: Record<string, readonly unknown[]> = { ...t.columns };
  for (const c of cols) out[c] = (t.columns[c] as number[]).map(f);
  return replace(input, field, out);
}

function numberOption(options: TransformOptions, key: string, fallback: number, transform: string): number {
  const v = options[key];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new ValidationError(`transform "${transform}"`, [`options.${key} must be a finite number`]);
  }
  return v;
}

/** mulberry32: a tiny deterministic stream for values a transform fills in from a generated seed. */
function stream(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ── built-ins ────────────────────────────────────────────────────────────────────────────────

export const identity = defineTransform<null>({
  name: "identity",
  description: "The input unchanged (checks that the code is deterministic).",
  params: () => fc.constant(null),
  apply: (input) => input,
  factor: () => 1,
  offset: () => 0,
});

/** A permutation of 0..n-1 as the parameter. */
export const permuteRows = defineTransform<readonly number[]>({
  name: "permuteRows",
  description: "Reorders the rows (all columns together) by a generated permutation.",
  params: (input, options) => {
    const n = tableLength(locate(input, fieldOption(options), "permuteRows"));
    const indices = Array.from({ length: n }, (_, i) => i);
    return fc.shuffledSubarray(indices, { minLength: n, maxLength: n });
  },
  apply: (input, order, options) => {
    const field = fieldOption(options);
    const t = locate(input, field, "permuteRows");
    const n = tableLength(t);
    if (order.length !== n) {
      throw new ValidationError('transform "permuteRows"', [`the permutation has ${order.length} entries for ${n} rows`]);
    }
    const pick = <T>(xs: readonly T[]): T[] => order.map((i) => xs[i] as T);
    if (t.kind === "rows") return replace(input, field, pick(t.rows));
    if (t.kind === "vector") return replace(input, field, pick(t.values));
    const out: Record<string, unknown[]> = {};
    for (const [k, col] of Object.entries(t.columns)) out[k] = pick(col);
    return replace(input, field, out);
  },
  factor: () => 1,
  offset: () => 0,
  summarize: (order) => {
    const moved = order.reduce((n, v, i) => n + (v === i ? 0 : 1), 0);
    return { rows: order.length, moved, head: order.slice(0, 8) };
  },
});

export const scale = defineTransform<{ readonly factor: number }>({
  name: "scale",
  description: "Multiplies the numeric columns (or options.columns) by a generated factor in [options.min, options.max] (default [0.5, 4]).",
  params: (_input, options) => {
    const min = numberOption(options, "min", 0.5, "scale");
    const max = numberOption(options, "max", 4, "scale");
    return fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((factor) => ({ factor }));
  },
  apply: (input, { factor }, options) => mapNumbers(input, options, "scale", (x) => x * factor),
  factor: ({ factor }) => factor,
});

export const shift = defineTransform<{ readonly offset: number }>({
  name: "shift",
  description: "Adds a generated offset in [options.min, options.max] (default [-100, 100]) to the numeric columns (or options.columns).",
  params: (_input, options) => {
    const min = numberOption(options, "min", -100, "shift");
    const max = numberOption(options, "max", 100, "shift");
    return fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((offset) => ({ offset }));
  },
  apply: (input, { offset }, options) => mapNumbers(input, options, "shift", (x) => x + offset),
  offset: ({ offset }) => offset,
});

export const duplicateRows = defineTransform<{ readonly times: number }>({
  name: "duplicateRows",
  description: "Repeats the whole table a generated number of times in [2, options.maxTimes] (default 3): every row equally often.",
  params: (_input, options) => {
    const maxTimes = numberOption(options, "maxTimes", 3, "duplicateRows");
    return fc.integer({ min: 2, max: Math.max(2, Math.floor(maxTimes)) }).map((times) => ({ times }));
  },
  apply: (input, { times }, options) => {
    const field = fieldOption(options);
    const t = locate(input, field, "duplicateRows");
    const repeat = <T>(xs: readonly T[]): T[] => {
      const out: T[] = [];
      for (let k = 0; k < times; k++) for (const x of xs) out.push(x);
      return out;
    };
    if (t.kind === "rows") return replace(input, field, repeat(t.rows));
    if (t.kind === "vector") return replace(input, field, repeat(t.values));
    const out: Record<string, unknown[]> = {};
    for (const [k, col] of Object.entries(t.columns)) out[k] = repeat(col);
    return replace(input, field, out);
  },
  factor: () => 1,
  offset: () => 0,
});

export interface AddedColumn {
  readonly name: string;
  readonly type: "number" | "string" | "boolean";
  readonly seed: number;
}

export const addColumn = defineTransform<AddedColumn>({
  name: "addColumn",
  description: "Adds a column the analysis should ignore: a fresh name and generated numbers, strings or booleans.",
  params: (input, options) => {
    const taken = new Set(columnNames(locate(input, fieldOption(options), "addColumn")));
    return fc
      .record({
        name: fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/),
        type: fc.constantFrom("number" as const, "string" as const, "boolean" as const),
        seed: fc.integer({ min: 0, max: 0x7fffffff }),
      })
      .map((p) => {
        let name = `extra_${p.name}`;
        for (let i = 2; taken.has(name); i++) name = `extra_${p.name}_${i}`;
        return { ...p, name };
      });
  },
  apply: (input, { name, type, seed }, options) => {
    const field = fieldOption(options);
    const t = locate(input, field, "addColumn");
    if (t.kind === "vector") {
      throw new ValidationError('transform "addColumn"', ["a vector has no columns to add to; use a table of rows or of columns"]);
    }
    const next = stream(seed);
    const value = (): unknown =>
      type === "number" ? Math.round(next() * 2000 - 1000) / 10 : type === "boolean" ? next() < 0.5 : `v${Math.floor(next() * 1e6)}`;
    if (t.kind === "rows") {
      return replace(
        input,
        field,
        t.rows.map((r): Row => ({ ...r, [name]: value() })),
      );
    }
    return replace(input, field, { ...t.columns, [name]: Array.from({ length: t.length }, value) });
  },
  factor: () => 1,
  offset: () => 0,
});

export const builtinTransforms: readonly MetamorphicTransform<never>[] = Object.freeze([
  identity,
  permuteRows,
  scale,
  shift,
  duplicateRows,
  addColumn,
] as unknown as MetamorphicTransform<never>[]);

// ── registry ─────────────────────────────────────────────────────────────────────────────────

const registry = new Map<string, MetamorphicTransform<never>>(builtinTransforms.map((t) => [t.name, t]));

/** Makes a custom transform available by name to every spec. A name can be registered once. */
export function registerTransform<P>(transform: MetamorphicTransform<P> | TransformDefinition<P>): MetamorphicTransform<P> {
  const t = (transform as { kind?: unknown }).kind === "transform" ? (transform as MetamorphicTransform<P>) : defineTransform(transform);
  const existing = registry.get(t.name);
  if (existing !== undefined && existing !== (t as unknown)) {
    throw new ValidationError(`transform "${t.name}"`, [
      builtinTransforms.includes(existing) ? "this name belongs to a built-in transform" : "a different transform is already registered under this name",
    ]);
  }
  registry.set(t.name, t as unknown as MetamorphicTransform<never>);
  return t;
}

/** Finds a transform: the `extra` ones first (a step's options), then the registry. */
export function resolveTransform(name: string, extra: readonly MetamorphicTransform<never>[] = []): MetamorphicTransform<never> {
  const found = extra.find((t) => t.name === name) ?? registry.get(name);
  if (found) return found;
  const known = [...new Set([...extra.map((t) => t.name), ...registry.keys()])].sort();
  throw new ValidationError(`transform "${name}"`, [`no transform has this name; known: ${known.join(", ")}`]);
}

export function registeredTransformNames(): string[] {
  return [...registry.keys()].sort();
}
