import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationError, experiment, pipeline, source, step, treatment } from "../../src/index.js";

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "cry-soundness-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const one = source("one", () => 1);

describe("ctx.has is a read", () => {
  it("a cached step that checked ctx.has is not served when the key's presence changed", async () => {
    const outDir = temp();
    const probe = step("probe", { cacheable: true }, (x: number, ctx) => (ctx.has("extra") ? x + 100 : x));
    const adds = step("adds", (x: number, ctx) => {
      ctx.add("extra", true);
      return x;
    });
    const passes = step("adds", (x: number) => x);
    const without = await experiment("has-a", { source: one, pipeline: pipeline(passes, probe) }).run({ outDir });
    expect(without.provenance[0]!.steps[1]!.cacheHit).toBe(false);
    const withKey = await experiment("has-b", { source: one, pipeline: pipeline(adds, probe) }).run({ outDir });
    const rec = withKey.provenance[0]!.steps[1]!;
    expect(rec.cacheHit).toBe(false);
    expect(rec.ctx.reads).toContain("extra");
    // Unchanged rerun: the hit is valid.
    const again = await experiment("has-b", { source: one, pipeline: pipeline(adds, probe) }).run({ outDir });
    expect(again.provenance[0]!.steps[1]!.cacheHit).toBe(true);
  });
});

describe("the stepHashes option is validated", () => {
  const exp = experiment("hashes", { source: one, pipeline: pipeline(step("s", (x: number) => x)) });
  const bad: unknown[] = [[], "abc", { s: "deadbeef" }, { s: { hash: 3 } }, { s: { hash: "" } }, { s: { hash: "h", usesRandom: "no" } }, null];
  for (const value of bad) {
    it(`rejects ${JSON.stringify(value)} with a ValidationError naming the fix`, async () => {
      const run = exp.run({ cache: false, stepHashes: value as never });
      await expect(run).rejects.toBeInstanceOf(ValidationError);
      await expect(exp.run({ cache: false, stepHashes: value as never })).rejects.toThrow(/stepHashes.*\{ hash: string, usesRandom\?: boolean \}/s);
    });
  }
  it("accepts the manifest's shape", async () => {
    const r = await exp.run({ cache: false, stepHashes: { s: { hash: "abc", usesRandom: false } } });
    expect(r.provenance[0]!.steps[0]!.stepHash).toBe("abc");
  });
});

