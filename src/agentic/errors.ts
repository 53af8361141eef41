// The one error the sandbox raises. Every failure of a guest job (static or at run time) is a
// BoundedExecutionError with a machine-readable `reason`, so steps can feed it back to a model and
// tests can match on it.
import { CrystallizeError } from "../errors.js";

export const SANDBOX_FAILURE_REASONS = [
  "forbidden-import",
  "forbidden-syntax",
  "timeout",
  "memory",
  "output-too-large",
  "non-serialisable-input",
  "non-serialisable-result",
  "runtime-error",
] as const;

/**
 * Why a sandboxed job failed.
 * - `forbidden-import`: the code imports or requires a module that is not whitelisted.
 * - `forbidden-syntax`: the code does not parse, or uses something the sandbox refuses
 *   (dynamic `import()`, direct `eval`, `Function`/`eval`/`Compartment` at run time, top-level await).
 * - `timeout`: the wall-clock budget ran out (also a microtask chain that never lets the job finish).
 * - `memory`: the child ran out of heap, or an allocation its limits refuse was attempted.
 * - `output-too-large`: the result or the captured console output exceeded `maxOutputBytes`.
 * - `non-serialisable-input`: the input cannot be sent to the child (functions, symbols, ...).
 * - `non-serialisable-result`: the result is not plain data (functions, getters, proxies, cycles, class instances).
 * - `runtime-error`: the guest threw, or its default export is missing or not a function.
 */
export type SandboxFailureReason = (typeof SANDBOX_FAILURE_REASONS)[number];

export interface BoundedExecutionDetails {
  /** Console output captured before the failure, when there was any. */
  readonly stdout?: string;
  /** The guest's stack (frames of guest code only), for runtime errors. */
  readonly guestStack?: string;
  /** The module specifier that was refused (forbidden-import). */
  readonly specifier?: string;
  /** Milliseconds the job ran before failing, when known. */
  readonly durationMs?: number;
}

export class BoundedExecutionError extends CrystallizeError {
  readonly reason: SandboxFailureReason;
  readonly details: BoundedExecutionDetails;

  constructor(
    reason: SandboxFailureReason,
    message: string,
    details: BoundedExecutionDetails = {},
    cause?: unknown,
  ) {
    super(`Sandboxed job failed (${reason}): ${message}`, { code: "E_SANDBOX", cause });
    this.reason = reason;
    this.details = Object.freeze({ ...details });
  }
}

export function isSandboxFailureReason(value: unknown): value is SandboxFailureReason {
  return typeof value === "string" && (SANDBOX_FAILURE_REASONS as readonly string[]).includes(value);
}

/** synthesize() ran out of attempts or token budget without code that passes the checks. */
export class SynthesisError extends CrystallizeError {
  readonly attempts: number;
  readonly tokens: number;
  /** Why the last answer was rejected. */
  readonly lastProblem: string;

  constructor(message: string, details: { attempts: number; tokens: number; lastProblem: string }) {
    super(message, { code: "E_SYNTHESIS" });
    this.attempts = details.attempts;
    this.tokens = details.tokens;
    this.lastProblem = details.lastProblem;
  }
}
