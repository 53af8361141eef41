// The agentic steps, verifiers and provenance plugins in real experiment runs, with scripted
// models, the real sandbox, and the artifacts plugin writing to a temporary directory.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { experiment, hypothesis, pipeline, source, step, treatment } from "../../src/index.js";
import { artifacts } from "../../src/plugins/artifacts.js";
import {
  AGENTIC_KEYS,
  acceptanceVerifier,
  claim,
  evidenceBundle,
  executeSandboxed,
  extractCode,
  generateSpec,
  injectClaim,
  metamorphicTests,
  metamorphicVerifier,
  promptTrace,
  scripted,
  spec,
  collectLlmCalls,
  synthesize,
  type ExecutionRecord,
  type MetamorphicRecord,
} from "../../src/agentic/index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cry-agentic-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Row = { x: number; y: number; g: string };
const rows = source("rows", (ctx): Row[] =>
  Array.from({ length: 120 }, (_, i) => ({ x: Math.round(ctx.random() * 1000) / 10, y: i % 7, g: i % 2 ? "a" : "b" })),
);

const theClaim = claim({ id: "mean-x", text: "The mean of x is about 50.", metric: "mean_x", direction: "increase" });

const SPEC_JSON = JSON.stringify({
  allowedImports: [],
  properties: [
    { name: "order", transform: "permuteRows", metric: "mean_x", tolerance: 1e-9 },
    { name: "dup", transform: "duplicateRows", metric: "mean_x", tolerance: 1e-9 },
    { name: "scaled", transform: "scale", metric: "mean_x", relation: "scaled", options: { columns: ["x"] }, tolerance: 1e-9 },
    { name: "extra", transform: "addColumn", tolerance: 1e-9 },
  ],
});

const GOOD = "```ts\nexport default function (rows: { x: number }[]) {\n  const n = rows.length;\n  return { mean_x: rows.reduce((s, r) => s + r.x, 0) / n, n_rows_seen: n > 0 ? 1 : 0 };\n}\n```";
const FORBIDDEN = '```ts\nimport { readFileSync } from "fs";\nexport default () => ({ mean_x: readFileSync("/etc/hostname").length });\n```';
const ORDER_BUG = "```ts\nexport default (rows: { x: number }[]) => ({ mean_x: rows[0].x, n_rows_seen: 1 });\n```";

const outDir = () => join(dir, ".crystallize");

function readArtifact(path: string): unknown {
  return JSON.parse(readFileSync(join(outDir(), path), "utf8"));
}

