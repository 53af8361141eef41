// Host side: typed arrays in a result, copied into buffers of their own.
//
// The IPC channel's deserialiser hands out typed arrays as views into one shared (pooled) buffer:
// `result.buffer` would expose bytes of other messages, and writing through it could corrupt them.
// Results are fresh plain data (serialize.ts), so they are fixed in place.

const MAX_DEPTH = 600;

export function ownBuffers(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return value;
  if (ArrayBuffer.isView(value)) {
    if (value instanceof DataView) return value;
    const typed = value as unknown as { slice(): unknown; byteOffset: number; byteLength: number; buffer: ArrayBufferLike };
    return typed.byteOffset === 0 && typed.byteLength === typed.buffer.byteLength ? value : typed.slice();
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = ownBuffers(value[i], depth + 1);
    return value;
  }
  if (value instanceof Date) return value;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const v = record[key];
    if (v !== null && typeof v === "object") {
      const fixed = ownBuffers(v, depth + 1);
      if (fixed !== v) Object.defineProperty(record, key, { value: fixed, writable: true, enumerable: true, configurable: true });
    }
  }
  return value;
}
