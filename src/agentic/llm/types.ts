// The one interface every LLM client implements: messages in; text, model, usage and latency out.
export type LlmRole = "system" | "user" | "assistant";

export interface LlmMessage {
  readonly role: LlmRole;
  readonly content: string;
}

export interface LlmRequest {
  readonly messages: readonly LlmMessage[];
  readonly temperature?: number;
  readonly maxTokens?: number;
  /** Sampling seed, for servers that honour it (OpenAI, vLLM, Ollama). */
  readonly seed?: number;
  readonly stop?: readonly string[];
  /** Cancels the call (and its retries). */
  readonly signal?: AbortSignal;
}

export interface LlmUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

export interface LlmResponse {
  readonly text: string;
  /** The model that answered, as the server reports it. */
  readonly model: string;
  readonly usage: LlmUsage;
  /** Wall-clock time of the whole call, retries included, in milliseconds. */
  readonly latencyMs: number;
  /** HTTP attempts it took (1 when the first one succeeded). */
  readonly attempts: number;
  readonly finishReason?: string;
}

export interface LlmClient {
  /** "openai-compatible", "scripted", or your own. */
  readonly provider: string;
  /** The model asked for. */
  readonly model: string;
  complete(request: LlmRequest): Promise<LlmResponse>;
}
