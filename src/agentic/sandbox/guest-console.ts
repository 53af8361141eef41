// Child side: the `console` a guest sees. Output is captured per job (never written to the child's
// real stdout) and capped. Values are described without running guest code: no util.inspect (its
// custom-inspect hook would hand the guest host functions), no getters, no proxy traps, no toString.
import { types } from "node:util";

const { getPrototypeOf, getOwnPropertyDescriptor } = Object;
const { ownKeys } = Reflect;
const isArray = Array.isArray;
const ObjectPrototype = Object.prototype;
const ArrayPrototype = Array.prototype;

const MAX_ITEMS = 20;
const MAX_DEPTH = 3;

function describePrimitive(v: unknown): string | undefined {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v.length > 1024 ? `${v.slice(0, 1024)}…` : v);
    case "number":
    case "boolean":
    case "undefined":
      return String(v);
    case "bigint":
      return `${String(v)}n`;
    case "symbol":
      return "Symbol()";
    case "function":
      return "[Function]";
    default:
      return v === null ? "null" : undefined;
  }
}

/** A short, safe description of any value, for console output and error messages. */
export function describe(v: unknown, depth = 0, budget = { chars: 4096 }): string {
  const prim = describePrimitive(v);
  if (prim !== undefined) return prim.length > budget.chars ? `${prim.slice(0, budget.chars)}…` : prim;
  const obj = v as object;
  if (types.isProxy(obj)) return "[Proxy]";
  if (depth >= MAX_DEPTH || budget.chars <= 0) return isArray(obj) ? "[Array]" : "[Object]";
  if (types.isNativeError(obj)) {
    const message = getOwnPropertyDescriptor(obj, "message");
    return `[Error: ${typeof message?.value === "string" ? message.value.slice(0, 500) : ""}]`;
  }
  const proto = getPrototypeOf(obj);
  const parts: string[] = [];
  if (isArray(obj) && proto === ArrayPrototype) {
    const lengthDesc = getOwnPropertyDescriptor(obj, "length");
    const length = typeof lengthDesc?.value === "number" ? lengthDesc.value : 0;
    for (let i = 0; i < length && i < MAX_ITEMS; i++) {
      const desc = getOwnPropertyDescriptor(obj, i);
      const text =
        desc === undefined ? "<empty>" : "value" in desc ? describe(desc.value, depth + 1, budget) : "[Getter]";
      budget.chars -= text.length;
      parts.push(text);
    }
    if (length > MAX_ITEMS) parts.push(`… ${length - MAX_ITEMS} more`);
    return `[ ${parts.join(", ")} ]`;
  }
  if (proto === ObjectPrototype || proto === null) {
    let count = 0;
    for (const key of ownKeys(obj)) {
      if (typeof key === "symbol") continue;
      if (count++ >= MAX_ITEMS) {
        parts.push("…");
        break;
      }
      const desc = getOwnPropertyDescriptor(obj, key);
      const text =
        desc === undefined ? "undefined" : "value" in desc ? describe(desc.value, depth + 1, budget) : "[Getter]";
      budget.chars -= text.length + key.length;
      parts.push(`${key}: ${text}`);
    }
    return `{ ${parts.join(", ")} }`;
  }
  if (types.isDate(obj)) return "[Date]";
  if (types.isMap(obj)) return "[Map]";
  if (types.isSet(obj)) return "[Set]";
  if (types.isTypedArray(obj)) return "[TypedArray]";
  return "[object]";
}

export interface CapturedOutput {
  /** Everything logged so far (up to the cap). */
  text(): string;
  /** True when the guest tried to log more than the cap allows. */
  readonly overflowed: boolean;
}

/**
 * A hardened-ready console whose methods append one line per call. Once `maxBytes` is exceeded the
 * console drops further output and reports the overflow (the job then fails with output-too-large).
 */
export function makeGuestConsole(maxBytes: number): { console: Record<string, (...args: unknown[]) => void>; output: CapturedOutput } {
  const lines: string[] = [];
  let size = 0;
  let overflowed = false;
  const write = (prefix: string, args: unknown[]): void => {
    if (overflowed) return;
    const line = prefix + args.map((a) => (typeof a === "string" ? a : describe(a))).join(" ");
    size += line.length + 1;
    if (size > maxBytes) {
      overflowed = true;
      return;
    }
    lines.push(line);
  };
  const log = (...args: unknown[]): void => write("", args);
  const warn = (...args: unknown[]): void => write("", args);
  const console = { log, info: log, debug: log, warn, error: warn, trace: log };
  const output: CapturedOutput = {
    text: () => (lines.length === 0 ? "" : `${lines.join("\n")}\n`),
    get overflowed() {
      return overflowed;
    },
  };
  return { console, output };
}
