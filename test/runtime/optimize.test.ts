import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CancelledError,
  ValidationError,
  concurrent,
  experiment,
  pipeline,
  source,
  step,
  treatment,
  type Observation,
  type Optimizer,
  type Treatment,
} from "../../src/index.js";
import { gridSearch, randomSearch } from "../../src/runtime/optimizers/index.js";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cry-opt-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** loss = (x - 3)^2 + noise-free offset; score = -loss. Counts executions per condition. */
function quadratic(calls: Record<string, number> = {}) {
  const point = source("point", () => 0);
  const evaluate = step(
    "evaluate",
    { params: { x: 0, y: 0 }, metrics: ["loss", "score"] },
    (_: number, ctx) => {
      calls[ctx.condition] = (calls[ctx.condition] ?? 0) + 1;
      const loss = (ctx.params.x - 3) ** 2 + (ctx.params.y - 1) ** 2 + ctx.replicate * 0.01;
      ctx.record("loss", loss);
      ctx.record("score", -loss);
      return loss;
    },
  );
  return experiment("quadratic", { source: point, pipeline: pipeline(evaluate), replicates: 3 });
}

describe("gridSearch", () => {
  it("property: enumerates the full product exactly once, first param slowest", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom("a", "b", "c", "d"), fc.uniqueArray(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 4 }), {
          minKeys: 1,
        }),
        fc.integer({ min: 1, max: 7 }),
        (space, batch) => {
          const opt = gridSearch(space);
          const size = Object.values(space).reduce((n, l) => n * l.length, 1);
          expect(opt.size).toBe(size);
          const seen: Treatment<string, Record<string, number>>[] = [];
          for (;;) {
            const next = opt.ask(batch);
            expect(next.length).toBeLessThanOrEqual(batch);
            if (next.length === 0) break;
            seen.push(...(next as Treatment<string, Record<string, number>>[]));
          }
          expect(seen.length).toBe(size);
          const keys = seen.map((t) => JSON.stringify(t.values));
          expect(new Set(keys).size).toBe(size);
          for (const t of seen) {
            expect(Object.keys(t.values!)).toEqual(Object.keys(space));
            for (const [k, v] of Object.entries(t.values!)) expect(space[k]).toContain(v);
          }
          expect(new Set(seen.map((t) => t.name)).size).toBe(size);
        },
      ),
    );
  });

  it("orders combinations with the last param varying fastest", () => {
    const names = gridSearch({ a: [1, 2], b: ["x", "y", "z"] })
      .ask(10)
      .map((t) => `${t.name}:${t.values!.a}${t.values!.b}`);
    expect(names).toEqual(["grid_0:1x", "grid_1:1y", "grid_2:1z", "grid_3:2x", "grid_4:2y", "grid_5:2z"]);
  });

  it("rejects a search space with no values, naming the param", () => {
    expect(() => gridSearch({})).toThrow(ValidationError);
    expect(() => gridSearch({})).toThrow(/the search space is empty/);
    expect(() => gridSearch({ x: [1], y: [] })).toThrow(/param "y" has no values to try/);
    expect(() => gridSearch({ x: [1, 1] })).toThrow(/param "x" lists the value 1 twice/);
    expect(() => gridSearch({ x: 3 } as never)).toThrow(/param "x" must be an array of values/);
  });
});

