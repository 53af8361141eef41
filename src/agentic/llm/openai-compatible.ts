// An LLM client for any server that speaks OpenAI's chat-completions protocol: OpenAI itself,
// Ollama (http://localhost:11434/v1), vLLM (http://localhost:8000/v1), llama.cpp's server, LM Studio.
// Plain fetch; a per-attempt timeout; retries with exponential backoff (and Retry-After) on 429,
// 5xx, network errors and timeouts; never on other 4xx, which a retry cannot fix.
import { ValidationError } from "../../errors.js";
import { LlmError } from "./errors.js";
import type { LlmClient, LlmRequest, LlmResponse } from "./types.js";

export interface OpenAICompatibleOptions {
  /** The API root, e.g. "https://api.openai.com/v1" or "http://127.0.0.1:11434/v1". */
  readonly baseUrl: string;
  readonly model: string;
  /** Sent as a Bearer token when given. Local servers usually need none. */
  readonly apiKey?: string;
  /** Per-attempt timeout in milliseconds. Default 60 000. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  readonly maxRetries?: number;
  /** First backoff delay in milliseconds (doubled each retry, with jitter). Default 500. */
  readonly retryDelayMs?: number;
  /** Longest wait between attempts, whatever Retry-After says. Default 30 000. */
  readonly maxRetryDelayMs?: number;
  /** Extra headers (e.g. an organisation id). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Defaults for every request. */
  readonly temperature?: number;
  readonly maxTokens?: number;
  /** A fetch implementation (tests, proxies). Default: the global fetch. */
  readonly fetch?: typeof fetch;
}

interface ChatCompletion {
  model?: unknown;
  choices?: Array<{ message?: { content?: unknown }; finish_reason?: unknown }>;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown; total_tokens?: unknown };
  error?: { message?: unknown };
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

function contentText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  // Some servers answer with content parts: [{ type: "text", text: "..." }].
  if (Array.isArray(content)) {
    return content.map((part: unknown) => (typeof (part as { text?: unknown })?.text === "string" ? (part as { text: string }).text : "")).join("");
  }
  return undefined;
}

export function openAICompatible(options: OpenAICompatibleOptions): LlmClient {
  const problems: string[] = [];
  if (typeof options?.baseUrl !== "string" || !/^https?:\/\//.test(options.baseUrl)) {
    problems.push(`baseUrl must be an http(s) URL such as "http://127.0.0.1:11434/v1", got ${JSON.stringify(options?.baseUrl)}`);
  }
  if (typeof options?.model !== "string" || options.model === "") problems.push("model must be a non-empty string");
  for (const key of ["timeoutMs", "maxRetries", "retryDelayMs", "maxRetryDelayMs"] as const) {
    const v = options?.[key];
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) problems.push(`${key} must be a number >= 0`);
  }
  if (problems.length) throw new ValidationError("openAICompatible options", problems);
  const url = `${options.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxRetries = options.maxRetries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
  const doFetch = options.fetch ?? fetch;

  const complete = async (request: LlmRequest): Promise<LlmResponse> => {
    const started = performance.now();
    const body: Record<string, unknown> = {
      model: options.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    };
    const temperature = request.temperature ?? options.temperature;
    const maxTokens = request.maxTokens ?? options.maxTokens;
    if (temperature !== undefined) body.temperature = temperature;
    if (maxTokens !== undefined) body.max_tokens = maxTokens;
    if (request.seed !== undefined) body.seed = request.seed;
    if (request.stop !== undefined) body.stop = [...request.stop];
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json", ...options.headers };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    const payload = JSON.stringify(body);

    const cancelled = (attempts: number, cause: unknown): LlmError =>
      new LlmError("aborted", "the LLM call was cancelled", { attempts, cause });

    async function backoff(attempt: number, retryAfter: number | undefined): Promise<void> {
      if (attempt > maxRetries) return;
      const exponential = retryDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      try {
        await sleep(Math.min(maxRetryDelayMs, retryAfter ?? exponential), request.signal);
      } catch (reason) {
        throw cancelled(attempt, reason);
      }
    }

    function parse(status: number, text: string, attempt: number): LlmResponse {
      let json: ChatCompletion;
      try {
        json = JSON.parse(text) as ChatCompletion;
      } catch {
        throw new LlmError("bad-response", `the server's answer is not JSON: ${text.slice(0, 200)}`, { status, attempts: attempt });
      }
      const choice = json.choices?.[0];
      const content = contentText(choice?.message?.content);
      if (content === undefined) {
        throw new LlmError("bad-response", `the server's answer has no choices[0].message.content: ${text.slice(0, 200)}`, {
          status,
          attempts: attempt,
        });
      }
      const promptTokens = count(json.usage?.prompt_tokens);
      const completionTokens = count(json.usage?.completion_tokens);
      return {
        text: content,
        model: typeof json.model === "string" && json.model !== "" ? json.model : options.model,
        usage: { promptTokens, completionTokens, totalTokens: count(json.usage?.total_tokens) || promptTokens + completionTokens },
        latencyMs: performance.now() - started,
        attempts: attempt,
        ...(typeof choice?.finish_reason === "string" ? { finishReason: choice.finish_reason } : {}),
      };
    }

    let last: LlmError | undefined;
    for (let attempt = 1; attempt <= maxRetries + 1; attempt++) {
      if (request.signal?.aborted) throw cancelled(attempt - 1, request.signal.reason);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
      let response: Response;
      let text: string;
      try {
        response = await doFetch(url, { method: "POST", headers, body: payload, signal });
        text = await response.text();
      } catch (error) {
        if (request.signal?.aborted) throw cancelled(attempt, error);
        last = timeout.aborted
          ? new LlmError("timeout", `no answer from ${url} within ${timeoutMs} ms`, { attempts: attempt, cause: error })
          : new LlmError("network", `could not reach ${url}: ${(error as Error)?.message ?? String(error)}`, {
              attempts: attempt,
              cause: error,
            });
        await backoff(attempt, undefined);
        continue;
      }
      if (response.ok) return parse(response.status, text, attempt);
      let detail = text.slice(0, 500);
      try {
        const err = (JSON.parse(text) as ChatCompletion).error?.message;
        if (typeof err === "string") detail = err;
      } catch {
        // not JSON: keep the text
      }
      last = new LlmError("http", `HTTP ${response.status} from ${url}: ${detail}`, { status: response.status, attempts: attempt });
      // Other 4xx (bad request, auth, unknown model) will not get better by asking again.
      if (response.status !== 429 && response.status < 500) throw last;
      await backoff(attempt, retryAfterMs(response.headers.get("retry-after")));
    }
    const final = last ?? new LlmError("network", `the call to ${url} failed`);
    throw new LlmError(final.reason, `${final.message} (gave up after ${maxRetries + 1} attempts)`, {
      ...(final.status !== undefined ? { status: final.status } : {}),
      attempts: maxRetries + 1,
      cause: final,
    });
  };

  return Object.freeze({ provider: "openai-compatible", model: options.model, complete });
}
