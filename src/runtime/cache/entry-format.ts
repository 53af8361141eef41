// The binary format of a cache entry file:
//
//   bytes 0..7     magic "CRYCACH1" (format version 1)
//   bytes 8..15    payload length, float64 LE
//   bytes 16..47   sha256 of the payload (the checksum)
//   bytes 48..111  the entry's key, 64 ASCII hex digits
//   bytes 112..    payload: v8.serialize({ output, metrics, wrote, artifacts })
//
// The payload only has to round-trip (the key is what must be canonical). v8's format stores
// typed arrays as raw bytes and reads them back as views of the file's buffer, so a hit on a
// large Float64Array costs little more than reading the file.
import { createHash } from "node:crypto";
import { deserialize, serialize } from "node:v8";
import type { CachedStep } from "../services.js";

export const MAGIC = Buffer.from("CRYCACH1", "ascii");
export const HEADER_BYTES = 112;

export function encodeEntry(key: string, entry: CachedStep): Buffer[] {
  const payload = serialize({
    output: entry.output,
    metrics: entry.metrics,
    wrote: entry.wrote,
    artifacts: entry.artifacts,
  });
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeDoubleLE(payload.byteLength, 8);
  createHash("sha256").update(payload).digest().copy(header, 16);
  header.write(key, 48, 64, "ascii");
  return [header, payload];
}

/** Decodes an entry file; throws an Error whose message says what is wrong with it. */
export function decodeEntry(key: string, file: Buffer): CachedStep {
  if (file.byteLength < HEADER_BYTES) throw new Error(`it is truncated (${file.byteLength} bytes, less than a header)`);
  if (!file.subarray(0, 8).equals(MAGIC)) throw new Error("it is not a Crystallize cache entry (bad magic bytes)");
  const length = file.readDoubleLE(8);
  if (file.byteLength !== HEADER_BYTES + length) {
    throw new Error(`its length is wrong (payload of ${file.byteLength - HEADER_BYTES} bytes, header says ${length})`);
  }
  const stored = file.toString("ascii", 48, 112);
  if (stored !== key) throw new Error(`it holds the entry of another key (${stored})`);
  const payload = file.subarray(HEADER_BYTES);
  const sum = createHash("sha256").update(payload).digest();
  if (!sum.equals(file.subarray(16, 48))) throw new Error("its checksum does not match its contents");
  let value: unknown;
  try {
    value = deserialize(payload);
  } catch (e) {
    throw new Error(`its payload cannot be decoded (${(e as Error).message})`);
  }
  const v = value as Partial<CachedStep> | null;
  if (v === null || typeof v !== "object" || !Array.isArray(v.metrics) || !Array.isArray(v.wrote) || !Array.isArray(v.artifacts)) {
    throw new Error("its payload does not have the shape of an entry");
  }
  return v as CachedStep;
}

const STORABLE_PROTOTYPES = new Set<unknown>([
  Object.prototype,
  null,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Number.prototype,
  String.prototype,
  Boolean.prototype,
  BigInt.prototype,
]);

/**
 * Why `value` would not come back from the cache as it went in (a class instance would come
 * back as a plain object, a function not at all), or undefined when it would.
 */
export function unstorableReason(value: unknown, path = "$", seen = new Set<object>()): string | undefined {
  switch (typeof value) {
    case "function":
      return `${path} is a function`;
    case "symbol":
      return `${path} is a symbol`;
    case "object":
      break;
    default:
      return undefined;
  }
  if (value === null || seen.has(value)) return undefined;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return undefined;
  const proto: unknown = Object.getPrototypeOf(value);
  if (!STORABLE_PROTOTYPES.has(proto)) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "unknown";
    return `${path} is an instance of ${name}, which would come back from the cache as a plain object`;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const why = unstorableReason(value[i], `${path}[${i}]`, seen);
      if (why) return why;
    }
  } else if (value instanceof Map) {
    let i = 0;
    for (const [k, v] of value) {
      const why = unstorableReason(k, `${path}<key ${i}>`, seen) ?? unstorableReason(v, `${path}<value ${i}>`, seen);
      if (why) return why;
      i++;
    }
  } else if (value instanceof Set) {
    let i = 0;
    for (const v of value) {
      const why = unstorableReason(v, `${path}<item ${i++}>`, seen);
      if (why) return why;
    }
  } else if (proto === Object.prototype || proto === null) {
    for (const k of Object.keys(value)) {
      const why = unstorableReason((value as Record<string, unknown>)[k], `${path}.${k}`, seen);
      if (why) return why;
    }
    if (Object.getOwnPropertySymbols(value).length > 0) return `${path} has symbol keys`;
  }
  return undefined;
}
