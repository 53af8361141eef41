// crystallize/agentic: claims, specs, agentic steps, the sandbox, metamorphic testing, LLM clients
// and provenance plugins. See docs/agentic.md (threat model included).
export { BoundedExecutionError, SANDBOX_FAILURE_REASONS, isSandboxFailureReason } from "./errors.js";
export type { BoundedExecutionDetails, SandboxFailureReason } from "./errors.js";
export { createSandbox, SANDBOX_DEFAULTS } from "./sandbox/host.js";
export type { Sandbox, SandboxOptions, SandboxResult, SandboxRunOptions } from "./sandbox/host.js";
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
