// Failures of an LLM call, with a reason a caller can act on.
import { CrystallizeError } from "../../errors.js";

export type LlmFailureReason = "timeout" | "http" | "network" | "bad-response" | "exhausted" | "aborted";

export class LlmError extends CrystallizeError {
  readonly reason: LlmFailureReason;
  /** HTTP status of the last attempt, when there was a response. */
  readonly status?: number;
  readonly attempts: number;

  constructor(reason: LlmFailureReason, message: string, details: { status?: number; attempts?: number; cause?: unknown } = {}) {
    super(message, { code: "E_LLM", cause: details.cause });
    this.reason = reason;
    if (details.status !== undefined) this.status = details.status;
    this.attempts = details.attempts ?? 1;
  }
}
