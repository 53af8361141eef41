// Child side: runs one guest job in a fresh SES Compartment, after lockdown().
//
// The compartment's only endowments are: a console whose output is captured, a Math whose random()
// is a seeded stream, Float32Array/Float64Array, job-owned timers, pure-JS TextEncoder/TextDecoder
// (Node's are native-backed), Atomics without waitAsync, no FinalizationRegistry (its callbacks
// run whenever the GC likes, i.e. during a later job), and tripwires in place of eval, Function and
// Compartment. Modules come through a `require` that serves only the whitelisted ones, each a fresh
// instance evaluated inside this job's compartment on first use. A tripwire or a refused require marks the job as violating even when the guest
// catches the error, so "try it and swallow the failure" still fails the job with the right reason.
import { types } from "node:util";
import type { SandboxFailureReason } from "../errors.js";
import { makeGuestConsole } from "./guest-console.js";
import { makeJobTimers, type JobTimers } from "./job-timers.js";
import { serializeResult } from "./serialize.js";

/** The globals SES defines (typed locally so that its global declarations stay out of the project). */
export interface SesGlobals {
  lockdown(options?: Record<string, string>): void;
  harden<T>(value: T): T;
  Compartment: new (options: { __options__: true; globals?: Record<string, unknown>; name?: string }) => {
    evaluate(code: string): unknown;
    readonly globalThis: Record<string, unknown>;
  };
  getStackString?: (error: object) => string;
}

export type JobOutcome =
  | { ok: true; value: unknown; stdout: string; durationMs: number }
  | {
      ok: false;
      reason: SandboxFailureReason;
      message: string;
      guestStack?: string;
      specifier?: string;
      stdout: string;
      durationMs: number;
    };

export interface JobEnvironment {
  readonly ses: SesGlobals;
  /** Bundled CommonJS text of each allowed module, by specifier. */
  readonly moduleSources: ReadonlyMap<string, string>;
  /** A seeded Math for this job. */
  makeMath(seed: string): object;
  /** A seeded stream of numbers in [0, 1), for the `crypto` stub modules see. */
  makeRandom(seed: string): () => number;
  /** Hardened, stateless replacements every job gets. */
  readonly shared: { readonly TextEncoder: unknown; readonly TextDecoder: unknown; readonly Atomics: unknown };
}

const { getPrototypeOf, getOwnPropertyDescriptor } = Object;
// lockdown's override taming turns `name` on these prototypes into accessors: know them by identity.
const intrinsicErrorNames = new Map<object, string>(
  [Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError, AggregateError].map((E) => [
    E.prototype,
    E.name,
  ]),
);
const now = (): number => performance.now();

/** Reads `message` of a thrown value without running guest code. */
function thrownMessage(error: unknown): string {
  if (error === null || (typeof error !== "object" && typeof error !== "function")) {
    if (typeof error === "symbol") return "a symbol was thrown";
    return `a non-error value was thrown: ${String(error).slice(0, 500)}`;
  }
  if (types.isProxy(error)) return "a Proxy was thrown";
  const desc = getOwnPropertyDescriptor(error, "message");
  const message = desc && "value" in desc && typeof desc.value === "string" ? desc.value : "";
  let name = "Error";
  // The constructor name from the prototype chain, through data properties only.
  let proto: unknown = types.isNativeError(error) ? getPrototypeOf(error) : undefined;
  for (let i = 0; proto && i < 8 && !types.isProxy(proto); i++) {
    const known = intrinsicErrorNames.get(proto as object);
    if (known !== undefined) {
      name = known;
      break;
    }
    const d = getOwnPropertyDescriptor(proto, "name");
    if (d && "value" in d && typeof d.value === "string") {
      name = d.value;
      break;
    }
    proto = getPrototypeOf(proto);
  }
  if (!types.isNativeError(error)) return `a non-error object was thrown${message ? `: ${message.slice(0, 500)}` : ""}`;
  return `${name}: ${message.slice(0, 2000)}`;
}

/** Guest frames only ("guest.js:line:col"), so models see their own code and nothing of the host. */
function guestStack(ses: SesGlobals, error: unknown): string | undefined {
  if (error === null || typeof error !== "object" || types.isProxy(error) || !types.isNativeError(error)) return undefined;
  let raw: string;
  try {
    raw = ses.getStackString ? ses.getStackString(error) : "";
  } catch {
    return undefined;
  }
  const frames: string[] = [];
  for (const line of raw.split("\n")) {
    // Guest code is evaluated by SES's evaluator, itself made by an eval: guest frames read
    // "at fn (eval at <anonymous> (eval at makeEvaluate (...)), <anonymous>:line:col)".
    if (!line.includes("(eval at <anonymous> (eval at makeEvaluate")) continue;
    const m = /^\s*at (?:(\S+) )?\(.*<anonymous>:(\d+):(\d+)\)$/.exec(line);
    if (!m) continue;
    const fn = m[1] && !m[1].startsWith("Object.eval") ? m[1] : "<module>";
    frames.push(`    at ${fn} (guest.js:${m[2]}:${m[3]})`);
    if (frames.length >= 12) break;
  }
  return frames.length ? frames.join("\n") : undefined;
}

