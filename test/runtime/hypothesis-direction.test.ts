// Issue 14: hypothesis ranking honours direction. With a two-sided test a p-value says "differs",
// not "better": a treatment significantly worse than the baseline must never rank above a better
// one, and the summary says which treatments are better and which are worse.
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationError, experiment, formatResult, hypothesis, pipeline, source, step, treatment } from "../../src/index.js";
import { logging } from "../../src/plugins/logging.js";
import { evaluateHypothesis, type HypothesisData } from "../../src/runtime/hypotheses.js";
import { mannWhitneyU, welchTTest } from "../../src/stats/index.js";

const series = (values: number[]) => ({ values, replicates: values.map((_, i) => i) });
/** Deterministic spread-out values around `shift`. */
const around = (shift: number, n = 20, phase = 0) => Array.from({ length: n }, (_, i) => shift + Math.sin(i * 2.3 + phase) + 0.3 * Math.cos(i * 0.7 + phase));

// "worse" moves far down (tiny two-sided p), "better" moves up a little (larger p, still significant).
const data: HypothesisData = {
  baseline: { acc: series(around(0)) },
  treatments: [
    { name: "worse", samples: { acc: series(around(-3, 20, 1)) } },
    { name: "better", samples: { acc: series(around(0.9, 20, 2)) } },
    { name: "flat", samples: { acc: series(around(0, 20, 3)) } },
  ],
};

describe("ranking with a two-sided test", () => {
  it("puts a significantly worse treatment last, although its p-value is the smallest", () => {
    const o = evaluateHypothesis({ name: "acc_up", metrics: ["acc"], test: welchTTest() }, data);
    expect(o.results.worse!.pValue).toBeLessThan(o.results.better!.pValue);
    expect(o.results.worse!.significant).toBe(true);
    expect(o.results.better!.significant).toBe(true);
    expect(o.direction).toBe("increase");
    expect(o.effects).toEqual({ worse: "worse", better: "better", flat: expect.stringMatching(/^(better|worse|same)$/) });
    expect(o.ranking[0]).toBe("better");
    expect(o.ranking.at(-1)).toBe("worse");
    // The scores stay the rank function's (the p-value): only the order uses the direction.
    expect(o.scores.worse).toBe(o.results.worse!.pValue);
  });

  it('direction: "decrease" (lower is better) turns it round', () => {
    const o = evaluateHypothesis({ name: "loss_down", metrics: ["acc"], test: welchTTest(), direction: "decrease" }, data);
    expect(o.direction).toBe("decrease");
    expect(o.effects.worse).toBe("better");
    expect(o.effects.better).toBe("worse");
    expect(o.ranking[0]).toBe("worse");
    expect(o.ranking.at(-1)).toBe("better");
  });

  it('defaults to "decrease" for alternative: "less", "increase" otherwise', () => {
    expect(evaluateHypothesis({ name: "h", metrics: ["acc"], test: welchTTest({ alternative: "less" }) }, data).direction).toBe("decrease");
    expect(evaluateHypothesis({ name: "h", metrics: ["acc"], test: welchTTest({ alternative: "greater" }) }, data).direction).toBe("increase");
    // One-sided in the better direction: ranking as before (p ascending), the worse one last.
    const greater = evaluateHypothesis({ name: "h", metrics: ["acc"], test: welchTTest({ alternative: "greater" }) }, data);
    expect(greater.ranking).toEqual(["better", "flat", "worse"]);
    expect(greater.ranking).toEqual([...greater.ranking].sort((a, b) => greater.scores[a]! - greater.scores[b]!));
    // One-sided against the stated direction: a small p means "surely lower", so worse; it is read that way.
    const against = evaluateHypothesis({ name: "h", metrics: ["acc"], test: welchTTest({ alternative: "less" }), direction: "increase" }, data);
    expect(against.ranking).toEqual(["better", "flat", "worse"]);
  });

  it("a custom rank orders within a direction tier but cannot lift a significantly worse treatment", () => {
    const o = evaluateHypothesis({ name: "h", metrics: ["acc"], test: welchTTest(), rank: (r) => r.pValue }, data);
    expect(o.ranking.at(-1)).toBe("worse");
  });

  it("with several metrics, significantly worse on one of them is worse", () => {
    const two: HypothesisData = {
      baseline: { acc: series(around(0)), cost: series(around(10)) },
      treatments: [
        { name: "cheap-but-bad", samples: { acc: series(around(-3, 20, 1)), cost: series(around(10.2, 20, 1)) } },
        { name: "good", samples: { acc: series(around(2, 20, 2)), cost: series(around(12, 20, 2)) } },
      ],
    };
    const o = evaluateHypothesis({ name: "h", metrics: ["acc", "cost"], test: welchTTest() }, two);
    expect(o.effects).toEqual({ "cheap-but-bad": "worse", good: "better" });
    expect(o.ranking).toEqual(["good", "cheap-but-bad"]);
  });

  it("law: a significantly worse treatment never ranks above a better one (Welch and Mann-Whitney)", () => {
    const sample = fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 3, maxLength: 12 });
    fc.assert(
      fc.property(fc.array(sample, { minLength: 2, maxLength: 5 }), sample, fc.boolean(), fc.constantFrom("increase", "decrease") , (ts, b, mw, direction) => {
        const d: HypothesisData = {
          baseline: { m: series(b) },
          treatments: ts.map((v, i) => ({ name: `t${i}`, samples: { m: series(v) } })),
        };
        const o = evaluateHypothesis({ name: "h", metrics: ["m"], test: mw ? mannWhitneyU() : welchTTest(), direction }, d);
        const pos = (n: string) => o.ranking.indexOf(n);
        for (const w of o.ranking.filter((n) => o.effects[n] === "worse" && o.results[n]!.significant)) {
          for (const g of o.ranking.filter((n) => o.effects[n] === "better")) expect(pos(g)).toBeLessThan(pos(w));
        }
        // The effect is the sign of the mean difference, read in the direction.
        for (const [i, v] of ts.entries()) {
          const diff = v.reduce((a, x) => a + x, 0) / v.length - b.reduce((a, x) => a + x, 0) / b.length;
          const expected = diff === 0 ? "same" : (diff > 0) === (direction === "increase") ? "better" : "worse";
          expect(o.effects[`t${i}`]).toBe(expected);
        }
      }),
      { numRuns: 80 },
    );
  });

  it("refuses a direction that is not increase or decrease", () => {
    expect(() => hypothesis("h", { metric: "m", test: welchTTest(), direction: "up" as never })).toThrow(ValidationError);
    expect(() => hypothesis("h", { metric: "m", test: welchTTest(), direction: "up" as never })).toThrow(/direction must be "increase" or "decrease"/);
  });
});

