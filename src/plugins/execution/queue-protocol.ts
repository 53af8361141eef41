// What the main process (queue.ts) and queue workers (queue-worker.ts) share through Redis: key
// names, the run descriptor, task job data, and a lossless text encoding of outcomes. Everything
// in Redis is JSON text; outcomes carry artifact bytes and non-finite metrics, which plain JSON
// would lose, so they are encoded with tagged values.
import type { TaskSettings } from "../../dsl/plugin.js";
import type { TaskOutcome } from "../../dsl/records.js";
import { CrystallizeError } from "../../errors.js";
import type { WireError } from "../../runtime/error-codec.js";

export const QUEUE_PROTOCOL = 1;
export const DEFAULT_QUEUE = "crystallize";

/** Redis connection: a redis:// URL, or host/port (and optional password, db). */
export type QueueConnection = string | { readonly host?: string; readonly port?: number; readonly password?: string; readonly username?: string; readonly db?: number };

/** Stored once per run under `runKey(queue, run)`: what a worker needs to build the run's task host. */
export interface RunDescriptor {
  readonly protocol: number;
  readonly experiment: string;
  /** The main process's address of the module (a worker with its own project or bundle ignores it). */
  readonly module?: string;
  readonly exportName?: string;
  readonly settings: TaskSettings;
  readonly shape: Record<string, string>;
  readonly treatments?: readonly { readonly name: string; readonly values: Readonly<Record<string, unknown>> }[];
}

/** One BullMQ job: a (condition, replicate) task of a run. */
export interface TaskData {
  readonly run: string;
  readonly index: number;
  readonly condition: string;
  readonly replicate: number;
}

const PREFIX = "crystallize:queue";
export const descriptorKey = (queue: string, run: string) => `${PREFIX}:${queue}:run:${run}`;
export const cancelKey = (queue: string, run: string) => `${PREFIX}:${queue}:cancel:${run}`;
/** Pub/sub channel of a run's ctx.log messages (best effort: a log line is not a result). */
export const logChannel = (queue: string, run: string) => `${PREFIX}:${queue}:log:${run}`;

export type LogLevel = "debug" | "info" | "warn" | "error";
export interface LogMessage {
  readonly level: LogLevel;
  readonly message: string;
  /** Details encoded with the error codec's encodeValue (errors survive as errors). */
  readonly details: readonly unknown[];
}
/** BullMQ job ids may not contain ":". */
export const jobIdOf = (run: string, index: number) => `${run}-${index}`;
/** How long run keys outlive a run that never cleaned up (a killed main process). */
export const RUN_KEY_TTL_S = 7 * 24 * 3600;

/** A worker that cannot load the run (import error, wrong experiment) fails the job with this prefix. */
export const LOAD_FAILED = "crystallize-load-failed:";

/** A task the worker skipped because the run was cancelled. */
export const SKIPPED = "crystallize-skipped";

const TAG = "\u0000cq";

/** Outcome → JSON text; Uint8Array, NaN, ±Infinity, -0 and undefined survive. */
export function encodeOutcome(outcome: TaskOutcome): string {
  return JSON.stringify(outcome, function (this: unknown, key, value: unknown) {
    // The holder's own value: a Buffer's toJSON() has already run on `value`.
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Uint8Array) value = raw;
    if (value instanceof Uint8Array) return { [TAG]: "b", v: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
    if (typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0))) return { [TAG]: "n", v: String(Object.is(value, -0) ? "-0" : value) };
    if (value === undefined && Array.isArray(this)) return { [TAG]: "u" };
    return value;
  });
}

/** Stands for `undefined` in an array until the array itself is revived (a reviver returning undefined deletes). */
const UNDEFINED = Symbol("undefined");

export function decodeOutcome(text: string): TaskOutcome {
  return JSON.parse(text, (_key, value: unknown) => {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (value[i] === UNDEFINED) value[i] = undefined;
      return value;
    }
    if (value !== null && typeof value === "object" && TAG in value) {
      const tagged = value as { [TAG]: string; v?: string };
      if (tagged[TAG] === "b") return new Uint8Array(Buffer.from(tagged.v ?? "", "base64"));
      if (tagged[TAG] === "n") return tagged.v === "-0" ? -0 : Number(tagged.v);
      if (tagged[TAG] === "u") return UNDEFINED;
    }
    return value;
  }) as TaskOutcome;
}

export function loadFailure(error: WireError): string {
  return LOAD_FAILED + JSON.stringify(error);
}

export function parseLoadFailure(reason: string | undefined): WireError | undefined {
  if (!reason?.startsWith(LOAD_FAILED)) return undefined;
  try {
    return JSON.parse(reason.slice(LOAD_FAILED.length)) as WireError;
  } catch {
    return undefined;
  }
}

export function queueError(message: string, cause?: unknown): CrystallizeError {
  return new CrystallizeError(message, { code: "E_QUEUE", ...(cause === undefined ? {} : { cause }) });
}
