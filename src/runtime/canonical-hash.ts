// Canonical hashing: a value is turned into a canonical byte encoding that is streamed straight
// into node:crypto's sha256. Equal values hash equal whatever their key or insertion order; any
// change of a value, a key or an element type changes the hash.
//
// The encoding (every item starts with a one-byte tag):
//   undefined, null, false, true, NaN, hole      tag only
//   number                                       tag, float64 LE (so -0 and 0 differ; NaN has its own tag)
//   bigint                                       tag, sign, u32 length, hex digits
//   string                                       tag, u32 byte length, UTF-8 (UTF-16LE under another tag if not well formed)
//   array                                        tag, u32 length, items (a hole is not undefined)
//   plain object                                 tag, u32 count, (key, value) pairs by sorted key
//   class instance                               tag, constructor name, then like a plain object
//   Map / Set                                    tag, u32 count, then entries / items ordered by the
//                                                sha256 of their own canonical encoding
//   Date                                         tag, float64 time (an invalid Date encodes NaN)
//   typed array / DataView / ArrayBuffer         tag, type id, float64 byte length, raw bytes (little-endian)
//   RegExp, boxed primitives, Error, symbols     see below
// Functions, WeakMap/WeakSet/WeakRef and Promises have no canonical value: hashing one throws
// UnhashableValueError naming the path. So does a cycle.
import { createHash } from "node:crypto";
import { endianness } from "node:os";
import { CrystallizeError } from "../errors.js";

/** A value cannot be hashed canonically (a function, a cycle, ...). `path` locates it, e.g. `$.a[2]`. */
export class UnhashableValueError extends CrystallizeError {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string, subject = "the value") {
    super(`Cannot hash ${subject} at ${path}: ${reason}.`, { code: "E_UNHASHABLE" });
    this.path = path;
    this.reason = reason;
  }
}

/** An object may define this method to say what it hashes as (for classes with private state). */
export const canonicalValue: unique symbol = Symbol.for("crystallize.canonicalValue") as never;

const enum Tag {
  Undefined = 0x00,
  Null = 0x01,
  False = 0x02,
  True = 0x03,
  Number = 0x04,
  NaN = 0x05,
  BigInt = 0x06,
  String = 0x07,
  StringUtf16 = 0x08,
  Array = 0x09,
  Hole = 0x0a,
  Object = 0x0b,
  Instance = 0x0c,
  Map = 0x0d,
  Set = 0x0e,
  Date = 0x0f,
  TypedArray = 0x10,
  DataView = 0x11,
  ArrayBuffer = 0x12,
  SharedArrayBuffer = 0x13,
  RegExp = 0x14,
  Boxed = 0x15,
  Error = 0x16,
  Symbol = 0x17,
  Custom = 0x18,
  /** Separates the values of a multi-part hash (`createCanonicalHasher().update(a).update(b)`). */
  Part = 0x19,
}

const TYPED_ARRAY_IDS = new Map<unknown, number>([
  [Int8Array, 1],
  [Uint8Array, 2],
  [Uint8ClampedArray, 3],
  [Int16Array, 4],
  [Uint16Array, 5],
  [Int32Array, 6],
  [Uint32Array, 7],
  [Float32Array, 8],
  [Float64Array, 9],
  [BigInt64Array, 10],
  [BigUint64Array, 11],
]);
const Float16 = (globalThis as { Float16Array?: unknown }).Float16Array;
if (Float16 !== undefined) TYPED_ARRAY_IDS.set(Float16, 12);

const LITTLE_ENDIAN = endianness() === "LE";
const CHUNK = 64 * 1024;
/** Below this depth no cycle check is made: a cycle always drives the walk deeper than this. */
const CYCLE_DEPTH = 48;
const CYCLE = "the value contains a cycle (an object that contains itself)";
/** Strings up to this length take the inline ASCII path. */
const SHORT_STRING = 64;

interface Sink {
  update(data: Uint8Array): unknown;
}

/** Marks a thrown error on its way out so each container can prepend its path segment. */
class PathError extends Error {
  readonly segments: string[] = [];
  constructor(readonly reason: string) {
    super(reason);
  }
}

