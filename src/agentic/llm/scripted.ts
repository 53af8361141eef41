// A scripted LLM: answers from a list, in order. For tests and offline demos; it records every
// request it was given so a test can check the prompts.
import { LlmError } from "./errors.js";
import type { LlmClient, LlmRequest, LlmResponse } from "./types.js";

/** A fixed answer, or one computed from the request (e.g. to echo part of the prompt). */
export type ScriptedResponse = string | ((request: LlmRequest, index: number) => string);

export interface ScriptedOptions {
  /** Reported as the model. Default "scripted". */
  readonly model?: string;
  /** Start again from the first response when the list runs out, instead of failing. */
  readonly loop?: boolean;
}

export interface ScriptedClient extends LlmClient {
  /** Requests received so far, in order. */
  readonly requests: readonly LlmRequest[];
  /** Responses not yet used (without loop). */
  readonly remaining: number;
}

/** Rough token count (4 characters a token), so budgets behave as they would with a real model. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function scripted(responses: readonly ScriptedResponse[], options: ScriptedOptions = {}): ScriptedClient {
  if (!Array.isArray(responses)) throw new TypeError("scripted(responses): responses must be an array");
  const script = [...responses];
  const requests: LlmRequest[] = [];
  const model = options.model ?? "scripted";
  let next = 0;
  const complete = async (request: LlmRequest): Promise<LlmResponse> => {
    const started = performance.now();
    if (request.signal?.aborted) throw new LlmError("aborted", "the LLM call was cancelled", { attempts: 0 });
    if (next >= script.length) {
      if (!options.loop || script.length === 0) {
        throw new LlmError(
          "exhausted",
          `the scripted client has no response left (it had ${script.length}); add more responses or pass { loop: true }`,
        );
      }
      next = 0;
    }
    const index = requests.length;
    requests.push(request);
    const entry = script[next++] as ScriptedResponse;
    const text = typeof entry === "function" ? entry(request, index) : entry;
    const promptTokens = request.messages.reduce((n, m) => n + estimateTokens(m.content), 0);
    const completionTokens = estimateTokens(text);
    return {
      text,
      model,
      usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
      latencyMs: performance.now() - started,
      attempts: 1,
      finishReason: "stop",
    };
  };
  return {
    provider: "scripted",
    model,
    complete,
    get requests() {
      return requests;
    },
    get remaining() {
      return Math.max(0, script.length - next);
    },
  };
}
