// Child side: turns a guest's result into plain data for the IPC channel, with a byte cap.
//
// It never runs guest code: it reads own data properties through descriptors (a getter is an
// error, never called), refuses proxies before touching them (no trap can fire), ignores `toJSON`
// and inspect hooks, and never calls array methods on guest arrays (no species lookups). The copy
// it builds is fresh, so the structured clone that follows only sees data this module created.
// The size is counted as it goes (roughly the length of the JSON text), so a huge or exponentially
// shared value stops at the cap instead of exhausting memory.
import { types } from "node:util";

export type SerializeFailure =
  | { readonly reason: "output-too-large"; readonly message: string }
  | { readonly reason: "non-serialisable-result"; readonly message: string };

export type SerializeOutcome =
  | { readonly ok: true; readonly value: unknown; readonly bytes: number }
  | { readonly ok: false; readonly failure: SerializeFailure };

const MAX_DEPTH = 512;

// Captured at load time (before lockdown; after lockdown they are frozen anyway).
const { getPrototypeOf, getOwnPropertyDescriptor, defineProperty } = Object;
const { ownKeys } = Reflect;
const ObjectPrototype = Object.prototype;
const ArrayPrototype = Array.prototype;
const DatePrototype = Date.prototype;
const dateGetTime = Date.prototype.getTime;
const isArray = Array.isArray;
const typedArrayConstructors = [
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
] as const;
type TypedArrayConstructor = (typeof typedArrayConstructors)[number];
const typedArrayByPrototype = new Map<object, TypedArrayConstructor>(
  typedArrayConstructors.map((C) => [C.prototype as object, C]),
);
const typedArrayLengthGetter = getOwnPropertyDescriptor(
  getPrototypeOf(Uint8Array.prototype) as object,
  "byteLength",
)?.get as (this: unknown) => number;

class Stop {
  constructor(readonly failure: SerializeFailure) {}
}

function refuse(message: string): never {
  throw new Stop({ reason: "non-serialisable-result", message });
}

function kindOf(value: object): string {
  if (types.isMap(value)) return "a Map";
  if (types.isSet(value)) return "a Set";
  if (types.isPromise(value)) return "a Promise";
  if (types.isNativeError(value)) return "an Error";
  if (types.isRegExp(value)) return "a RegExp";
  if (types.isArrayBuffer(value) || types.isSharedArrayBuffer(value)) return "an ArrayBuffer";
  if (types.isDataView(value)) return "a DataView";
  if (types.isWeakMap(value) || types.isWeakSet(value)) return "a WeakMap or WeakSet";
  return "an instance of a class";
}

/**
 * Copies `value` as plain data: primitives (except symbols), arrays, plain objects (prototype
 * Object.prototype or null), Dates and typed arrays. Anything else is refused with a message that
 * tells the author what to return instead.
 */
export function serializeResult(value: unknown, maxBytes: number): SerializeOutcome {
  let bytes = 0;
  // Objects on the path from the root: a linear scan is cheaper than a Set at realistic depths.
  const ancestors: object[] = [];
  // The path to the value being copied, built into text only when something is refused.
  const trail: Array<string | number> = [];
  const where = (): string =>
    trail.reduce<string>((p, k) => (typeof k === "number" ? `${p}[${k}]` : `${p}.${k}`), "result");

  const add = (n: number): void => {
    bytes += n;
    if (bytes > maxBytes) {
      throw new Stop({
        reason: "output-too-large",
        message: `the result is larger than maxOutputBytes (${maxBytes} bytes)`,
      });
    }
  };

  const copy = (v: unknown): unknown => {
    switch (typeof v) {
      case "string":
        add(v.length + 2);
        return v;
      case "number":
        add(v === v && v !== Infinity && v !== -Infinity ? String(v).length : 4);
        return v;
      case "boolean":
        add(v ? 4 : 5);
        return v;
      case "undefined":
        add(4);
        return undefined;
      case "bigint":
        add(String(v).length);
        return v;
      case "symbol":
        return refuse(`${where()} is a symbol; return strings, numbers, booleans, arrays or plain objects`);
      case "function":
        return refuse(`${where()} is a function; return data, not functions (toJSON is not called either)`);
      default:
        break;
    }
    if (v === null) {
      add(4);
      return null;
    }
    const obj = v as object;
    if (types.isProxy(obj)) return refuse(`${where()} is a Proxy; return plain data`);
    if (trail.length > MAX_DEPTH) return refuse(`${where()} is nested deeper than ${MAX_DEPTH} levels`);
    if (ancestors.includes(obj)) return refuse(`${where()} refers back to one of its ancestors (a cycle)`);
    const proto = getPrototypeOf(obj);

    if (isArray(obj)) {
      if (proto !== ArrayPrototype) return refuse(`${where()} is an array subclass; return a plain array`);
      const lengthDesc = getOwnPropertyDescriptor(obj, "length");
      const length = typeof lengthDesc?.value === "number" ? lengthDesc.value : 0;
      const out: unknown[] = [];
      ancestors.push(obj);
      add(1 + length);
      for (let i = 0; i < length; i++) {
        const desc = getOwnPropertyDescriptor(obj, i);
        if (desc === undefined) {
          add(4);
          out.push(null);
          continue;
        }
        trail.push(i);
        if (desc.get !== undefined || desc.set !== undefined) return refuse(`${where()} is a getter; return plain data`);
        out.push(copy(desc.value));
        trail.pop();
      }
      ancestors.pop();
      return out;
    }

    if (proto === ObjectPrototype || proto === null) {
      const out: Record<string, unknown> = {};
      ancestors.push(obj);
      add(1);
      for (const key of ownKeys(obj)) {
        if (typeof key === "symbol") continue; // like JSON: symbol keys (inspect hooks, ...) are dropped
        const desc = getOwnPropertyDescriptor(obj, key);
        if (desc === undefined || !desc.enumerable) continue;
        trail.push(key);
        if (desc.get !== undefined || desc.set !== undefined) return refuse(`${where()} is a getter; return plain data`);
        add(key.length + 4);
        const item = copy(desc.value);
        if (key === "__proto__") {
          defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
        } else {
          out[key] = item;
        }
        trail.pop();
      }
      ancestors.pop();
      return out;
    }

    if (types.isDate(obj) && proto === DatePrototype) {
      add(26);
      return new Date(dateGetTime.call(obj));
    }

    const Typed = proto === null ? undefined : typedArrayByPrototype.get(proto as object);
    if (Typed !== undefined && types.isTypedArray(obj)) {
      add(typedArrayLengthGetter.call(obj));
      // Construction from a typed array reads its internal slots: no guest code, and only the
      // viewed bytes are copied (not the whole underlying buffer).
      return new Typed(obj as never);
    }

    return refuse(`${where()} is ${kindOf(obj)}; return plain objects, arrays, numbers and strings`);
  };

  try {
    const out = copy(value);
    return { ok: true, value: out, bytes };
  } catch (error) {
    if (error instanceof Stop) return { ok: false, failure: error.failure };
    const why = error instanceof Error ? error.message : "unknown error";
    return {
      ok: false,
      failure: { reason: "non-serialisable-result", message: `the result could not be copied (${why})` },
    };
  }
}
