// Where provenance is written from. The provenance plugins switch tracing on for a replicate (a
// flag in the context, set in beforeReplicate); the agentic steps then write through their own
// context, so artifacts land in the steps' folders:
//   replicate_<r>/<condition>/<step>/llm-call-<step>-<attempt>.json    (promptTrace)
//   replicate_<r>/<condition>/<writer step>/evidence.json              (evidenceBundle)
// (Artifacts written from a plugin hook's own context cannot be stored yet: see docs/agentic.md.)
import type { Claim, Spec } from "../schema.js";
import {
  AGENTIC_KEYS,
  AGENTIC_STEP_ORDER,
  type CodeRecord,
  type EvidenceFlag,
  type ExecutionRecord,
  type LlmCallRecord,
  type MetamorphicRecord,
  type PromptTraceFlag,
} from "../steps/records.js";
import { toJsonSafe } from "./json-safe.js";

/** The part of a context the tracing needs. */
export interface TraceContext {
  get<T>(key: string): T | undefined;
  has(key: string): boolean;
  readonly condition: string;
  readonly replicate: number;
  readonly seed: number;
  readonly artifacts: { write(name: string, value: unknown): void };
}

/** Called by a step after each model call. */
export function tracePromptCall(ctx: TraceContext, call: LlmCallRecord): void {
  const flag = ctx.get<PromptTraceFlag>(AGENTIC_KEYS.tracePrompts);
  if (!flag) return;
  ctx.artifacts.write(`${flag.prefix}-${call.step}-${call.attempt}.json`, toJsonSafe(call));
}

/** Every LLM call recorded in the replicate so far, in step order. */
export function collectLlmCalls(ctx: Pick<TraceContext, "get">, pending: readonly LlmCallRecord[] = []): LlmCallRecord[] {
  const out: LlmCallRecord[] = [];
  for (const s of AGENTIC_STEP_ORDER) out.push(...(ctx.get<readonly LlmCallRecord[]>(`${AGENTIC_KEYS.llmCalls}${s}`) ?? []));
  return [...out, ...pending];
}

/**
 * What a replicate's evidence says:
 * - "passed": the code ran and every metamorphic property held (or none were checked);
 * - "metamorphic-failure": the code ran but broke at least one property (or a declared one was missing);
 * - "error": the replicate failed (only when the bundle is built after a failure).
 */
export type EvidenceVerdict =
  | { readonly status: "passed"; readonly properties: number }
  | { readonly status: "metamorphic-failure"; readonly failed: readonly string[] }
  | { readonly status: "error"; readonly code: string; readonly message: string; readonly step?: string; readonly reason?: string };

export function verdictFrom(metamorphic: MetamorphicRecord | undefined): EvidenceVerdict {
  if (metamorphic && !metamorphic.passed) {
    return { status: "metamorphic-failure", failed: [...metamorphic.results.filter((r) => !r.passed).map((r) => r.name), ...metamorphic.missing] };
  }
  return { status: "passed", properties: metamorphic?.results.length ?? 0 };
}

/** The evidence bundle of a replicate, from what the agentic steps left in its context. */
export function evidenceFromContext(ctx: Pick<TraceContext, "get" | "condition" | "replicate" | "seed">, verdict?: EvidenceVerdict): unknown {
  const claim = ctx.get<Claim>(AGENTIC_KEYS.claim);
  const spec = ctx.get<Spec>(AGENTIC_KEYS.spec);
  const code = ctx.get<CodeRecord>(AGENTIC_KEYS.code);
  const execution = ctx.get<ExecutionRecord>(AGENTIC_KEYS.execution);
  const metamorphic = ctx.get<MetamorphicRecord>(AGENTIC_KEYS.metamorphic);
  const output = execution?.ok && typeof execution.value === "object" && execution.value !== null ? (execution.value as Record<string, unknown>) : undefined;
  const claimMetric = claim?.metric !== undefined && output && claim.metric in output ? { name: claim.metric, value: output[claim.metric] } : undefined;
  return toJsonSafe({
    condition: ctx.condition,
    replicate: ctx.replicate,
    seed: ctx.seed,
    verdict: verdict ?? verdictFrom(metamorphic),
    claim: claim ?? null,
    ...(claimMetric ? { claimMetric } : {}),
    spec: spec ?? null,
    code: code ?? null,
    sandbox: execution ?? null,
    metamorphic: metamorphic ?? null,
    llmCalls: collectLlmCalls(ctx).map((c) => ({
      step: c.step,
      attempt: c.attempt,
      model: c.model,
      responseModel: c.responseModel,
      promptHash: c.promptHash,
      responseHash: c.responseHash,
      usage: c.usage,
      latencyMs: c.latencyMs,
      outcome: c.outcome,
    })),
  });
}

/** Called by each agentic step when it finishes: the one evidenceBundle() chose writes the bundle. */
export function writeEvidenceIfLast(ctx: TraceContext, step: string): void {
  const flag = ctx.get<EvidenceFlag>(AGENTIC_KEYS.traceEvidence);
  if (!flag || flag.writer !== step) return;
  ctx.artifacts.write(flag.name, evidenceFromContext(ctx));
}
