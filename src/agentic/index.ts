// crystallize/agentic: claims, specs, agentic steps, the sandbox, metamorphic testing, LLM clients
// and provenance plugins. See docs/agentic.md (threat model included).
export { BoundedExecutionError, SANDBOX_FAILURE_REASONS, isSandboxFailureReason } from "./errors.js";
export type { BoundedExecutionDetails, SandboxFailureReason } from "./errors.js";
export { createSandbox, SANDBOX_DEFAULTS } from "./sandbox/host.js";
export type { Sandbox, SandboxOptions, SandboxResult, SandboxRunOptions } from "./sandbox/host.js";