describe("context reads are part of the key", () => {
  // usesRandom: false, as the compiler reports it for these steps: only the reads tell tasks apart.
  const hashes = { reader: { hash: "reader-hash", usesRandom: false }, setk: { hash: "setk-hash", usesRandom: false }, dial: { hash: "dial", usesRandom: false } };
  const setk = step("setk", (x: number, ctx) => {
    ctx.add("k", ctx.replicate % 2);
    return x;
  });
  const dial = step("dial", { params: { p: 1 } }, (x: number) => x);

  it("a step reading ctx.replicate, ctx.condition, ctx.seed and ctx.get fully hits on an unchanged rerun", async () => {
    const outDir = temp();
    const reader = step("reader", { cacheable: true, metrics: ["v"] }, (x: number, ctx) => {
      const v = x + ctx.replicate * 1000 + (ctx.condition === "t" ? 100 : 0) + (ctx.seed % 7) + (ctx.get<number>("k") ?? 0) * 10;
      ctx.record("v", v);
      return v;
    });
    const exp = experiment("reads-key", { source: one, pipeline: pipeline(setk, dial, reader), treatments: [treatment("t", { p: 2 })], replicates: 3 });
    const first = await exp.run({ outDir, stepHashes: hashes });
    const second = await exp.run({ outDir, stepHashes: hashes });
    const hitsOf = (r: typeof first) => r.provenance.map((t) => t.steps.find((s) => s.step === "reader")!.cacheHit);
    expect(hitsOf(first)).toEqual([false, false, false, false, false, false]);
    expect(hitsOf(second)).toEqual([true, true, true, true, true, true]);
    expect(second.metrics).toEqual(first.metrics);
  });

  it("a step reading only ctx.get keeps one entry per value seen", async () => {
    const outDir = temp();
    const reader = step("reader", { cacheable: true, metrics: ["v"] }, (x: number, ctx) => {
      ctx.record("v", x + (ctx.get<number>("k") ?? 0));
      return x;
    });
    const exp = experiment("get-key", { source: one, pipeline: pipeline(setk, reader), replicates: 4 });
    const first = await exp.run({ outDir, stepHashes: hashes });
    // Replicates 2 and 3 see the values 0 and 1 again: hits already in the first run.
    expect(first.provenance.map((t) => t.steps[1]!.cacheHit)).toEqual([false, false, true, true]);
    const second = await exp.run({ outDir, stepHashes: hashes });
    expect(second.provenance.map((t) => t.steps[1]!.cacheHit)).toEqual([true, true, true, true]);
    expect(second.metrics.baseline).toEqual({ v: [1, 2, 1, 2] });
  });

  it("a user key named like a task read ($seed, $condition, $replicate) is not mistaken for it", async () => {
    const outDir = temp();
    const reader = step("reader", { cacheable: true }, (x: number, ctx) => x + (ctx.get<number>("$seed") ?? 0) + (ctx.get<number>("$replicate") ?? 0));
    const adds = (v: number) =>
      step("setk", (x: number, ctx) => {
        ctx.add("$seed", v);
        ctx.add("$replicate", v);
        return x;
      });
    const a = await experiment("clash-a", { source: one, pipeline: pipeline(adds(1), reader), seed: 3 }).run({ outDir, stepHashes: hashes });
    const b = await experiment("clash-b", { source: one, pipeline: pipeline(adds(2), reader), seed: 3 }).run({ outDir, stepHashes: hashes });
    expect(a.provenance[0]!.steps[1]!.cacheHit).toBe(false);
    expect(b.provenance[0]!.steps[1]!.cacheHit).toBe(false);
    const again = await experiment("clash-b", { source: one, pipeline: pipeline(adds(2), reader), seed: 3 }).run({ outDir, stepHashes: hashes });
    expect(again.provenance[0]!.steps[1]!.cacheHit).toBe(true);
  });
});

describe("context reads in the key: the law", () => {
  it("every run's outputs are what a fresh run computes, and an unchanged rerun hits every task", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }), async (runs) => {
        const outDir = temp();
        for (const values of runs) {
          // Replicate r adds k = values[r]; the cached step reads it (and sometimes the replicate).
          const setk = step("setk", (x: number, ctx) => {
            ctx.add("k", values[ctx.replicate]!);
            return x;
          });
          const reader = step("reader", { cacheable: true, metrics: ["v"] }, (x: number, ctx) => {
            const k = ctx.get<number>("k")!;
            const v = x + k * 10 + (k === 3 ? ctx.replicate * 100 : 0);
            ctx.record("v", v);
            return v;
          });
          const exp = experiment("law", { source: one, pipeline: pipeline(setk, reader), replicates: values.length });
          const hashes = { reader: { hash: "law-reader", usesRandom: false }, setk: { hash: "law-setk", usesRandom: false } };
          const expected = values.map((k, r) => 1 + k * 10 + (k === 3 ? r * 100 : 0));
          const first = await exp.run({ outDir, stepHashes: hashes, plugins: [] });
          expect(first.metrics.baseline.v).toEqual(expected);
          const again = await exp.run({ outDir, stepHashes: hashes });
          expect(again.metrics.baseline.v).toEqual(expected);
          expect(again.provenance.every((t) => t.steps[1]!.cacheHit)).toBe(true);
        }
      }),
      { numRuns: 15 },
    );
  }, 60_000);
});