const identifier = /^[A-Za-z_$][\w$]*$/;
function keySegment(key: string): string {
  return identifier.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

const isWellFormed = (s: string): boolean =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed();

const objectProto = Object.prototype;
const hasOwn = Object.prototype.hasOwnProperty;

class Encoder {
  private sink: Sink;
  private readonly buf: Buffer;
  private readonly view: DataView;
  private pos = 0;
  /** Containers on the current path, for cycle detection. */
  private readonly ancestors: Set<object>;
  private child: Encoder | undefined;
  private depth = 0;
  private lastKeys: readonly string[] = [];
  private lastSorted: readonly string[] = [];
  /** Check every level for cycles (used to report a cycle's shortest path). */
  strict = false;

  constructor(sink: Sink, ancestors: Set<object> = new Set(), size = CHUNK) {
    this.sink = sink;
    this.buf = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.ancestors = ancestors;
  }

  reset(sink: Sink): void {
    this.sink = sink;
    this.pos = 0;
  }

  flush(): void {
    if (this.pos > 0) {
      this.sink.update(this.buf.subarray(0, this.pos));
      this.pos = 0;
    }
  }

  private room(n: number): void {
    if (this.pos + n > this.buf.length) this.flush();
  }

  tag(t: number): void {
    if (this.pos >= this.buf.length) this.flush();
    this.buf[this.pos++] = t;
  }

  private u32(n: number): void {
    this.room(4);
    this.view.setUint32(this.pos, n, true);
    this.pos += 4;
  }

  private f64(n: number): void {
    this.room(8);
    this.view.setFloat64(this.pos, n, true);
    this.pos += 8;
  }

  private raw(bytes: Uint8Array): void {
    if (bytes.byteLength <= 256) {
      this.room(bytes.byteLength);
      this.buf.set(bytes, this.pos);
      this.pos += bytes.byteLength;
    } else {
      // Large blocks go straight to the sink: no copy.
      this.flush();
      this.sink.update(bytes);
    }
  }

  string(s: string): void {
    const n = s.length;
    if (n <= SHORT_STRING) {
      this.room(5 + n);
      const buf = this.buf;
      const start = this.pos;
      let p = start + 5;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[start] = Tag.String;
        this.view.setUint32(start + 1, n, true);
        this.pos = p;
        return;
      }
    }
    if (!isWellFormed(s)) {
      // Lone surrogates: UTF-8 would replace them, so two different strings could collide.
      this.tag(Tag.StringUtf16);
      this.u32(n * 2);
      this.raw(Buffer.from(s, "utf16le"));
      return;
    }
    const max = n * 3;
    if (max + 5 <= this.buf.length) {
      this.room(5 + max);
      const start = this.pos;
      const written = this.buf.write(s, start + 5, max, "utf8");
      this.buf[start] = Tag.String;
      this.view.setUint32(start + 1, written, true);
      this.pos = start + 5 + written;
      return;
    }
    this.tag(Tag.String);
    this.u32(Buffer.byteLength(s, "utf8"));
    this.flush();
    this.sink.update(Buffer.from(s, "utf8"));
  }

  value(v: unknown): void {
    switch (typeof v) {
      case "number":
        if (v !== v) this.tag(Tag.NaN);
        else {
          this.room(9);
          this.buf[this.pos++] = Tag.Number;
          this.view.setFloat64(this.pos, v, true);
          this.pos += 8;
        }
        return;
      case "string":
        this.string(v);
        return;
      case "boolean":
        this.tag(v ? Tag.True : Tag.False);
        return;
      case "undefined":
        this.tag(Tag.Undefined);
        return;
      case "bigint": {
        this.tag(Tag.BigInt);
        this.tag(v < 0n ? 1 : 0);
        this.string((v < 0n ? -v : v).toString(16));
        return;
      }
      case "symbol": {
        const key = Symbol.keyFor(v);
        if (key === undefined) {
          throw new PathError("a unique symbol has no canonical value (only Symbol.for() symbols do)");
        }
        this.tag(Tag.Symbol);
        this.string(key);
        return;
      }
      case "function":
        throw new PathError(`a function (${v.name || "anonymous"}) has no canonical value; pass data, not code`);
      case "object":
        if (v === null) this.tag(Tag.Null);
        else this.object(v);
        return;
    }
  }

  private object(v: object): void {
    // Cycle check: a cycle makes the walk go ever deeper, so only values below CYCLE_DEPTH are
    // checked (cheap for ordinary data); `strict` checks every level, to report the shortest path.
    const depth = ++this.depth;
    const checked = this.strict || depth > CYCLE_DEPTH;
    if (checked) {
      if (this.ancestors.has(v)) throw new PathError(CYCLE);
      this.ancestors.add(v);
    }
    try {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto === objectProto || proto === null) {
        if (typeof (v as Record<symbol, unknown>)[canonicalValue] === "function") this.custom(v);
        else this.plain(v as Record<string, unknown>, Tag.Object);
      } else if (Array.isArray(v)) this.array(v);
      else if (ArrayBuffer.isView(v)) this.view_(v);
      else this.special(v);
    } finally {
      this.depth--;
      if (checked) this.ancestors.delete(v);
    }
  }

  private plain(v: Record<string, unknown>, tag: number): void {
    const keys = this.sortedKeys(v);
    this.tag(tag);
    this.u32(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      this.string(k);
      try {
        this.value(v[k]);
      } catch (e) {
        throw withSegment(e, keySegment(k));
      }
    }
  }

  /** Object.keys sorted; objects of one shape come in runs, so the last sort is reused. */
  private sortedKeys(v: object): readonly string[] {
    const keys = Object.keys(v);
    const last = this.lastKeys;
    if (last.length === keys.length) {
      let same = true;
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastSorted;
    }
    this.lastKeys = keys;
    this.lastSorted = keys.slice().sort();
    return this.lastSorted;
  }

  private array(v: readonly unknown[]): void {
    const n = v.length;
    this.tag(Tag.Array);
    this.u32(n);
    for (let i = 0; i < n; i++) {
      const item = v[i];
      try {
        if (item === undefined && !(i in v)) this.tag(Tag.Hole);
        else this.value(item);
      } catch (e) {
        throw withSegment(e, `[${i}]`);
      }
    }
  }

  private view_(v: ArrayBufferView): void {
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    if (v instanceof DataView) {
      this.tag(Tag.DataView);
      this.f64(v.byteLength);
      this.raw(bytes);
      return;
    }
    let id = TYPED_ARRAY_IDS.get(v.constructor);
    if (id === undefined) {
      // A subclass (Buffer is a Uint8Array): find the built-in ancestor.
      for (const [ctor, tid] of TYPED_ARRAY_IDS) {
        if (v instanceof (ctor as new () => object)) {
          id = tid;
          break;
        }
      }
    }
    if (id === undefined) throw new PathError(`an unknown typed array (${v.constructor.name})`);
    this.tag(Tag.TypedArray);
    this.tag(id);
    this.f64(v.byteLength);
    const width = (v as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    if (LITTLE_ENDIAN || width === 1) this.raw(bytes);
    else this.raw(swapToLittleEndian(bytes, width));
  }

  private special(v: object): void {
    if (v instanceof Map) return this.map(v);
    if (v instanceof Set) return this.set(v);
    if (v instanceof Date) {
      this.tag(Tag.Date);
      const t = v.getTime();
      if (t !== t) this.tag(Tag.NaN);
      else this.f64(t);
      return;
    }
    if (v instanceof ArrayBuffer) {
      this.tag(Tag.ArrayBuffer);
      this.f64(v.byteLength);
      this.raw(new Uint8Array(v));
      return;
    }
    if (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer) {
      this.tag(Tag.SharedArrayBuffer);
      this.f64(v.byteLength);
      this.raw(new Uint8Array(v));
      return;
    }
    if (v instanceof RegExp) {
      this.tag(Tag.RegExp);
      this.string(v.source);
      this.string(v.flags);
      return;
    }
    if (v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt) {
      this.tag(Tag.Boxed);
      this.value(v.valueOf());
      return;
    }
    if (typeof (v as Record<symbol, unknown>)[canonicalValue] === "function") return this.custom(v);
    if (
      v instanceof WeakMap ||
      v instanceof WeakSet ||
      v instanceof Promise ||
      (typeof WeakRef !== "undefined" && v instanceof WeakRef)
    ) {
      throw new PathError(`a ${v.constructor.name} has no canonical value`);
    }
    if (v instanceof Error) {
      this.tag(Tag.Error);
      this.string(v.name);
      this.string(v.message);
      this.plain(v as unknown as Record<string, unknown>, Tag.Object);
      return;
    }
    const json = (v as { toJSON?: unknown }).toJSON;
    this.tag(Tag.Instance);
    this.string(constructorName(v));
    if (typeof json === "function") {
      this.tag(Tag.Custom);
      this.value(json.call(v));
      return;
    }
    this.plain(v as Record<string, unknown>, Tag.Object);
  }

  private custom(v: object): void {
    const fn = (v as Record<symbol, () => unknown>)[canonicalValue] as () => unknown;
    this.tag(Tag.Custom);
    this.value(fn.call(v));
  }

  /** Items ordered by the digest of their own encoding: canonical whatever the insertion order. */
  private digests(items: Iterable<unknown>, count: number, label: (i: number) => string): Buffer[] {
    const out: Buffer[] = new Array(count);
    const child = (this.child ??= new Encoder(this.sink, this.ancestors, 4096));
    child.depth = this.depth;
    child.strict = this.strict;
    let i = 0;
    for (const item of items) {
      const hash = createHash("sha256");
      child.reset(hash);
      try {
        child.value(item);
      } catch (e) {
        throw withSegment(e, label(i));
      }
      child.flush();
      out[i++] = hash.digest();
    }
    return out;
  }

  private set(v: Set<unknown>): void {
    const ds = this.digests(v, v.size, (i) => `<set item ${i}>`);
    ds.sort(Buffer.compare);
    this.tag(Tag.Set);
    this.u32(ds.length);
    for (const d of ds) this.raw(d);
  }

  private map(v: Map<unknown, unknown>): void {
    const keys = [...v.keys()];
    const ds = this.digests(keys, keys.length, (i) => `<map key ${i}>`);
    const order = ds.map((_, i) => i).sort((a, b) => Buffer.compare(ds[a] as Buffer, ds[b] as Buffer));
    this.tag(Tag.Map);
    this.u32(keys.length);
    for (const i of order) {
      this.raw(ds[i] as Buffer);
      const k = keys[i];
      try {
        this.value(v.get(k));
      } catch (e) {
        throw withSegment(e, typeof k === "string" ? `.get(${JSON.stringify(k)})` : `<map value ${i}>`);
      }
    }
  }
}