function isRefusedAllocation(error: unknown): boolean {
  if (error === null || typeof error !== "object" || types.isProxy(error) || !types.isNativeError(error)) return false;
  if (getPrototypeOf(error) !== RangeError.prototype) return false;
  const desc = getOwnPropertyDescriptor(error, "message");
  const message = desc && typeof desc.value === "string" ? desc.value : "";
  return (
    message.includes("Array buffer allocation failed") ||
    message.includes("Invalid string length") ||
    message.includes("Invalid typed array length") ||
    message.includes("Array buffer too large") ||
    message === "Invalid array length"
  );
}

function isSesSyntaxRejection(error: unknown): boolean {
  if (error === null || typeof error !== "object" || types.isProxy(error) || !types.isNativeError(error)) return false;
  return getPrototypeOf(error) === SyntaxError.prototype;
}

/**
 * Whether awaiting `value` would run guest code: a Proxy anywhere on its prototype chain (any
 * property read may trap) or a `then` property. Found through descriptors, without reading.
 */
function awaitKind(value: unknown): "plain" | "proxy" | "thenable" {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return "plain";
  let o: unknown = value;
  for (let i = 0; o !== null && i < 64; i++) {
    if (types.isProxy(o)) return "proxy";
    if (getOwnPropertyDescriptor(o as object, "then") !== undefined) return "thenable";
    o = getPrototypeOf(o);
  }
  return "plain";
}

const WRAPPER_PREFIX = "(function (exports, require, module) {";
const MODULE_WRAPPER_PREFIX = "(function (exports, require, module, __filename, __dirname) {";

/** The `crypto` a module sees (seedrandom looks for randomBytes): bytes from the job's seed. */
function seededCrypto(harden: SesGlobals["harden"], random: () => number): object {
  return harden({
    randomBytes(n: unknown): Uint8Array {
      const size = typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 65536 ? n : 0;
      const out = new Uint8Array(size);
      for (let i = 0; i < size; i++) out[i] = Math.floor(random() * 256);
      return out;
    },
  });
}

type Job = { code: string; input: unknown; entry: string; seed: string; maxOutputBytes: number };

/** Runs one job; every timer it (or a module it imported) scheduled is cleared when it settles. */
export async function runJob(env: JobEnvironment, job: Job): Promise<JobOutcome> {
  const timers = makeJobTimers();
  try {
    return await runJobIn(env, job, timers);
  } finally {
    timers.dispose();
  }
}

