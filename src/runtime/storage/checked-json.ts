// JSON files that carry their own checksum, written atomically.
//
// A file looks like `{ "checksum": "sha256:<hex>", ...fields }`. The checksum is the sha256 of
// the compact JSON text of the fields (everything but "checksum", in file order), so any edit or
// truncation is detected, and the file stays readable by people and by any JSON tool.
//
// Numbers JSON cannot hold (NaN, ±Infinity, -0) and bigints are written as tagged objects,
// `{"$number": "NaN"}`, `{"$bigint": "12"}`, so metrics survive a round trip exactly.
import { createHash } from "node:crypto";
import { StorageError } from "../../errors.js";
import { readFileIfExists, stageFileAtomic, writeFileAtomic, writeFileAtomicSync, type AtomicWriteOptions, type StagedFile } from "./atomic-write.js";

const TAGS = new Set(["$number", "$bigint", "$literal"]);

function isTagged(v: object): boolean {
  const keys = Object.keys(v);
  return keys.length === 1 && TAGS.has(keys[0] as string);
}

const literalWrappers = new WeakSet<object>();

/** JSON.stringify replacer: tags what plain JSON would lose. */
export function storableReplacer(this: unknown, _key: string, v: unknown): unknown {
  if (typeof v === "number") {
    if (Number.isFinite(v)) return Object.is(v, -0) ? { $number: "-0" } : v;
    return { $number: String(v) };
  }
  if (typeof v === "bigint") return { $bigint: v.toString() };
  if (v !== null && typeof v === "object" && !Array.isArray(v) && isTagged(v)) {
    // An object that merely looks like a tag is wrapped once (and its wrapper's content isn't).
    if (typeof this === "object" && this !== null && literalWrappers.has(this)) return v;
    const wrapper = { $literal: v };
    literalWrappers.add(wrapper);
    return wrapper;
  }
  return v;
}

/** Undoes storableReplacer on parsed JSON (top-down, so wrapped look-alikes stay as they are). */
export function restoreStorable(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = restoreStorable(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  if (isTagged(o)) {
    if (typeof o.$number === "string") return Number(o.$number);
    if (typeof o.$bigint === "string") return BigInt(o.$bigint);
    if (o.$literal !== null && typeof o.$literal === "object") return restoreFields(o.$literal as Record<string, unknown>);
  }
  return restoreFields(o);
}

function restoreFields(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) {
    const before = o[k];
    const after = restoreStorable(before);
    // defineProperty, not assignment: a key named "__proto__" must stay a plain own property.
    if (after !== before) Object.defineProperty(o, k, { value: after, writable: true, enumerable: true, configurable: true });
  }
  return o;
}

/** Plain JSON text for `value`, keeping NaN, ±Infinity, -0 and bigints. */
export function toStorableJson(value: unknown, indent?: number): string {
  // A replacer makes JSON.stringify several times slower; most values need none.
  const text = indent === undefined && plainSafe(value, 0) ? JSON.stringify(value) : JSON.stringify(value, storableReplacer, indent);
  if (text === undefined) throw new TypeError("the value has no JSON representation");
  return text;
}

/** Frozen values found plain-safe, with everything they hold (which can't change): not walked again. */
const safeFrozen = new WeakSet<object>();
/** The JSON text of values in safeFrozen, once asked for (see storableJsonOf). */
const frozenText = new WeakMap<object, string>();

/**
 * toStorableJson(value), remembered for values frozen with everything they hold (which can't
 * change): the params, access lists and empty metrics a run's provenance records share.
 */
export function storableJsonOf(value: unknown): string {
  if (typeof value !== "object" || value === null) return toStorableJson(value);
  const known = frozenText.get(value);
  if (known !== undefined) return known;
  const text = toStorableJson(value);
  if (safeFrozen.has(value)) frozenText.set(value, text);
  return text;
}
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * True when storableReplacer would change nothing in `v`, so plain JSON.stringify gives the same
 * text: no NaN, ±Infinity, -0 or bigint, no key that could make an object look like a tag, no
 * toJSON method (whose result the replacer would see). False also when unsure (great depth, a
 * cycle): the caller then takes the replacer's path, which is always right.
 */
function plainSafe(v: unknown, depth: number): boolean {
  if (typeof v === "number") return v - v === 0 && (v !== 0 || 1 / v > 0);
  if (typeof v !== "object" || v === null) return typeof v !== "bigint";
  if (safeFrozen.has(v)) return true;
  if (depth > 64) return false;
  // Memoised only when frozen with data properties all the way down (checked as we go).
  let memo = Object.isFrozen(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (!plainSafe(x, depth + 1)) return false;
      if (memo && typeof x === "object" && x !== null && !safeFrozen.has(x)) memo = false;
    }
  } else {
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
    for (const k in v) {
      // "$number", "$bigint", "$literal": an object with one such key must be wrapped.
      if (k.charCodeAt(0) === 36) return false;
      const x = (v as Record<string, unknown>)[k];
      if (!plainSafe(x, depth + 1)) return false;
      if (memo && ((typeof x === "object" && x !== null && !safeFrozen.has(x)) || !hasOwn.call(v, k))) memo = false;
    }
  }
  if (memo && !hasAccessor(v)) safeFrozen.add(v);
  return true;
}

