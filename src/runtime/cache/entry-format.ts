// The binary format of a cache entry file:
//
//   bytes 0..7      magic "CRYCACH1" (format version 1)
//   bytes 8..11     checksum algorithm, u32 LE: 1 = CRC-32 (zlib), 2 = sha256
//   bytes 12..15    reserved (0)
//   bytes 16..23    payload length, float64 LE
//   bytes 24..55    checksum of the payload (CRC-32 in the first 4 bytes, LE; or the sha256)
//   bytes 56..119   the entry's key, 64 ASCII hex digits
//   bytes 120..     payload (below): the entry { output, metrics, wrote, artifacts }
//
// The payload only has to round-trip (the key is what must be canonical). Typed arrays are stored
// raw and read back as views of the file's buffer, so a hit on a large Float64Array costs little
// more than reading the file. The checksum detects damage
// (bit rot, truncation, hand edits); CRC-32 is used where Node provides it natively (it is about
// twice as fast as sha256), and it is computed while the file is being read.
import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { Deserializer, Serializer } from "node:v8";
import * as zlib from "node:zlib";
import type { CachedStep } from "../services.js";

export const MAGIC = Buffer.from("CRYCACH1", "ascii");
export const HEADER_BYTES = 120;
const CRC32 = 1;
const SHA256 = 2;

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

interface Checksummer {
  update(bytes: Uint8Array): void;
  /** 32 bytes. */
  digest(): Buffer;
}

function checksummer(algorithm: number): Checksummer | undefined {
  if (algorithm === CRC32 && nativeCrc32 !== undefined) {
    const crc = nativeCrc32;
    let value = 0;
    return {
      update: (bytes) => {
        // zlib's crc32 returns 0 (not the running value) for a null data pointer, which an empty
        // view of an empty ArrayBuffer has.
        if (bytes.byteLength > 0) value = crc(bytes, value);
      },
      digest: () => {
        const out = Buffer.alloc(32);
        out.writeUInt32LE(value >>> 0, 0);
        return out;
      },
    };
  }
  if (algorithm === SHA256) {
    const hash = createHash("sha256");
    return { update: (bytes) => void hash.update(bytes), digest: () => hash.digest() };
  }
  return undefined;
}

// The payload: a small table, v8's serialisation of the entry with every typed array replaced by
// a reference, then each typed array's raw bytes, 8-byte aligned:
//   u32 blob count, u32 skeleton length,
//   per blob: u32 type id, u32 reserved, f64 offset (from the payload start), f64 byte length,
//   skeleton, then the blobs.
// Reading gives each typed array back as a view of the file's buffer: no copy, no decoding.
const VIEW_TYPES: ReadonlyArray<new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView> = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
];
const BUFFER_TYPE = 100;

function viewTypeId(view: ArrayBufferView): number {
  if (Buffer.isBuffer(view)) return BUFFER_TYPE;
  for (let i = 0; i < VIEW_TYPES.length; i++) if (view instanceof VIEW_TYPES[i]!) return i;
  return -1;
}

class BlobSerializer extends Serializer {
  readonly blobs: ArrayBufferView[] = [];
  constructor() {
    super();
    (this as unknown as { _setTreatArrayBufferViewsAsHostObjects(flag: boolean): void })._setTreatArrayBufferViewsAsHostObjects(true);
  }
  _writeHostObject(object: object): void {
    if (!ArrayBuffer.isView(object) || viewTypeId(object) < 0) {
      throw new TypeError(`cannot store a ${(object as { constructor?: { name?: string } }).constructor?.name ?? "host object"}`);
    }
    this.writeUint32(this.blobs.length);
    this.blobs.push(object);
  }
}

class BlobDeserializer extends Deserializer {
  constructor(
    skeleton: Buffer,
    private readonly views: readonly ArrayBufferView[],
  ) {
    super(skeleton);
  }
  _readHostObject(): unknown {
    const view = this.views[this.readUint32()];
    if (view === undefined) throw new Error("a typed array reference is out of range");
    return view;
  }
}

const align8 = (n: number): number => (n + 7) & ~7;