describe("randomSearch", () => {
  it("draws `trials` samples from a seeded stream, inside the ranges", () => {
    const space = { x: { min: 0, max: 10 }, lr: { min: 1e-4, max: 1e-1, log: true }, k: { min: 1, max: 4, integer: true }, act: ["relu", "tanh"] };
    const a = randomSearch(space, { trials: 50, seed: 9 }).ask(100);
    const b = randomSearch(space, { trials: 50, seed: 9 }).ask(100);
    const c = randomSearch(space, { trials: 50, seed: 10 }).ask(100);
    expect(a.length).toBe(50);
    expect(a.map((t) => t.values)).toEqual(b.map((t) => t.values));
    expect(a.map((t) => t.values)).not.toEqual(c.map((t) => t.values));
    for (const t of a) {
      const v = t.values!;
      expect(v.x).toBeGreaterThanOrEqual(0);
      expect(v.x).toBeLessThan(10);
      expect(v.lr).toBeGreaterThanOrEqual(1e-4);
      expect(v.lr).toBeLessThan(1e-1);
      expect(Number.isInteger(v.k) && v.k >= 1 && v.k <= 4).toBe(true);
      expect(["relu", "tanh"]).toContain(v.act);
    }
    expect(new Set(a.map((t) => t.values!.k))).toEqual(new Set([1, 2, 3, 4]));
  });

  it("rejects empty spaces, empty ranges and bad trials, naming the thing", () => {
    expect(() => randomSearch({}, { trials: 3 })).toThrow(/the search space is empty/);
    expect(() => randomSearch({ x: [] }, { trials: 3 })).toThrow(/param "x" has no values to try/);
    expect(() => randomSearch({ x: { min: 2, max: 2 } }, { trials: 3 })).toThrow(/param "x": min \(2\) must be less than max \(2\)/);
    expect(() => randomSearch({ x: { min: 0, max: 1, log: true } }, { trials: 3 })).toThrow(/param "x": a log range needs min > 0/);
    expect(() => randomSearch({ x: { min: 0.2, max: 0.8, integer: true } }, { trials: 3 })).toThrow(/no integer lies between/);
    expect(() => randomSearch({ x: [1] }, { trials: 0 })).toThrow(/trials must be a positive integer/);
  });
});

