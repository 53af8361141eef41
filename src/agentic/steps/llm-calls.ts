// Calling a model from a step and keeping a record of the call (prompt, hash, model, parameters,
// usage, latency, attempt, what the step made of the answer).
import { createHash } from "node:crypto";
import type { LlmClient, LlmMessage, LlmRequest, LlmResponse } from "../llm/types.js";
import { AGENTIC_KEYS, type LlmCallRecord } from "./records.js";
import { tracePromptCall, type TraceContext } from "../provenance/trace.js";

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function promptHash(messages: readonly LlmMessage[]): string {
  return sha256(JSON.stringify(messages.map((m) => ({ role: m.role, content: m.content }))));
}

export interface ModelSettings {
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly seed?: number;
}

/** Calls the model; the returned `record` takes the outcome once the step has judged the answer. */
export async function callModel(
  llm: LlmClient,
  step: string,
  attempt: number,
  messages: readonly LlmMessage[],
  settings: ModelSettings,
  signal: AbortSignal,
): Promise<{ response: LlmResponse; record: (outcome: string) => LlmCallRecord }> {
  // A snapshot: the step appends feedback to its conversation after this call.
  const sent: readonly LlmMessage[] = Object.freeze(messages.map((m) => Object.freeze({ role: m.role, content: m.content })));
  const request: LlmRequest = {
    messages: sent,
    signal,
    ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
    ...(settings.maxTokens !== undefined ? { maxTokens: settings.maxTokens } : {}),
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
  };
  const response = await llm.complete(request);
  const record = (outcome: string): LlmCallRecord => ({
    step,
    attempt,
    provider: llm.provider,
    model: llm.model,
    responseModel: response.model,
    parameters: { ...settings },
    messages: sent,
    promptHash: promptHash(sent),
    response: response.text,
    responseHash: sha256(response.text),
    usage: { ...response.usage },
    latencyMs: response.latencyMs,
    httpAttempts: response.attempts,
    outcome,
  });
  return { response, record };
}

/** The model settings of a call: the step's options, seeded by the replicate unless given. */
export function modelSettings(o: { readonly temperature?: number; readonly maxTokens?: number; readonly seed?: number }, replicateSeed: number): ModelSettings {
  return {
    ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
    ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}),
    seed: o.seed ?? replicateSeed,
  };
}

/**
 * A step's record of its model calls: each call is traced as it is kept (for promptTrace()), and
 * `store()` adds them all to the context once, under the step's key.
 */
export function llmCallLog(ctx: TraceContext & { add(key: string, value: unknown): void }, step: string): { keep(call: LlmCallRecord): void; store(): void } {
  const calls: LlmCallRecord[] = [];
  let stored = false;
  return {
    keep(call) {
      calls.push(call);
      tracePromptCall(ctx, call);
    },
    store() {
      if (stored || calls.length === 0) return;
      stored = true;
      ctx.add(`${AGENTIC_KEYS.llmCalls}${step}`, [...calls]);
    },
  };
}