describe("in a run and its summary", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("prints better/worse per treatment with the ranking, and the direction", async () => {
    const noisy = source("noisy", (ctx) => Array.from({ length: 30 }, () => ctx.random()));
    const shift = step("shift", { params: { by: 0 }, metrics: ["acc"] }, (xs: number[], ctx) => {
      ctx.record("acc", xs.reduce((a, x) => a + x, 0) / xs.length + ctx.params.by);
      return xs;
    });
    const exp = experiment("directed", {
      source: noisy,
      pipeline: pipeline(shift),
      treatments: [treatment("hurt", { by: -1 }), treatment("help", { by: 0.2 })],
      hypotheses: [hypothesis("acc_up", { metric: "acc", test: welchTTest() })],
      replicates: 12,
      seed: 9,
    });
    const outDir = mkdtempSync(join(tmpdir(), "cry-direction-"));
    dirs.push(outDir);
    const r = await exp.run({ outDir, plugins: [logging({ level: "silent" })] });
    const h = r.hypothesis("acc_up");
    expect(h.results.hurt.significant).toBe(true);
    expect(h.results.help.significant).toBe(true);
    expect(h.results.hurt.pValue).toBeLessThan(h.results.help.pValue);
    expect(h.ranking).toEqual(["help", "hurt"]);
    expect(h.effects).toEqual({ hurt: "worse", help: "better" });
    const text = formatResult(r);
    expect(text).toContain("hypothesis acc_up (acc, higher is better): ranking help (better) > hurt (worse)");
    expect(text).toMatch(/^acc\s+hurt\s+.*\byes\s+worse$/m);
    expect(text).toMatch(/^acc\s+help\s+.*\byes\s+better$/m);
    // Stored with the run as well.
    expect((r.toJSON().hypotheses[0] as { effects?: unknown }).effects).toEqual({ hurt: "worse", help: "better" });
  });
});
