import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  CancelledError,
  PipelineExecutionError,
  ValidationError,
  concurrent,
  experiment,
  pipeline,
  serial,
  source,
  step,
  treatment,
  type Plugin,
} from "../../src/index.js";

const numbers = source("numbers", (ctx) => Array.from({ length: 8 }, () => ctx.random()));
const scale = step("scale", { params: { factor: 1, offset: 0 } }, (xs: number[], ctx) =>
  xs.map((x) => x * ctx.params.factor + ctx.params.offset),
);
const summarize = step("summarize", { metrics: ["mean", "max"] }, (xs: number[], ctx) => {
  ctx.record("mean", xs.reduce((a, b) => a + b, 0) / xs.length);
  ctx.record("max", Math.max(...xs));
  return xs;
});

function demo(replicates = 4, seed = 7) {
  return experiment("demo", {
    source: numbers,
    pipeline: pipeline(scale, summarize),
    treatments: [treatment("doubled", { factor: 2 }), treatment("shifted", { offset: 10 })],
    replicates,
    seed,
  });
}

describe("experiment.run()", () => {
  it("runs replicates × (baseline + treatments) with treatment values over step defaults", async () => {
    const r = await demo().run({ cache: false });
    expect(r.conditions).toEqual(["baseline", "doubled", "shifted"]);
    expect(r.metrics.baseline.mean).toHaveLength(4);
    // Common random numbers: every condition of a replicate sees the same source data.
    r.metrics.baseline.mean.forEach((m, i) => {
      expect(r.metrics.treatments.doubled.mean[i]).toBeCloseTo(2 * m, 12);
      expect(r.metrics.treatments.shifted.mean[i]).toBeCloseTo(m + 10, 12);
    });
    const prov = r.provenance.find((p) => p.condition === "doubled" && p.replicate === 0)!;
    expect(prov.steps.map((s) => s.step)).toEqual(["scale", "summarize"]);
    expect(prov.steps[0]!.params).toEqual({ factor: 2, offset: 0 });
    expect(prov.steps[1]!.metrics).toEqual({ mean: [r.metrics.treatments.doubled.mean[0]], max: [r.metrics.treatments.doubled.max[0]] });
  });

  it("gives replicates different seeds and is reproducible for the same seed", async () => {
    const a = await demo(3, 1).run({ cache: false });
    const b = await demo(3, 1).run({ cache: false });
    const c = await demo(3, 2).run({ cache: false });
    expect(new Set(a.metrics.baseline.mean).size).toBe(3);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.metrics.baseline.mean).not.toEqual(c.metrics.baseline.mean);
  });

  it("run options override replicates, seed and the treatments that run", async () => {
    const r = await demo().run({ cache: false, replicates: 2, seed: 99, treatments: ["shifted"] });
    expect(r.replicates).toBe(2);
    expect(r.seed).toBe(99);
    expect(r.conditions).toEqual(["baseline", "shifted"]);
    expect(Object.keys(r.metrics.treatments)).toEqual(["shifted"]);
  });

  it("rejects unknown treatments and bad replicate counts in run options", async () => {
    await expect(demo().run({ treatments: ["nope" as "doubled"] })).rejects.toThrow(/"nope", which is not a treatment/);
    await expect(demo().run({ replicates: 0 })).rejects.toBeInstanceOf(ValidationError);
  });

  it("records a failing step with its name, condition, replicate, message and stack; others go on", async () => {
    const flaky = step("flaky", (xs: number[], ctx) => {
      if (ctx.replicate === 1 && ctx.condition === "doubled") throw new RangeError("bad luck");
      return xs;
    });
    const e = experiment("flaky", {
      source: numbers,
      pipeline: pipeline(scale, flaky, summarize),
      treatments: [treatment("doubled", { factor: 2 })],
      replicates: 3,
    });
    const r = await e.run({ cache: false });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ condition: "doubled", replicate: 1, step: "flaky", code: "E_STEP_FAILED" });
    expect(r.errors[0]!.message).toContain("bad luck");
    expect(r.errors[0]!.stack).toContain("RangeError: bad luck");
    expect(r.metrics.baseline.mean).toHaveLength(3);
    expect(r.metrics.treatments.doubled.mean).toHaveLength(2);
    expect(r.toJSON().errors[0]).not.toHaveProperty("stack");
  });

  it("records a failing source without a step name", async () => {
    const broken = source("broken", (ctx): number[] => {
      if (ctx.replicate === 0) throw new Error("no data");
      return [1, 2];
    });
    const r = await experiment("src-fail", { source: broken, pipeline: pipeline(summarize), replicates: 2 }).run({ cache: false });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ replicate: 0, phase: "source" });
    expect(r.errors[0]).not.toHaveProperty("step");
    expect(r.metrics.baseline.mean).toEqual([1.5]);
  });

  it("awaits async steps and sources", async () => {
    const slow = source("slow", async () => {
      await new Promise((r) => setTimeout(r, 1));
      return [1, 2, 3];
    });
    const asyncScale = step("asyncScale", async (xs: number[]) => xs.map((x) => x * 3));
    const r = await experiment("async", { source: slow, pipeline: pipeline(asyncScale, summarize) }).run({ cache: false });
    expect(r.metrics.baseline.mean).toEqual([6]);
  });

  it("evaluates treatment functions per replicate with their own stream", async () => {
    const e = experiment("fn-treat", {
      source: numbers,
      pipeline: pipeline(scale, summarize),
      treatments: [treatment("byRep", (ctx) => ({ offset: ctx.replicate * 100 }))],
      replicates: 3,
    });
    const r = await e.run({ cache: false });
    r.metrics.baseline.mean.forEach((m, i) => expect(r.metrics.treatments.byRep.mean[i]).toBeCloseTo(m + i * 100, 9));
  });

  it("a treatment function that sets an undeclared key fails that task", async () => {
    const e = experiment("fn-bad", {
      source: numbers,
      pipeline: pipeline(scale, summarize),
      treatments: [treatment("bad", () => ({ factr: 1 }) as unknown as { factor: number })],
    });
    const r = await e.run({ cache: false });
    expect(r.errors[0]).toMatchObject({ condition: "bad", phase: "treatment" });
    expect(r.errors[0]!.message).toContain('"factr"');
  });

  it("cancels promptly through an AbortSignal and rejects with CancelledError holding the partial result", async () => {
    const controller = new AbortController();
    const wait = step("wait", async (xs: number[], ctx) => {
      if (ctx.replicate === 2) controller.abort();
      await new Promise((r) => setTimeout(r, 1));
      return xs;
    });
    const e = experiment("cancel", { source: numbers, pipeline: pipeline(wait, summarize), replicates: 50 });
    const err = await e.run({ cache: false, signal: controller.signal }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(CancelledError);
    const partial = (err as CancelledError<{ metrics: { baseline: { mean: number[] } }; run: { status: string } }>).partial!;
    expect(partial.run.status).toBe("cancelled");
    expect(partial.metrics.baseline.mean.length).toBeGreaterThanOrEqual(2);
    expect(partial.metrics.baseline.mean.length).toBeLessThan(50);
  });

  it("an already-aborted signal runs nothing", async () => {
    let calls = 0;
    const count = step("count", (xs: number[]) => {
      calls++;
      return xs;
    });
    const c = new AbortController();
    c.abort();
    await expect(experiment("pre-abort", { source: numbers, pipeline: pipeline(count) }).run({ signal: c.signal, cache: false })).rejects.toBeInstanceOf(CancelledError);
    expect(calls).toBe(0);
  });

  it("calls plugin hooks in lifecycle order", async () => {
    const calls: string[] = [];
    const spy: Plugin = {
      name: "spy",
      init: () => void calls.push("init"),
      beforeRun: () => void calls.push("beforeRun"),
      beforeReplicate: (ctx) => void calls.push(`beforeReplicate:${ctx.condition}:${ctx.replicate}`),
      beforeStep: (s) => void calls.push(`beforeStep:${s.name}`),
      afterStep: (s) => void calls.push(`afterStep:${s.name}`),
      afterReplicate: (_ctx, o) => void calls.push(`afterReplicate:${o.status}`),
      afterRun: (r) => void calls.push(`afterRun:${r.errors.length}`),
    };
    await experiment("hooks", { source: numbers, pipeline: pipeline(summarize), plugins: [spy] }).run({ cache: false });
    expect(calls).toEqual([
      "init",
      "beforeRun",
      "beforeReplicate:baseline:0",
      "beforeStep:summarize",
      "afterStep:summarize",
      "afterReplicate:ok",
      "afterRun:0",
    ]);
  });

  it("a throwing per-replicate hook fails that task; a throwing beforeRun rejects the run", async () => {
    const bad: Plugin = { name: "bad", beforeReplicate: () => { throw new Error("hook broke"); } };
    const r = await experiment("hook-fail", { source: numbers, pipeline: pipeline(summarize), plugins: [bad] }).run({ cache: false });
    expect(r.errors[0]).toMatchObject({ phase: "plugin:bad", message: "hook broke" });
    const worse: Plugin = { name: "worse", beforeRun: () => { throw new Error("no run"); } };
    await expect(experiment("run-fail", { source: numbers, pipeline: pipeline(summarize), plugins: [worse] }).run({ cache: false })).rejects.toThrow("no run");
  });

  it("reports progress after each task", async () => {
    const seen: number[] = [];
    await demo(2).run({ cache: false, progress: (p) => seen.push(p.done) });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("toJSON() is identical across serial() and concurrent() for any seed and replicate count", async () => {
    const wait = step("jitter", { metrics: ["v"] }, async (xs: number[], ctx) => {
      await new Promise((r) => setTimeout(r, Math.floor(ctx.random() * 3)));
      ctx.record("v", ctx.random());
      return xs;
    });
    await fc.assert(
      fc.asyncProperty(fc.nat(2 ** 32 - 1), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), async (seed, replicates, limit) => {
        const e = experiment("prop", {
          source: numbers,
          pipeline: pipeline(scale, wait, summarize),
          treatments: [treatment("doubled", { factor: 2 })],
          replicates,
          seed,
        });
        const a = JSON.stringify(await e.run({ cache: false, execution: serial() }));
        const b = JSON.stringify(await e.run({ cache: false, execution: concurrent({ limit }) }));
        const c = JSON.stringify(await e.run({ cache: false }));
        expect(b).toBe(a);
        expect(c).toBe(a);
      }),
      { numRuns: 15 },
    );
  });
});

