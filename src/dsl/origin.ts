// Where an experiment was defined: the module whose code called `experiment()` (or `.build()`),
// captured from the call stack at definition time. Worker threads use it to import the same
// module and find the experiment among its exports (see src/plugins/execution/parallel.ts), so
// nothing has to be serialised. No I/O: reading a stack trace is all this does.

/** The symbol under which a node carries its origin (Symbol.for, so every copy of the package agrees). */
const ORIGIN = Symbol.for("crystallize.origin");

/** This copy's own root folder (src/ or dist/), whose frames are skipped. */
const OWN_ROOT = new URL("../", import.meta.url).href;
const OWN_ROOT_PATH = decodeURIComponent(new URL(OWN_ROOT).pathname);

// "    at fn (file:///a/b.mjs:3:7)", "    at file:///a/b.mjs:3:7", "    at /a/b.js:3:7", "C:\\a\\b.js:3:7"
const FRAME = /(?:\(|\s)((?:file:\/\/|\/|[A-Za-z]:\\)[^\s()]*?):\d+:\d+\)?\s*$/;

/**
 * The file: URL of the first frame of the current call stack outside this package, or undefined
 * (code evaluated without a file: a REPL, `eval`, `new Function`).
 */
export function captureOrigin(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const file = m[1]!;
    const url = toFileUrl(file);
    if (url === undefined) continue;
    if (url.startsWith(OWN_ROOT)) continue;
    if (!file.startsWith("file:") && file.startsWith(OWN_ROOT_PATH)) continue;
    return url;
  }
  return undefined;
}

function toFileUrl(file: string): string | undefined {
  if (file.startsWith("file://")) return file;
  if (file.startsWith("/")) return "file://" + encodeURI(file).replace(/[?#]/g, encodeURIComponent);
  if (/^[A-Za-z]:\\/.test(file)) return "file:///" + encodeURI(file.replace(/\\/g, "/"));
  return undefined;
}

/** Attaches the origin as a non-enumerable property (before the node is frozen); returns the node. */
export function withOrigin<T extends object>(node: T, origin: string | undefined): T {
  if (origin !== undefined) Object.defineProperty(node, ORIGIN, { value: origin, enumerable: false });
  return node;
}

/** The file: URL of the module that defined this experiment, when it was captured. */
export function originOf(node: unknown): string | undefined {
  if (node === null || typeof node !== "object") return undefined;
  const value = (node as Record<symbol, unknown>)[ORIGIN];
  return typeof value === "string" ? value : undefined;
}
