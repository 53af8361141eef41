// crystallize/agentic: claims, specs, agentic steps, the sandbox, metamorphic testing, LLM clients
// and provenance plugins. See docs/agentic.md (threat model included).
export { BoundedExecutionError, SANDBOX_FAILURE_REASONS, isSandboxFailureReason } from "./errors.js";
export type { BoundedExecutionDetails, SandboxFailureReason } from "./errors.js";
export { createSandbox, SANDBOX_DEFAULTS } from "./sandbox/host.js";
export type { Sandbox, SandboxOptions, SandboxResult, SandboxRunOptions } from "./sandbox/host.js";
export type { StartupReport } from "./sandbox/pool.js";
export { claim, spec, parseClaim, parseSpec, RELATIONS, BUILTIN_TRANSFORMS, DEFAULT_TOLERANCE } from "./schema.js";
export type {
  Claim,
  ClaimOptions,
  ClaimDirection,
  Spec,
  SpecOptions,
  PropertyOptions,
  MetamorphicProperty,
  Relation,
  BuiltinTransformName,
} from "./schema.js";
export type { LlmClient, LlmMessage, LlmRequest, LlmResponse, LlmRole, LlmUsage } from "./llm/types.js";
export { LlmError, type LlmFailureReason } from "./llm/errors.js";
export { openAICompatible, type OpenAICompatibleOptions } from "./llm/openai-compatible.js";
export { scripted, estimateTokens, type ScriptedClient, type ScriptedOptions, type ScriptedResponse } from "./llm/scripted.js";
export {
  defineTransform,
  registerTransform,
  resolveTransform,
  registeredTransformNames,
  builtinTransforms,
  identity,
  permuteRows,
  scale,
  shift,
  duplicateRows,
  addColumn,
} from "./metamorphic/transforms.js";
export type { MetamorphicTransform, TransformDefinition, TransformOptions, AddedColumn } from "./metamorphic/transforms.js";
export { compareOutputs, numbersMatch, type Comparison, type Expectation } from "./metamorphic/compare.js";
export { checkProperty, type PropertyCheck, type PropertyResult } from "./metamorphic/property.js";
export { SynthesisError } from "./errors.js";
export { injectClaim } from "./steps/inject-claim.js";
export { generateSpec, type GivenSpecOptions, type GeneratedSpecOptions } from "./steps/generate-spec.js";
export { synthesize, type GivenCodeOptions, type SynthesizeOptions } from "./steps/synthesize.js";
export { executeSandboxed, type ExecuteSandboxedOptions } from "./steps/execute-sandboxed.js";
export { metamorphicTests, type MetamorphicMetrics, type MetamorphicTestsOptions } from "./steps/metamorphic-tests.js";
export { agenticSandboxes, type SandboxLimits } from "./steps/sandboxes.js";
export { describeData } from "./steps/describe-data.js";
export { extractCode } from "./steps/prompts.js";
export { AGENTIC_KEYS, AGENTIC_STEPS } from "./steps/records.js";
export type { CodeRecord, ExecutionRecord, LlmCallRecord, MetamorphicRecord } from "./steps/records.js";
export {
  metamorphicVerifier,
  acceptanceVerifier,
  relativeChangePct,
  type AgenticVerifier,
  type MetamorphicVerifierOptions,
  type AcceptanceVerifierOptions,
  type ResolvedAcceptance,
} from "./verifiers.js";
export { promptTrace, type PromptTraceOptions, type PromptTracePlugin } from "./provenance/prompt-trace.js";
export { evidenceBundle, type EvidenceBundleOptions, type EvidenceBundlePlugin } from "./provenance/evidence-bundle.js";
export { evidenceFromContext, verdictFrom, collectLlmCalls, type EvidenceVerdict } from "./provenance/trace.js";