function hasAccessor(v: object): boolean {
  for (const d of Object.values(Object.getOwnPropertyDescriptors(v))) if (!("value" in d)) return true;
  return false;
}

export function fromStorableJson(text: string): unknown {
  return restoreStorable(JSON.parse(text));
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export interface CheckedJsonOptions {
  /**
   * Indented for people (default true). false: one line, which is much cheaper for large files
   * (no second serialisation); readers accept both.
   */
  readonly pretty?: boolean;
}

/** The text of a checksummed JSON file for `fields` (an object). */
export function checkedJsonText(fields: Readonly<Record<string, unknown>>, options: CheckedJsonOptions = {}): string {
  // Normalise first (drop undefined, run toJSON, tag numbers), so the checksum is over exactly
  // what a reader will parse back. The compact text of a JSON value is a fixed point of
  // parse-then-stringify, so it is what a reader recomputes the checksum over.
  const compact = toStorableJson(fields);
  if (compact.charCodeAt(0) !== 123) throw new TypeError("a checked JSON file holds an object");
  if (options.pretty === false) {
    if (Object.prototype.hasOwnProperty.call(fields, "checksum")) throw new TypeError('a checked JSON file cannot have its own "checksum" field');
    return checkedJsonLine(compact);
  }
  const plain = JSON.parse(compact) as Record<string, unknown>;
  if ("checksum" in plain) throw new TypeError('a checked JSON file cannot have its own "checksum" field');
  const checksum = `sha256:${sha256(compact)}`;
  return JSON.stringify({ checksum, ...plain }, null, 2) + "\n";
}

/**
 * The one-line text of a checked JSON file from `compact`, the storable compact JSON text of its
 * fields (an object without "checksum", as toStorableJson writes it), for callers that assemble
 * that text themselves.
 */
export function checkedJsonLine(compact: string): string {
  const head = `{"checksum":"sha256:${sha256(compact)}"`;
  return (compact === "{}" ? `${head}}` : `${head},${compact.slice(1)}`) + "\n";
}

export async function writeCheckedJson(
  path: string,
  fields: Readonly<Record<string, unknown>>,
  options?: AtomicWriteOptions & CheckedJsonOptions,
): Promise<void> {
  await writeFileAtomic(path, checkedTextFor(path, fields, options), options);
}

/** writeCheckedJson with synchronous calls: see writeFileAtomicSync. */
export function writeCheckedJsonSync(
  path: string,
  fields: Readonly<Record<string, unknown>>,
  options?: Omit<AtomicWriteOptions, "fs"> & CheckedJsonOptions,
): void {
  writeFileAtomicSync(path, checkedTextFor(path, fields, options), options);
}

/** Like writeCheckedJson, but leaves the file staged: see stageFileAtomic. */
export async function stageCheckedJson(
  path: string,
  fields: Readonly<Record<string, unknown>>,
  options?: AtomicWriteOptions & CheckedJsonOptions,
): Promise<StagedFile> {
  return stageFileAtomic(path, checkedTextFor(path, fields, options), options);
}

function checkedTextFor(path: string, fields: Readonly<Record<string, unknown>>, options?: CheckedJsonOptions): string {
  try {
    return checkedJsonText(fields, options);
  } catch (e) {
    throw new StorageError(path, `Could not write "${path}": ${(e as Error).message}.`, e);
  }
}

/** Why `text` is not a whole checked JSON file, or undefined when it is. */
export function checkedJsonProblem(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return `it is not valid JSON (${(e as Error).message})`;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return "it is not a JSON object";
  const { checksum, ...rest } = parsed as Record<string, unknown>;
  if (typeof checksum !== "string" || !checksum.startsWith("sha256:")) return "it has no checksum";
  if (checksum !== `sha256:${sha256(JSON.stringify(rest))}`) return "its checksum does not match its contents";
  return undefined;
}

/**
 * Reads a checksummed JSON file: its fields (checksum removed, tagged numbers restored), or
 * undefined when the file does not exist. A damaged file raises StorageError naming it.
 */
export async function readCheckedJson(path: string): Promise<Record<string, unknown> | undefined> {
  const bytes = await readFileIfExists(path);
  if (bytes === undefined) return undefined;
  const text = bytes.toString("utf8");
  const problem = checkedJsonProblem(text);
  if (problem !== undefined) throw new StorageError(path, `The file "${path}" is damaged: ${problem}.`);
  const { checksum: _checksum, ...fields } = JSON.parse(text) as Record<string, unknown>;
  return restoreStorable(fields) as Record<string, unknown>;
}
