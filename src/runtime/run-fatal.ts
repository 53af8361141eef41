// Failures that stop a whole run instead of being recorded for one replicate. Today: a corrupt
// cache entry under onCorrupt: "throw" (API §6/§7: the run rejects with CacheCorruptionError
// naming the file). A task reports it like any failure; the runner recognises it here, from the
// thrown error (same thread) or from the outcome's plain data (a worker thread's outcome).
import type { TaskError, TaskOutcome } from "../dsl/records.js";
import { CacheCorruptionError } from "../errors.js";
import { reviveError } from "./error-codec.js";

/** True for a thrown error that must stop the run. */
export function isRunFatal(error: unknown): boolean {
  return error instanceof CacheCorruptionError;
}

function isFatalRecord(error: TaskError | undefined): error is TaskError & { file: string } {
  return error?.code === "E_CACHE_CORRUPT" && error.phase === "cache" && typeof error.file === "string";
}

/** The error that must stop the run, rebuilt from an outcome's data; undefined for ordinary outcomes. */
export function fatalErrorOf(outcome: TaskOutcome): unknown {
  const e = outcome.error;
  if (outcome.status !== "failed" || !isFatalRecord(e)) return undefined;
  return reviveError({
    name: "CacheCorruptionError",
    type: "CacheCorruptionError",
    code: e.code,
    message: e.message,
    stack: e.stack,
    fields: { code: e.code, name: "CacheCorruptionError", file: e.file },
  });
}