export function encodeEntry(key: string, entry: CachedStep): Buffer[] {
  const ser = new BlobSerializer();
  ser.writeHeader();
  ser.writeValue({
    output: entry.output,
    metrics: entry.metrics,
    wrote: entry.wrote,
    artifacts: entry.artifacts,
    ...(entry.reads === undefined ? {} : { reads: entry.reads }),
    ...(entry.readSets === undefined ? {} : { readSets: entry.readSets }),
  });
  const skeleton = ser.releaseBuffer();
  const blobs = ser.blobs;
  const tableBytes = 8 + blobs.length * 24;
  const table = Buffer.alloc(tableBytes);
  table.writeUInt32LE(blobs.length, 0);
  table.writeUInt32LE(skeleton.byteLength, 4);
  const chunks: Buffer[] = [table, skeleton];
  let offset = tableBytes + skeleton.byteLength;
  blobs.forEach((blob, i) => {
    const at = align8(offset);
    if (at > offset) chunks.push(Buffer.alloc(at - offset));
    table.writeUInt32LE(viewTypeId(blob), 8 + i * 24);
    table.writeDoubleLE(at, 8 + i * 24 + 8);
    table.writeDoubleLE(blob.byteLength, 8 + i * 24 + 16);
    chunks.push(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
    offset = at + blob.byteLength;
  });
  const algorithm = nativeCrc32 !== undefined ? CRC32 : SHA256;
  const sum = checksummer(algorithm)!;
  for (const c of chunks) sum.update(c);
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(algorithm, 8);
  header.writeDoubleLE(offset, 16);
  sum.digest().copy(header, 24);
  header.write(key, 56, 64, "ascii");
  return [header, ...chunks];
}

function decodePayload(payload: Buffer): unknown {
  if (payload.byteLength < 8) throw new Error("the payload is too short");
  const count = payload.readUInt32LE(0);
  const skeletonLength = payload.readUInt32LE(4);
  const tableBytes = 8 + count * 24;
  if (tableBytes + skeletonLength > payload.byteLength) throw new Error("the payload's table is inconsistent");
  const views: ArrayBufferView[] = [];
  for (let i = 0; i < count; i++) {
    const type = payload.readUInt32LE(8 + i * 24);
    const at = payload.readDoubleLE(8 + i * 24 + 8);
    const length = payload.readDoubleLE(8 + i * 24 + 16);
    if (!(at >= tableBytes + skeletonLength && at + length <= payload.byteLength)) throw new Error("a typed array lies outside the payload");
    const start = payload.byteOffset + at;
    if (type === BUFFER_TYPE) {
      views.push(Buffer.from(payload.buffer, start, length));
      continue;
    }
    const Ctor = VIEW_TYPES[type];
    if (Ctor === undefined) throw new Error(`unknown typed array type ${type}`);
    const width = (Ctor as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    if (length % width !== 0) throw new Error("a typed array's length is not a whole number of elements");
    if (start % width === 0) {
      views.push(new Ctor(payload.buffer as ArrayBuffer, start, Ctor === DataView ? length : length / width));
    } else {
      // The file's buffer is not aligned (small files come from a shared pool): copy.
      const copy = new ArrayBuffer(length);
      new Uint8Array(copy).set(payload.subarray(at, at + length));
      views.push(new Ctor(copy, 0, Ctor === DataView ? length : length / width));
    }
  }
  const des = new BlobDeserializer(payload.subarray(tableBytes, tableBytes + skeletonLength), views);
  des.readHeader();
  return des.readValue();
}

const READ_CHUNK = 2 * 1024 * 1024;

/**
 * Reads an entry file, computing its payload's checksum as the bytes arrive: each chunk is
 * checksummed while the next one is being read, so reading and verifying cost about as much as
 * reading. Returns undefined when the file does not exist.
 */
export async function readEntryFile(path: string): Promise<{ file: Buffer; checksum: Buffer | undefined } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    const { size } = await handle.stat();
    const file = Buffer.allocUnsafe(size);
    let sum: Checksummer | undefined;
    let done = 0;
    let offset = 0;
    while (offset < size) {
      const reading = handle.read(file, offset, Math.min(READ_CHUNK, size - offset), offset);
      // Checksum what has arrived while the next chunk is read.
      if (sum === undefined && offset >= HEADER_BYTES) {
        sum = checksummer(file.readUInt32LE(8));
        done = HEADER_BYTES;
      }
      if (sum !== undefined && offset > done) {
        sum.update(file.subarray(done, offset));
        done = offset;
      }
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    if (sum === undefined && offset >= HEADER_BYTES) {
      sum = checksummer(file.readUInt32LE(8));
      done = HEADER_BYTES;
    }
    if (sum !== undefined && offset > done) sum.update(file.subarray(done, offset));
    return { file: offset === size ? file : file.subarray(0, offset), checksum: sum?.digest() };
  } finally {
    await handle.close();
  }
}

/**
 * Decodes an entry file; throws an Error whose message says what is wrong with it.
 * `checksum` is the payload's checksum when the reader already computed it.
 */
export function decodeEntry(key: string, file: Buffer, checksum?: Buffer): CachedStep {
  if (file.byteLength < HEADER_BYTES) throw new Error(`it is truncated (${file.byteLength} bytes, less than a header)`);
  if (!file.subarray(0, 8).equals(MAGIC)) throw new Error("it is not a Crystallize cache entry (bad magic bytes)");
  const length = file.readDoubleLE(16);
  if (file.byteLength !== HEADER_BYTES + length) {
    throw new Error(`its length is wrong (payload of ${file.byteLength - HEADER_BYTES} bytes, header says ${length})`);
  }
  const stored = file.toString("ascii", 56, 120);
  if (stored !== key) throw new Error(`it holds the entry of another key (${stored})`);
  const payload = file.subarray(HEADER_BYTES);
  let sum = checksum;
  if (sum === undefined) {
    const c = checksummer(file.readUInt32LE(8));
    if (c === undefined) throw new Error(`its checksum algorithm (${file.readUInt32LE(8)}) is unknown to this Node.js`);
    c.update(payload);
    sum = c.digest();
  }
  if (!sum.equals(file.subarray(24, 56))) throw new Error("its checksum does not match its contents");
  let value: unknown;
  try {
    value = decodePayload(payload);
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