function constructorName(v: object): string {
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" ? ctor.name : "";
}

function withSegment(e: unknown, segment: string): unknown {
  if (e instanceof PathError) e.segments.push(segment);
  return e;
}

function swapToLittleEndian(bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width) {
    for (let j = 0; j < width; j++) out[i + j] = bytes[i + width - 1 - j] as number;
  }
  return out;
}

function encodeInto(encoder: Encoder, value: unknown): void {
  try {
    encoder.value(value);
  } catch (e) {
    if (!(e instanceof PathError)) throw e;
    let error = e;
    if (e.reason === CYCLE && !encoder.strict) {
      // Found deep down: walk again checking every level, to name the shortest path.
      const strict = new Encoder({ update: () => undefined }, new Set(), 4096);
      strict.strict = true;
      try {
        strict.value(value);
      } catch (again) {
        if (again instanceof PathError) error = again;
      }
    }
    throw new UnhashableValueError("$" + error.segments.reverse().join(""), error.reason);
  }
}

// One encoder is reused between calls (hashing is synchronous, so calls never overlap).
let shared: Encoder | undefined;
let sharedBusy = false;

function withEncoder<R>(sink: Sink, run: (e: Encoder) => R): R {
  if (sharedBusy) {
    // Re-entrant use (a toJSON or canonicalValue method hashing something itself).
    return run(new Encoder(sink));
  }
  const encoder = (shared ??= new Encoder(sink));
  encoder.reset(sink);
  sharedBusy = true;
  try {
    return run(encoder);
  } finally {
    sharedBusy = false;
  }
}