describe("experiment.apply()", () => {
  it("has exactly the semantics of replicate 0 of a run", async () => {
    const final = step("final", { metrics: ["mean"] }, async (xs: number[], ctx) => {
      ctx.record("mean", xs[0]!);
      return xs.map((x) => x + ctx.random());
    });
    const e = experiment("apply", {
      source: numbers,
      pipeline: pipeline(scale, final),
      treatments: [treatment("doubled", { factor: 2 })],
      seed: 3,
      replicates: 2,
    });
    const out = await e.apply(undefined, { treatment: "doubled" });
    let captured: unknown;
    const capture: Plugin = { name: "capture", afterStep: (s, o, ctx) => void (s.name === "final" && ctx.condition === "doubled" && ctx.replicate === 0 && (captured = o)) };
    await e.run({ cache: false, plugins: [capture] });
    expect(out).toEqual(captured);
  });

  it("takes data instead of the source, and rethrows a step failure as PipelineExecutionError", async () => {
    const e = experiment("apply-data", { source: numbers, pipeline: pipeline(scale) });
    expect(await e.apply([1, 2])).toEqual([1, 2]);
    const boom = step("boom", (): number[] => {
      throw new Error("kaput");
    });
    const err = await experiment("apply-fail", { source: numbers, pipeline: pipeline(boom) }).apply().catch((x: unknown) => x);
    expect(err).toBeInstanceOf(PipelineExecutionError);
    expect((err as PipelineExecutionError).step).toBe("boom");
    expect(((err as Error).cause as Error).message).toBe("kaput");
  });

  it("rejects an unknown treatment", async () => {
    await expect(demo().apply(undefined, { treatment: "tripled" as "doubled" })).rejects.toThrow(/"tripled" is not a treatment/);
  });
});

describe("plugin hook contexts", () => {
  it("give each plugin its own artifact folder and random stream", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const outDir = mkdtempSync(join(tmpdir(), "cry-hooks-"));
    try {
      const draws: number[] = [];
      const tracer: Plugin = {
        name: "tracer",
        beforeReplicate: (ctx) => void draws.push(ctx.random()),
        afterReplicate: (ctx, outcome) => ctx.artifacts.write("trace.json", { status: outcome.status }),
      };
      const r = await experiment("hook-art", { source: numbers, pipeline: pipeline(summarize), plugins: [tracer], replicates: 2 }).run({ outDir, cache: false });
      expect(r.errors).toEqual([]);
      expect(r.artifacts.map((a) => [a.step, a.artifact, a.replicate])).toEqual([
        ["plugin.tracer", "trace.json", 0],
        ["plugin.tracer", "trace.json", 1],
      ]);
      expect(new Set(draws).size).toBe(2);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