async function runJobIn(env: JobEnvironment, job: Job, timers: JobTimers): Promise<JobOutcome> {
  const started = now();
  const { harden, Compartment } = env.ses;
  const { console: guestConsole, output } = makeGuestConsole(job.maxOutputBytes);
  let violation: { reason: SandboxFailureReason; message: string; specifier?: string } | undefined;

  const tripwire = (name: string) =>
    harden(function disabled() {
      violation ??= {
        reason: "forbidden-syntax",
        message: `${name} is disabled in the sandbox: dynamic code evaluation is not allowed`,
      };
      throw new TypeError(`${name} is disabled in the sandbox`);
    });

  let compartment: InstanceType<SesGlobals["Compartment"]>;
  const instances = new Map<string, unknown>();
  let moduleRequire: ((specifier: unknown) => unknown) | undefined;
  const instantiate = (specifier: string, source: string): unknown => {
    const known = instances.get(specifier);
    if (known !== undefined) return known;
    moduleRequire ??= harden(function require(spec: unknown): unknown {
      if (spec === "crypto" || spec === "node:crypto") return seededCrypto(harden, env.makeRandom(`${job.seed}\u0000crypto`));
      throw new Error(`module "${String(spec).slice(0, 200)}" is not available inside the sandbox`);
    });
    const factory = compartment.evaluate(`${MODULE_WRAPPER_PREFIX}${source}\n})`) as (
      this: unknown,
      ...args: unknown[]
    ) => void;
    const module = { exports: {} as unknown };
    factory.call(module.exports, module.exports, moduleRequire, module, `/node_modules/${specifier}/index.js`, `/node_modules/${specifier}`);
    // Not hardened: the instance is this job's alone (and hardening jstat or fast-check's export
    // graph would cost more than evaluating them).
    const value = module.exports;
    instances.set(specifier, value);
    return value;
  };

  const guestRequire = harden(function require(specifier: unknown): unknown {
    const spec = typeof specifier === "string" ? specifier : "<non-string>";
    const source = typeof specifier === "string" ? env.moduleSources.get(specifier) : undefined;
    if (typeof specifier === "string" && source !== undefined) return instantiate(specifier, source);
    violation ??= {
      reason: "forbidden-import",
      message: `module "${spec.slice(0, 200)}" is not in allowedImports`,
      specifier: spec.slice(0, 200),
    };
    throw new Error(`Import not allowed: ${spec.slice(0, 200)}`);
  });

  const fail = (
    reason: SandboxFailureReason,
    message: string,
    extra: { guestStack?: string; specifier?: string } = {},
  ): JobOutcome => ({
    ok: false,
    reason,
    message,
    ...(extra.guestStack !== undefined ? { guestStack: extra.guestStack } : {}),
    ...(extra.specifier !== undefined ? { specifier: extra.specifier } : {}),
    stdout: output.text(),
    durationMs: now() - started,
  });

  const fromThrown = (error: unknown): JobOutcome => {
    if (violation) return fail(violation.reason, violation.message, violation);
    if (isRefusedAllocation(error)) return fail("memory", `an allocation was refused (${thrownMessage(error)})`);
    const stack = guestStack(env.ses, error);
    return fail("runtime-error", thrownMessage(error), stack === undefined ? {} : { guestStack: stack });
  };

  try {
    compartment = new Compartment({
      __options__: true,
      name: "guest",
      globals: {
        console: harden(guestConsole),
        Math: env.makeMath(job.seed),
        Float32Array,
        Float64Array,
        TextEncoder: env.shared.TextEncoder,
        TextDecoder: env.shared.TextDecoder,
        Atomics: env.shared.Atomics,
        FinalizationRegistry: undefined,
        setTimeout: harden(timers.setTimeout),
        clearTimeout: harden(timers.clearTimeout),
        eval: tripwire("eval"),
        Function: tripwire("Function"),
        Compartment: tripwire("Compartment"),
      },
    });
  } catch (error) {
    return fail("runtime-error", `the sandbox could not create a compartment: ${thrownMessage(error)}`);
  }

  let factory: unknown;
  try {
    factory = compartment.evaluate(`${WRAPPER_PREFIX}${job.code}\n})`);
  } catch (error) {
    if (isSesSyntaxRejection(error)) return fail("forbidden-syntax", thrownMessage(error));
    return fromThrown(error);
  }

  let value: unknown;
  try {
    const module = { exports: {} as Record<string, unknown> };
    (factory as (e: unknown, r: unknown, m: unknown) => void)(module.exports, guestRequire, module);
    const exportsValue: unknown = module.exports;
    const entry =
      exportsValue !== null && (typeof exportsValue === "object" || typeof exportsValue === "function")
        ? (exportsValue as Record<string, unknown>)[job.entry]
        : undefined;
    if (typeof entry !== "function") {
      if (violation) return fail(violation.reason, violation.message, violation);
      return fail(
        "runtime-error",
        job.entry === "default"
          ? "the module has no default export function; write `export default function (input) { ... }`"
          : `the module has no exported function "${job.entry}"`,
      );
    }
    const returned = (entry as (input: unknown) => unknown)(job.input);
    const kind = awaitKind(returned);
    if (kind === "proxy") {
      if (violation) return fail(violation.reason, violation.message, violation);
      return fail("non-serialisable-result", "result is a Proxy; return plain data");
    }
    // A promise or thenable settles by the guest's own code, under the watchdog's clock.
    value = kind === "thenable" ? await returned : returned;
  } catch (error) {
    return fromThrown(error);
  }
  if (violation) return fail(violation.reason, violation.message, violation);
  if (timers.thrown) return fromThrown(timers.thrown.error);
  if (output.overflowed) return fail("output-too-large", `console output exceeded maxOutputBytes (${job.maxOutputBytes} bytes)`);

  const serialized = serializeResult(value, job.maxOutputBytes);
  if (!serialized.ok) return fail(serialized.failure.reason, serialized.failure.message);
  const stdout = output.text();
  if (serialized.bytes + stdout.length > job.maxOutputBytes) {
    return fail("output-too-large", `result and console output together exceed maxOutputBytes (${job.maxOutputBytes} bytes)`);
  }
  return { ok: true, value: serialized.value, stdout, durationMs: now() - started };
}
