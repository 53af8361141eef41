// The LLM clients. openAICompatible is tested against a real HTTP server on 127.0.0.1 that speaks
// the chat-completions protocol (scripted per test: errors, delays, odd bodies).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LlmError, openAICompatible, scripted } from "../../src/agentic/index.js";
import { ValidationError } from "../../src/errors.js";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

type Handler = (req: Seen, res: ServerResponse, n: number) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let handler: Handler;

function completion(content: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: "chatcmpl-1",
    object: "chat.completion",
    model: "served-model-1",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    ...extra,
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      const entry: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} };
      seen.push(entry);
      handler(entry, res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  handler = (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(completion("hello"));
  };
});

const ask = { messages: [{ role: "user" as const, content: "Say hello" }] };

describe("openAICompatible against a chat-completions server", () => {
  it("posts the chat-completions request and returns text, model, usage and latency", async () => {
    const llm = openAICompatible({ baseUrl: `${baseUrl}/`, model: "my-model", apiKey: "sk-test" });
    const r = await llm.complete({ ...ask, temperature: 0, maxTokens: 64, seed: 7, stop: ["\n\n"] });
    expect(r).toMatchObject({
      text: "hello",
      model: "served-model-1",
      usage: { promptTokens: 12, completionTokens: 5, totalTokens: 17 },
      attempts: 1,
      finishReason: "stop",
    });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe("POST");
    expect(seen[0]!.url).toBe("/v1/chat/completions");
    expect(seen[0]!.headers.authorization).toBe("Bearer sk-test");
    expect(seen[0]!.headers["content-type"]).toBe("application/json");
    expect(seen[0]!.body).toEqual({
      model: "my-model",
      messages: [{ role: "user", content: "Say hello" }],
      temperature: 0,
      max_tokens: 64,
      seed: 7,
      stop: ["\n\n"],
    });
  });

  it("sends no Authorization header without an api key (Ollama, vLLM)", async () => {
    await openAICompatible({ baseUrl, model: "llama3" }).complete(ask);
    expect(seen[0]!.headers.authorization).toBeUndefined();
  });

  it("retries 429 (honouring Retry-After) and 5xx, then succeeds", async () => {
    handler = (_req, res, n) => {
      if (n === 1) {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "0" });
        res.end(JSON.stringify({ error: { message: "rate limited" } }));
      } else if (n === 2) {
        res.writeHead(503);
        res.end("overloaded");
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(completion("third time"));
      }
    };
    const r = await openAICompatible({ baseUrl, model: "m", retryDelayMs: 1 }).complete(ask);
    expect(r.text).toBe("third time");
    expect(r.attempts).toBe(3);
    expect(seen).toHaveLength(3);
  });

  it("gives up after maxRetries with the last HTTP status", async () => {
    handler = (_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "boom" } }));
    };
    const error = await openAICompatible({ baseUrl, model: "m", maxRetries: 2, retryDelayMs: 1 })
      .complete(ask)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ reason: "http", status: 500, attempts: 3, code: "E_LLM" });
    expect((error as Error).message).toContain("boom");
    expect(seen).toHaveLength(3);
  });

  it("does not retry other 4xx (bad request, unknown model)", async () => {
    handler = (_req, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "model 'nope' not found" } }));
    };
    const error = await openAICompatible({ baseUrl, model: "nope", retryDelayMs: 1 })
      .complete(ask)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "http", status: 404, attempts: 1 });
    expect((error as Error).message).toContain("model 'nope' not found");
    expect(seen).toHaveLength(1);
  });

  it("times out a server that does not answer, retrying the timeout", async () => {
    const pending: ServerResponse[] = [];
    handler = (_req, res) => {
      pending.push(res);
    };
    const error = await openAICompatible({ baseUrl, model: "m", timeoutMs: 50, maxRetries: 1, retryDelayMs: 1 })
      .complete(ask)
      .catch((e: unknown) => e);
    for (const res of pending) res.destroy();
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ reason: "timeout", attempts: 2 });
    expect(seen).toHaveLength(2);
  });

  it("reports an unreachable server as a network error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await openAICompatible({ baseUrl: `http://127.0.0.1:${port}/v1`, model: "m", maxRetries: 1, retryDelayMs: 1 })
      .complete(ask)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "network", attempts: 2 });
  });

  it("rejects answers without message content, without retrying", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [] }));
    };
    const error = await openAICompatible({ baseUrl, model: "m" })
      .complete(ask)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "bad-response", attempts: 1 });
    expect(seen).toHaveLength(1);
  });

  it("accepts content parts and missing usage", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ message: { content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] } }] }));
    };
    const r = await openAICompatible({ baseUrl, model: "fallback-name" }).complete(ask);
    expect(r).toMatchObject({ text: "ab", model: "fallback-name", usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 } });
  });

  it("stops when the caller's signal aborts", async () => {
    const pending: ServerResponse[] = [];
    handler = (_req, res) => {
      pending.push(res);
    };
    const controller = new AbortController();
    const call = openAICompatible({ baseUrl, model: "m", timeoutMs: 10_000 }).complete({ ...ask, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    const error = await call.catch((e: unknown) => e);
    for (const res of pending) res.destroy();
    expect(error).toMatchObject({ reason: "aborted" });
  });

  it("validates its options", () => {
    expect(() => openAICompatible({ baseUrl: "localhost:11434", model: "" })).toThrow(ValidationError);
    expect(() => openAICompatible({ baseUrl: "localhost:11434", model: "" })).toThrow(/baseUrl[\s\S]*model/);
  });
});

describe("scripted", () => {
  it("answers in order, records requests and estimates usage", async () => {
    const llm = scripted(["one", (req, i) => `echo ${i}: ${req.messages[0]!.content}`]);
    const a = await llm.complete(ask);
    const b = await llm.complete(ask);
    expect([a.text, b.text]).toEqual(["one", "echo 1: Say hello"]);
    expect(a.model).toBe("scripted");
    expect(a.usage).toEqual({ promptTokens: 3, completionTokens: 1, totalTokens: 4 });
    expect(llm.requests).toHaveLength(2);
    expect(llm.remaining).toBe(0);
    await expect(llm.complete(ask)).rejects.toMatchObject({ reason: "exhausted" });
  });

  it("loops when asked to", async () => {
    const llm = scripted(["a", "b"], { loop: true, model: "demo" });
    const texts = [];
    for (let i = 0; i < 5; i++) texts.push((await llm.complete(ask)).text);
    expect(texts).toEqual(["a", "b", "a", "b", "a"]);
    expect(llm.model).toBe("demo");
  });
});
