// What the agentic steps leave in the context (ctx keys and record shapes). Provenance plugins
// and evidence bundles read these; every record is plain JSON.
import type { Json } from "../../dsl/json.js";
import type { SandboxFailureReason } from "../errors.js";
import type { LlmMessage, LlmUsage } from "../llm/types.js";
import type { PropertyResult } from "../metamorphic/property.js";

export const AGENTIC_KEYS = Object.freeze({
  claim: "agentic.claim",
  spec: "agentic.spec",
  code: "agentic.code",
  execution: "agentic.execution",
  metamorphic: "agentic.metamorphic",
  /** Prefix of the per-step lists of LLM calls: `agentic.llmCalls.<step name>`. */
  llmCalls: "agentic.llmCalls.",
  /** Set by promptTrace(): the steps then store each LLM call as an artifact. */
  tracePrompts: "agentic.trace.prompts",
  /** Set by evidenceBundle(): names the step that writes the bundle and the file name. */
  traceEvidence: "agentic.trace.evidence",
});

/** The names of the agentic steps, in pipeline order. */
export const AGENTIC_STEPS = Object.freeze({
  injectClaim: "injectClaim",
  generateSpec: "generateSpec",
  synthesize: "synthesize",
  executeSandboxed: "executeSandboxed",
  metamorphicTests: "metamorphicTests",
} as const);

export const AGENTIC_STEP_ORDER: readonly string[] = Object.freeze(Object.values(AGENTIC_STEPS));

export interface PromptTraceFlag {
  readonly prefix: string;
}

export interface EvidenceFlag {
  /** The agentic step that writes the bundle (the last one in the pipeline). */
  readonly writer: string;
  readonly name: string;
}

/** One call to a model, as promptTrace() stores it. */
export interface LlmCallRecord {
  readonly step: string;
  /** 1-based attempt of the step (a retry after feedback is attempt 2). */
  readonly attempt: number;
  readonly provider: string;
  /** The model asked for. */
  readonly model: string;
  /** The model that answered (as the server reports it). */
  readonly responseModel: string;
  readonly parameters: { readonly temperature?: number; readonly maxTokens?: number; readonly seed?: number };
  readonly messages: readonly LlmMessage[];
  /** sha256 of the prompt messages as JSON. */
  readonly promptHash: string;
  readonly response: string;
  readonly responseHash: string;
  readonly usage: LlmUsage;
  readonly latencyMs: number;
  /** HTTP attempts the client made for this call. */
  readonly httpAttempts: number;
  /** What the step made of the answer: "accepted", or why it was rejected. */
  readonly outcome: string;
}

export interface CodeRecord {
  readonly source: string;
  /** sha256 of the source text. */
  readonly sha256: string;
  /** "given" (synthesize({ code })) or "llm". */
  readonly origin: "given" | "llm";
  /** Model attempts it took (0 for given code). */
  readonly attempts: number;
  /** Tokens spent by the model calls (0 for given code). */
  readonly tokens: number;
}

export interface ExecutionRecord {
  readonly ok: boolean;
  readonly codeHash: string;
  /** Seed of the guest's Math.random (metamorphic runs reuse it). */
  readonly seed: number;
  readonly entry: string;
  readonly limits: { readonly timeoutMs: number; readonly memoryMb: number; readonly maxOutputBytes: number; readonly allowedImports: readonly string[] };
  /** The code's output on the data (when ok). */
  readonly value?: unknown;
  readonly stdout: string;
  readonly durationMs?: number;
  /** When it failed. */
  readonly error?: { readonly reason: SandboxFailureReason; readonly message: string; readonly guestStack?: string };
}

export interface MetamorphicRecord {
  readonly passed: boolean;
  readonly results: readonly PropertyResult[];
  /** Declared property names the spec did not contain (each counted as failed). */
  readonly missing: readonly string[];
  /** Spec properties that ran but are not declared metrics (not recorded as metrics). */
  readonly undeclared: readonly string[];
  readonly numRuns: number;
  readonly seed: number;
}

export type JsonRecord = { readonly [key: string]: Json };