describe("experiment.optimize()", () => {
  it("honours direction: minimize finds the lowest loss, maximize the highest score", async () => {
    const exp = quadratic();
    const space = { x: [0, 1, 2, 3, 4, 5], y: [0, 1, 2] };
    const low = await exp.optimize(gridSearch(space), { objective: { metric: "loss", direction: "minimize" }, cache: false, outDir: tmp() });
    expect(low.best!.params).toEqual({ x: 3, y: 1 });
    expect(low.best!.value).toBeCloseTo(0.01, 12); // mean of 0, 0.01, 0.02
    const high = await exp.optimize(gridSearch(space), { objective: { metric: "loss", direction: "maximize" }, cache: false, outDir: tmp() });
    expect(high.best!.params).toEqual({ x: 0, y: 0 }); // (0-3)^2 + (0-1)^2 = 10, the largest loss (ties with x=0,y=2: earliest wins)
    const score = await exp.optimize(gridSearch(space), { objective: { metric: "score", direction: "maximize" }, cache: false, outDir: tmp() });
    expect(score.best!.params).toEqual({ x: 3, y: 1 });
    expect(score.history.length).toBe(18);
    for (const h of score.history) expect(h.score).toBeCloseTo(-h.value!, 12);
  });

  it("runs the baseline once, not once per trial, and returns the full history", async () => {
    const calls: Record<string, number> = {};
    const exp = quadratic(calls);
    const trials: string[] = [];
    const r = await exp.optimize(gridSearch({ x: [1, 2, 3, 4] }), {
      objective: { metric: "loss", direction: "minimize" },
      batch: 1,
      cache: false,
      outDir: tmp(),
      onTrial: (t) => trials.push(t.treatment.name),
    });
    expect(calls.baseline).toBe(3); // replicates, once
    expect(Object.keys(calls).sort()).toEqual(["baseline", "grid_0", "grid_1", "grid_2", "grid_3"]);
    for (const t of ["grid_0", "grid_1", "grid_2", "grid_3"]) expect(calls[t]).toBe(3);
    expect(trials).toEqual(["grid_0", "grid_1", "grid_2", "grid_3"]);
    expect(r.history.map((h) => h.index)).toEqual([0, 1, 2, 3]);
    expect(r.history[0]!.metrics.loss).toHaveLength(3);
    expect(r.baseline.value).toBeCloseTo(10.01, 12); // x=0, y=0
    expect(r.baseline.metrics.loss).toHaveLength(3);
    expect(r.best!.treatment.name).toBe("grid_2");
    expect(r.objective).toEqual({ metric: "loss", direction: "minimize" });
    expect(r.replicates).toBe(3);
  });

  it("trials caps the number of evaluated treatments; results do not depend on the execution strategy", async () => {
    const exp = quadratic();
    const space = { x: [0, 1, 2, 3, 4], y: [1] };
    const serialRun = await exp.optimize(randomSearch(space, { trials: 8, seed: 1 }), {
      trials: 5,
      objective: { metric: "loss", direction: "minimize" },
      cache: false,
      outDir: tmp(),
    });
    expect(serialRun.history).toHaveLength(5);
    const concurrentRun = await exp.optimize(randomSearch(space, { trials: 8, seed: 1 }), {
      trials: 5,
      objective: { metric: "loss", direction: "minimize" },
      cache: false,
      outDir: tmp(),
      execution: concurrent({ limit: 4 }),
    });
    expect(concurrentRun.history.map((h) => [h.params, h.value])).toEqual(serialRun.history.map((h) => [h.params, h.value]));
  });

  it("drives a custom adaptive optimizer: ask/tell rounds with scores oriented by the direction", async () => {
    const told: Observation<{ x: number }>[][] = [];
    let x = 0;
    let bestSoFar: Observation<{ x: number }> | undefined;
    // Hill climbing on x: proposes one point per round.
    const climber: Optimizer<{ x: number }> = {
      kind: "optimizer",
      name: "climber",
      ask: () => [treatment(`x_${x}`, { x })],
      tell(obs) {
        told.push([...obs]);
        for (const o of obs) if (!bestSoFar || o.score < bestSoFar.score) bestSoFar = o;
        x += 1;
      },
      best: () => bestSoFar,
    };
    const r = await quadratic().optimize(climber, { trials: 6, objective: { metric: "score", direction: "maximize" }, cache: false, outDir: tmp() });
    expect(told.map((o) => o.length)).toEqual([1, 1, 1, 1, 1, 1]);
    for (const round of told) expect(round[0]!.score).toBeCloseTo(-round[0]!.value!, 12);
    expect(r.best!.params).toEqual({ x: 3 });
    await expect(quadratic().optimize({ ...climber }, { objective: { metric: "score", direction: "maximize" } })).rejects.toThrow(
      /trials is required: optimizer "climber" has no fixed size/,
    );
  });

  it("a trial whose every replicate failed has no value and is never best", async () => {
    const point = source("point", () => 0);
    const fragile = step("fragile", { params: { x: 0 }, metrics: ["loss"] }, (_: number, ctx) => {
      if (ctx.params.x === 0) throw new Error("x = 0 is not allowed");
      ctx.record("loss", ctx.params.x);
      return 0;
    });
    const exp = experiment("fragile", { source: point, pipeline: pipeline(fragile), replicates: 2 });
    const r = await exp.optimize(gridSearch({ x: [0, 5, 2] }), {
      objective: { metric: "loss", direction: "minimize" },
      cache: false,
      outDir: tmp(),
      plugins: [{ name: "logging", logger: { debug() {}, info() {}, warn() {}, error() {} } } as never],
    });
    expect(r.history[0]!.value).toBeUndefined();
    expect(r.history[0]!.score).toBe(Infinity);
    expect(r.history[0]!.errors).toHaveLength(2);
    expect(r.best!.params).toEqual({ x: 2 });
    expect(r.baseline.value).toBeUndefined();
  });

  it("rejects bad objectives, spaces that name undeclared params, and a used-up optimizer", async () => {
    const exp = quadratic();
    await expect(exp.optimize(gridSearch({ x: [1] }), { objective: { metric: "los" as never, direction: "minimize" } })).rejects.toThrow(
      /objective.metric "los" is not a metric any step declares \(declared: loss, score\)/,
    );
    await expect(exp.optimize(gridSearch({ x: [1] }), { objective: { metric: "loss", direction: "down" as never } })).rejects.toThrow(
      /objective.direction must be "minimize" or "maximize"/,
    );
    await expect(
      exp.optimize(gridSearch({ z: [1] }) as never, { objective: { metric: "loss", direction: "minimize" }, cache: false, outDir: tmp() }),
    ).rejects.toThrow(/trial "grid_0" sets "z", which no step declares as a param/);
    const used = gridSearch({ x: [1] });
    await exp.optimize(used, { objective: { metric: "loss", direction: "minimize" }, cache: false, outDir: tmp() });
    await expect(exp.optimize(used, { objective: { metric: "loss", direction: "minimize" }, cache: false, outDir: tmp() })).rejects.toThrow(
      /proposed no treatments .*create a new one/,
    );
  });

  it("cancelling rejects with CancelledError holding the trials so far", async () => {
    const controller = new AbortController();
    const r = quadratic().optimize(gridSearch({ x: [1, 2, 3, 4] }), {
      objective: { metric: "loss", direction: "minimize" },
      batch: 1,
      cache: false,
      outDir: tmp(),
      signal: controller.signal,
      onTrial: (t) => {
        if (t.index === 1) controller.abort();
      },
    });
    const err = await r.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError<{ history: unknown[] }>).partial!.history).toHaveLength(2);
  });
});
