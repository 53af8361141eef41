// Issue 17: metamorphicTests() with no options takes the spec from the context, as the chain
// (generateSpec → synthesize → executeSandboxed) leaves it, and records `${name}_pass` (1 or 0)
// for every property of that spec (API §9), so hypotheses on those metrics validate and evaluate.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ValidationError, experiment, hypothesis, pipeline, source, step, treatment, type Logger } from "../../src/index.js";
import { logging } from "../../src/plugins/logging.js";
import {
  AGENTIC_KEYS,
  executeSandboxed,
  extractCode,
  generateSpec,
  metamorphicTests,
  metamorphicVerifier,
  scripted,
  synthesize,
  type MetamorphicRecord,
} from "../../src/agentic/index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cry-meta-open-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Row = { x: number; y: number };
const rows = source("rows", (ctx): Row[] => Array.from({ length: 60 }, (_, i) => ({ x: Math.round(ctx.random() * 1000) / 10, y: i % 5 })));

const SPEC_JSON = JSON.stringify({
  allowedImports: [],
  properties: [
    { name: "order", transform: "permuteRows", metric: "mean_x", tolerance: 1e-9 },
    { name: "dup", transform: "duplicateRows", metric: "mean_x", tolerance: 1e-9 },
    { name: "scaled", transform: "scale", metric: "mean_x", relation: "scaled", options: { columns: ["x"] }, tolerance: 1e-9 },
  ],
});
const GOOD = "```ts\nexport default (rows: { x: number }[]) => ({ mean_x: rows.reduce((s, r) => s + r.x, 0) / rows.length });\n```";
const ORDER_BUG = "export default (rows: { x: number }[]) => ({ mean_x: rows[0].x });";

/** A logging plugin that keeps warnings (and prints nothing). */
function capture(): { warnings: string[]; plugin: ReturnType<typeof logging> } {
  const warnings: string[] = [];
  const sink: Logger = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
  return { warnings, plugin: Object.freeze({ ...logging({ level: "silent" }), logger: sink }) };
}

describe("metamorphicTests() without options", () => {
  it("records `${name}_pass` for every property of the spec a model wrote (generateSpec → synthesize → executeSandboxed)", async () => {
    const { warnings, plugin } = capture();
    let record: MetamorphicRecord | undefined;
    const exp = experiment("meta-open", {
      source: rows,
      pipeline: pipeline(
        generateSpec({ llm: scripted(["```json\n" + SPEC_JSON + "\n```"]) }),
        synthesize({ llm: scripted([GOOD]), maxAttempts: 1, budget: 20_000 }),
        executeSandboxed({ metrics: ["mean_x"] }),
        metamorphicTests(),
        step("peek", (data: Row[], ctx) => {
          record = ctx.get<MetamorphicRecord>(AGENTIC_KEYS.metamorphic);
          return data;
        }),
      ),
      replicates: 1,
      seed: 2,
    });
    const result = await exp.run({ outDir: join(dir, "out"), cache: false, plugins: [plugin] });
    expect(result.errors).toEqual([]);
    const m = result.metrics.baseline;
    expect(Object.keys(m).sort()).toEqual(["dup_pass", "mean_x", "order_pass", "scaled_pass"]);
    expect(m.order_pass).toEqual([1]);
    expect(m.dup_pass).toEqual([1]);
    expect(m.scaled_pass).toEqual([1]);
    expect(record).toMatchObject({ passed: true, missing: [], undeclared: [] });
    expect(warnings.filter((w) => w.includes("metamorphicTests"))).toEqual([]);
  }, 60_000);

  it("records 0 for a failing property, and a hypothesis on `${name}_pass` validates and evaluates", async () => {
    const exp = experiment("meta-open-bug", {
      source: rows,
      pipeline: pipeline(
        generateSpec({ spec: JSON.parse(SPEC_JSON) }),
        synthesize({ code: ORDER_BUG }),
        executeSandboxed({ metrics: ["mean_x"] }),
        metamorphicTests({ numRuns: 20 }),
      ),
      hypotheses: [hypothesis("order_ok", { metric: "order_pass", test: metamorphicVerifier() })],
      treatments: [treatment("same", {})],
      replicates: 2,
      seed: 4,
    });
    const result = await exp.run({ outDir: join(dir, "out"), cache: false, plugins: [logging({ level: "silent" })] });
    expect(result.errors).toEqual([]);
    expect(result.metrics.baseline.order_pass).toEqual([0, 0]);
    expect(result.metrics.baseline.dup_pass).toEqual([1, 1]);
    expect(result.metrics.treatments.same!.order_pass).toEqual([0, 0]);
    expect(result.hypothesis("order_ok").results.same).toMatchObject({ significant: false, pValue: 1 });
  }, 60_000);

  it("still refuses a hypothesis on a metric that matches no declaration", () => {
    const build = () =>
      experiment("meta-open-bad", {
        source: rows,
        pipeline: pipeline(metamorphicTests()),
        // @ts-expect-error "order_ok" is neither declared nor a `${string}_pass` name
        hypotheses: [hypothesis("bad", { metric: "order_ok", test: metamorphicVerifier() })],
      });
    expect(build).toThrow(ValidationError);
    expect(build).toThrow(/tests metric "order_ok", which no step declares/);
  });

  it("with declared properties keeps recording exactly those (a spec property not declared is not a metric)", async () => {
    const exp = experiment("meta-declared", {
      source: rows,
      pipeline: pipeline(
        generateSpec({ spec: JSON.parse(SPEC_JSON) }),
        synthesize({ code: extractCode(GOOD) }),
        executeSandboxed({ metrics: ["mean_x"] }),
        metamorphicTests({ properties: ["order"], numRuns: 5 }),
      ),
    });
    const { warnings, plugin } = capture();
    const result = await exp.run({ outDir: join(dir, "out"), cache: false, plugins: [plugin] });
    expect(result.errors).toEqual([]);
    expect(Object.keys(result.metrics.baseline).sort()).toEqual(["mean_x", "order_pass"]);
    expect(warnings.filter((w) => w.includes("metamorphicTests"))).toEqual([
      expect.stringMatching(/dup, scaled ran but are not declared/),
    ]);
  }, 60_000);
});
