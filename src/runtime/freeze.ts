// Freezing context values once, when added, lets the runtime hand them out without copying.
// Typed arrays and ArrayBuffers cannot be frozen, so they are copied on the way in and out.
// Maps and Sets are copied once into instances whose mutators throw.
import { ContextMutationError } from "../errors.js";

export function freezeValue<T>(value: T, key: string): T {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return detachBinary(value);
  if (Object.isFrozen(value) && !(value instanceof Map) && !(value instanceof Set)) return value;
  if (value instanceof Map) {
    const copy = new Map<unknown, unknown>();
    for (const [k, v] of value) copy.set(freezeValue(k, key), freezeValue(v, key));
    return sealCollection(copy, ["set", "delete", "clear"], key) as T;
  }
  if (value instanceof Set) {
    const copy = new Set<unknown>();
    for (const v of value) copy.add(freezeValue(v, key));
    return sealCollection(copy, ["add", "delete", "clear"], key) as T;
  }
  for (const k of Reflect.ownKeys(value)) {
    const v = (value as Record<PropertyKey, unknown>)[k];
    if (v !== null && typeof v === "object") {
      const frozen = freezeValue(v, key);
      if (frozen !== v) (value as Record<PropertyKey, unknown>)[k] = frozen;
    }
  }
  return Object.freeze(value);
}

function sealCollection<C extends object>(collection: C, mutators: readonly string[], key: string): C {
  for (const m of mutators) {
    Object.defineProperty(collection, m, {
      value: () => {
        throw new ContextMutationError(key, `Context value "${key}" is frozen; ${m}() is not allowed. Add a new key instead.`);
      },
    });
  }
  return Object.freeze(collection);
}

/** Copies typed arrays and ArrayBuffers (which cannot be frozen); other values pass through. */
export function detachBinary<T>(value: T): T {
  if (value instanceof ArrayBuffer) return value.slice(0) as T;
  if (value instanceof DataView) {
    return new DataView(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength)) as T;
  }
  if (ArrayBuffer.isView(value)) return (value as unknown as { slice(): T }).slice();
  return value;
}
