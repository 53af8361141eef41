// Errors as plain data, for crossing a worker-thread (or process) boundary, and back. Reviving
// never calls a constructor (custom constructors take other arguments: the Python reference's
// process pool died unpickling one); it creates an object with the class's prototype and puts
// back the message, stack, cause and every own field. So class (`instanceof`), `code`, `message`,
// `stack` and `cause` (recursively) survive; so do fields such as `step`, `problems` or `file`.
import * as errorClasses from "../errors.js";
import { errorCode, type SerializedError } from "../errors.js";

/** A serialised error, plus the class to revive it as. */
export interface WireError extends SerializedError {
  /** The constructor's name (`name` may differ, e.g. a class that keeps `name = "Error"`). */
  readonly type?: string;
  readonly cause?: WireError;
  /** Set when the thrown value was not an Error: it is revived as that value (or its text). */
  readonly thrown?: { readonly value?: unknown; readonly text: string };
  /** AggregateError's `errors`. */
  readonly errors?: readonly WireError[];
}

type ErrorClass = abstract new (...args: never[]) => Error;

const registry = new Map<string, ErrorClass>();

/**
 * Makes `revive` recreate errors of this class (by constructor name, or `name` if given).
 * Crystallize's own errors and JavaScript's built-in ones are registered already.
 */
export function registerErrorClass(ctor: ErrorClass, name: string = ctor.name): void {
  registry.set(name, ctor);
}

for (const ctor of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError]) {
  registerErrorClass(ctor);
}
for (const value of Object.values(errorClasses)) {
  if (typeof value === "function" && value.prototype instanceof Error) registerErrorClass(value as ErrorClass);
}

const MAX_DEPTH = 8;
const ERROR_MARK = "\u0000crystallize:error";

/** Error → plain, structured-clonable data (cause chain included, cycles cut). */
export function serializeError(error: unknown, seen: Set<unknown> = new Set(), depth = 0): WireError {
  if (!(error instanceof Error) && !looksLikeError(error)) {
    const text = describe(error);
    const value = cloneable(error) ? error : undefined;
    return { name: "NonError", code: "E_UNKNOWN", message: text, thrown: value === undefined ? { text } : { value, text } };
  }
  const e = error as Error & { cause?: unknown };
  seen.add(e);
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(e)) {
    if (key === "message" || key === "stack" || key === "cause") continue;
    let value: unknown;
    try {
      value = (e as unknown as Record<string, unknown>)[key];
    } catch {
      continue;
    }
    fields[key] = encodeField(value, seen, depth);
  }
  const wire: {
    -readonly [K in keyof WireError]: WireError[K];
  } = {
    name: typeof e.name === "string" ? e.name : "Error",
    type: typeof e.constructor === "function" ? e.constructor.name : "Error",
    code: errorCode(e),
    message: typeof e.message === "string" ? e.message : String(e.message),
  };
  if (typeof e.stack === "string") wire.stack = e.stack;
  if (Object.keys(fields).length) wire.fields = fields;
  if ("cause" in e && e.cause !== undefined && depth < MAX_DEPTH) {
    wire.cause = seen.has(e.cause) ? cycleMarker(e.cause) : serializeError(e.cause, seen, depth + 1);
  }
  if (e instanceof AggregateError && Array.isArray(e.errors) && depth < MAX_DEPTH) {
    wire.errors = e.errors.map((x: unknown) => (seen.has(x) ? cycleMarker(x) : serializeError(x, seen, depth + 1)));
  }
  return wire;
}

/** Plain data → an Error of the original class (or the thrown non-Error value). */
export function reviveError(wire: WireError): unknown {
  if (wire.thrown) return "value" in wire.thrown ? wire.thrown.value : wire.thrown.text;
  const ctor = (wire.type && registry.get(wire.type)) || registry.get(wire.name);
  let error: Error;
  if (ctor) {
    error = Object.create(ctor.prototype) as Error;
  } else if (wire.type === "DOMException" || wire.name === "AbortError" || wire.name === "TimeoutError") {
    error = new DOMException(wire.message, wire.name);
  } else {
    error = Object.create(Error.prototype) as Error;
  }
  const hidden = (key: string, value: unknown) =>
    Object.defineProperty(error, key, { value, writable: true, enumerable: false, configurable: true });
  hidden("message", wire.message);
  hidden("stack", wire.stack ?? `${wire.name}: ${wire.message}`);
  if (wire.cause !== undefined) hidden("cause", reviveError(wire.cause));
  if (wire.errors) hidden("errors", wire.errors.map(reviveError));
  const fields = wire.fields ?? {};
  for (const [key, value] of Object.entries(fields)) {
    try {
      (error as unknown as Record<string, unknown>)[key] = decodeField(value);
    } catch {
      hidden(key, decodeField(value));
    }
  }
  if (!("name" in fields) && error.name !== wire.name) hidden("name", wire.name);
  // An unknown class loses its identity but keeps its code for errorCode() and scripts.
  if (!("code" in fields) && wire.code !== "E_UNKNOWN" && (error as { code?: unknown }).code === undefined) {
    hidden("code", wire.code);
  }
  return error;
}

/** Round-trips a value through serialise/revive if it is an error; other values pass through. */
export function encodeValue(value: unknown): unknown {
  return encodeField(value, new Set(), 0);
}

export function decodeValue(value: unknown): unknown {
  return decodeField(value);
}

function encodeField(value: unknown, seen: Set<unknown>, depth: number): unknown {
  if (value instanceof Error) {
    return { [ERROR_MARK]: seen.has(value) ? cycleMarker(value) : serializeError(value, seen, depth + 1) };
  }
  if (Array.isArray(value) && value.some((v) => v instanceof Error)) {
    return value.map((v) => encodeField(v, seen, depth));
  }
  if (cloneable(value)) return value;
  return describe(value);
}

function decodeField(value: unknown): unknown {
  if (Array.isArray(value)) return value.some(isMarked) ? value.map(decodeField) : value;
  if (isMarked(value)) return reviveError((value as Record<string, WireError>)[ERROR_MARK]!);
  return value;
}

function isMarked(value: unknown): boolean {
  return value !== null && typeof value === "object" && Object.prototype.hasOwnProperty.call(value, ERROR_MARK);
}

function cycleMarker(value: unknown): WireError {
  const text = value instanceof Error ? `${value.name}: ${value.message} (circular)` : "(circular)";
  return { name: "NonError", code: "E_UNKNOWN", message: text, thrown: { text } };
}

function looksLikeError(value: unknown): boolean {
  // Errors from another realm (a vm context) fail `instanceof Error` but are errors all the same.
  return Object.prototype.toString.call(value) === "[object Error]";
}

function cloneable(value: unknown): boolean {
  if (value === null || typeof value !== "object") return typeof value !== "function" && typeof value !== "symbol";
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return typeof value === "object" && value !== null ? (JSON.stringify(value) ?? String(value)) : String(value);
  } catch {
    return String(value);
  }
}