describe("the agentic pipeline", () => {
  it("generates a spec and code (fed back after a refusal), runs it, checks its properties and records evidence", async () => {
    const specLlm = scripted(["Here is the spec:\n```json\n" + SPEC_JSON + "\n```"]);
    const codeLlm = scripted([FORBIDDEN, GOOD]);
    const exp = experiment("agentic-ok", {
      source: rows,
      pipeline: pipeline(
        injectClaim(theClaim),
        generateSpec({ llm: specLlm, properties: ["order", "dup", "scaled", "extra"] }),
        synthesize({ llm: codeLlm, maxAttempts: 3, budget: 20_000, metrics: ["mean_x"] }),
        executeSandboxed({ metrics: ["mean_x"], timeoutMs: 5000 }),
        metamorphicTests({ properties: ["order", "dup", "scaled", "extra"], numRuns: 15 }),
      ),
      replicates: 1,
      seed: 3,
    });
    const result = await exp.run({ outDir: outDir(), cache: false, plugins: [artifacts({ fsync: false }), promptTrace(), evidenceBundle()] });
    expect(result.errors).toEqual([]);
    const m = result.metrics.baseline;
    expect(m.order_pass).toEqual([1]);
    expect(m.dup_pass).toEqual([1]);
    expect(m.scaled_pass).toEqual([1]);
    expect(m.extra_pass).toEqual([1]);
    expect(m.mean_x![0]).toBeGreaterThan(0);

    // The refusal was fed back to the model.
    expect(codeLlm.requests).toHaveLength(2);
    const retry = codeLlm.requests[1]!.messages;
    expect(retry.at(-2)).toEqual({ role: "assistant", content: FORBIDDEN });
    expect(retry.at(-1)!.content).toMatch(/forbidden-import[\s\S]*"fs"/);
    // The prompts describe the data and the properties.
    expect(codeLlm.requests[0]!.messages[1]!.content).toContain("An array of 120 row objects");
    expect(codeLlm.requests[0]!.messages[0]!.content).toContain('after the "permuteRows" transform');
    expect(specLlm.requests[0]!.messages[1]!.content).toContain("Use exactly these property names: order, dup, scaled, extra");

    // promptTrace(): one artifact per call; evidenceBundle(): one bundle per replicate.
    const names = result.artifacts.map((a) => a.artifact).sort();
    expect(names).toEqual(["evidence.json", "llm-call-generateSpec-1.json", "llm-call-synthesize-1.json", "llm-call-synthesize-2.json"]);
    const call1 = readArtifact(result.artifacts.find((a) => a.artifact === "llm-call-synthesize-1.json")!.path) as Record<string, unknown>;
    expect(call1).toMatchObject({ step: "synthesize", attempt: 1, provider: "scripted", model: "scripted", parameters: { seed: expect.any(Number) } });
    expect(call1.promptHash).toMatch(/^[0-9a-f]{64}$/);
    expect(call1.outcome).toMatch(/^rejected: forbidden-import/);
    expect((call1.messages as unknown[]).length).toBe(2);
    expect(call1.usage).toMatchObject({ totalTokens: expect.any(Number) });
    const bundle = readArtifact(result.artifacts.find((a) => a.artifact === "evidence.json")!.path) as Record<string, any>;
    expect(bundle.verdict).toEqual({ status: "passed", properties: 4 });
    expect(bundle.claim.id).toBe("mean-x");
    expect(bundle.claimMetric).toMatchObject({ name: "mean_x", value: m.mean_x![0] });
    expect(bundle.code).toMatchObject({ origin: "llm", attempts: 2, source: extractCode(GOOD) });
    expect(bundle.code.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(bundle.sandbox).toMatchObject({ ok: true, codeHash: bundle.code.sha256, limits: { timeoutMs: 5000 } });
    expect(bundle.metamorphic.results).toHaveLength(4);
    expect(bundle.metamorphic.results[0]).toMatchObject({ name: "order", passed: true, cases: 15 });
    expect(bundle.llmCalls.map((c: { outcome: string }) => c.outcome.split(":")[0])).toEqual(["accepted", "rejected", "accepted"]);
  }, 60_000);

  it("finds an order-dependent bug and says so in the evidence", async () => {
    const exp = experiment("agentic-bug", {
      source: rows,
      pipeline: pipeline(
        injectClaim(theClaim),
        generateSpec({ spec: JSON.parse(SPEC_JSON) }),
        synthesize({ code: extractCode(ORDER_BUG) }),
        executeSandboxed({ metrics: ["mean_x"] }),
        metamorphicTests({ properties: ["order", "dup", "scaled", "extra"], numRuns: 25 }),
      ),
      hypotheses: [hypothesis("code_ok", { metric: ["order_pass", "dup_pass"], test: metamorphicVerifier() })],
      treatments: [treatment("same", {})],
      replicates: 2,
      seed: 5,
    });
    const result = await exp.run({ outDir: outDir(), cache: false, plugins: [artifacts({ fsync: false }), evidenceBundle()] });
    expect(result.errors).toEqual([]);
    expect(result.metrics.baseline.order_pass).toEqual([0, 0]);
    expect(result.metrics.baseline.dup_pass).toEqual([1, 1]); // the first row stays first
    expect(result.metrics.baseline.scaled_pass).toEqual([1, 1]);
    const report = result.hypothesis("code_ok");
    expect(report.byMetric.order_pass!.same).toMatchObject({ significant: false, pValue: 1 });
    expect(report.byMetric.dup_pass!.same).toMatchObject({ significant: true, pValue: 0 });
    const bundle = readArtifact(result.artifacts.find((a) => a.artifact === "evidence.json")!.path) as Record<string, any>;
    expect(bundle.verdict).toEqual({ status: "metamorphic-failure", failed: ["order"] });
    const order = (bundle.metamorphic as MetamorphicRecord).results[0]!;
    expect(order.counterexample?.detail).toMatch(/^mean_x: expected/);
    expect(bundle.code.origin).toBe("given");
  }, 60_000);

  it("stops at the token budget and records the failure, keeping the calls it made", async () => {
    const llm = scripted([FORBIDDEN, FORBIDDEN, FORBIDDEN]);
    let calls: unknown[] = [];
    const exp = experiment("agentic-budget", {
      source: rows,
      pipeline: pipeline(
        generateSpec({ spec: { allowedImports: [], properties: [] } }),
        synthesize({ llm, maxAttempts: 3, budget: 1 }),
        executeSandboxed(),
      ),
      seed: 1,
    });
    const spy = { name: "spy", afterReplicate: (ctx: { get<T>(k: string): T | undefined }) => void (calls = collectLlmCalls(ctx)) };
    const result = await exp.run({ outDir: outDir(), cache: false, plugins: [artifacts({ fsync: false }), promptTrace(), evidenceBundle(), spy] });
    expect(llm.requests).toHaveLength(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ step: "synthesize", code: "E_SYNTHESIS", wrapperCode: "E_STEP_FAILED" });
    expect(result.errors[0]!.message).toMatch(/no acceptable code from scripted after 1 attempt\(s\)[\s\S]*token budget exhausted/);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ step: "synthesize", attempt: 1, outcome: expect.stringMatching(/^rejected: forbidden-import/) });
    // A failed replicate is not stored by artifacts() (it is retried on resume).
    expect(result.artifacts).toEqual([]);
  }, 60_000);

  it("feeds spec problems back to the model (bad JSON, unknown transform, imports beyond the author's bound)", async () => {
    const llm = scripted([
      "I think permuting rows is a good idea.",
      JSON.stringify({ allowedImports: ["lodash"], properties: [{ name: "order", transform: "shuffle" }] }),
      JSON.stringify({ allowedImports: [], properties: [{ name: "order", transform: "permuteRows" }] }),
    ]);
    let seen: unknown;
    const exp = experiment("agentic-spec", {
      source: rows,
      pipeline: pipeline(
        generateSpec({ llm, maxAttempts: 3 }),
        step("peek", (data: Row[], ctx) => {
          seen = ctx.get(AGENTIC_KEYS.spec);
          return data;
        }),
      ),
    });
    const result = await exp.run({ outDir: outDir(), cache: false });
    expect(result.errors).toEqual([]);
    expect(seen).toMatchObject({ kind: "spec", properties: [{ name: "order", transform: "permuteRows", relation: "invariant" }] });
    expect(llm.requests[1]!.messages.at(-1)!.content).toMatch(/expected a JSON object/);
    const third = llm.requests[2]!.messages.at(-1)!.content;
    expect(third).toMatch(/allowedImports may only contain nothing; remove lodash/);
    expect(third).toMatch(/unknown transform "shuffle"/);
  }, 60_000);

  it("fails a replicate whose code fails in the sandbox, keeping the sandbox report", async () => {
    let report: ExecutionRecord | undefined;
    const exp = experiment("agentic-crash", {
      source: rows,
      pipeline: pipeline(
        synthesize({ code: "export default () => { for (;;) {} }" }),
        executeSandboxed({ timeoutMs: 300 }),
      ),
      plugins: [
        {
          name: "spy",
          afterReplicate(ctx) {
            report = ctx.get<ExecutionRecord>(AGENTIC_KEYS.execution);
          },
        },
      ],
    });
    const result = await exp.run({ outDir: outDir(), cache: false });
    expect(result.errors[0]).toMatchObject({ step: "executeSandboxed", code: "E_SANDBOX", wrapperCode: "E_STEP_FAILED" });
    expect(result.errors[0]!.message).toMatch(/timeout/);
    expect(report).toMatchObject({ ok: false, error: { reason: "timeout" } });
  }, 60_000);

  it("uses a spec written in code to declare the metrics (typed)", async () => {
    const s = spec({ allowedImports: [], properties: [{ name: "order", transform: "permuteRows", metric: "mean_x" }] });
    const exp = experiment("agentic-typed", {
      source: rows,
      pipeline: pipeline(
        generateSpec({ spec: s }),
        synthesize({ code: extractCode(GOOD) }),
        executeSandboxed({ metrics: ["mean_x"] }),
        metamorphicTests({ spec: s, numRuns: 5 }),
      ),
      hypotheses: [hypothesis("claim", { metric: "mean_x", test: acceptanceVerifier({ claim: theClaim }) })],
      treatments: [treatment("noop", {})],
      replicates: 2,
    });
    const result = await exp.run({ outDir: outDir(), cache: false });
    expect(result.errors).toEqual([]);
    expect(result.metrics.baseline.order_pass).toEqual([1, 1]);
    // Same data in both conditions: no improvement, so the claim is not supported.
    expect(result.hypothesis("claim").results.noop!.significant).toBe(false);
  }, 60_000);
});