/** The sha256 of `value`'s canonical encoding, as 64 hex digits. */
export function canonicalHash(value: unknown): string {
  return canonicalDigest(value).toString("hex");
}

/** The sha256 of `value`'s canonical encoding, as 32 bytes. */
export function canonicalDigest(value: unknown): Buffer {
  const hash = createHash("sha256");
  withEncoder(hash, (e) => {
    encodeInto(e, value);
    e.flush();
  });
  return hash.digest();
}

/** The canonical encoding itself (what `canonicalHash` digests). Mostly for tests and debugging. */
export function canonicalEncode(value: unknown): Uint8Array {
  const chunks: Buffer[] = [];
  const sink: Sink = { update: (data) => chunks.push(Buffer.from(data)) };
  withEncoder(sink, (e) => {
    encodeInto(e, value);
    e.flush();
  });
  return Buffer.concat(chunks);
}

export interface CanonicalHasher {
  /** Adds one value; values are delimited, so (a, b) and (b, a) or ([a, b]) all differ. */
  update(value: unknown): CanonicalHasher;
  /** The hex sha256 of everything added. The hasher can't be used afterwards. */
  digest(): string;
}

/** A hash over several values in turn, e.g. the parts of a cache key. */
export function createCanonicalHasher(): CanonicalHasher {
  const hash = createHash("sha256");
  const hasher: CanonicalHasher = {
    update(value) {
      withEncoder(hash, (e) => {
        e.tag(Tag.Part);
        encodeInto(e, value);
        e.flush();
      });
      return hasher;
    },
    digest: () => hash.digest("hex"),
  };
  return hasher;
}
