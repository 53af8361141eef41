import { describe, expect, it } from "vitest";
import { ValidationError, concurrent, experiment, logging, pipeline, seed, source, step, treatment } from "../../src/index.js";

const numbers = source("numbers", (ctx) => [ctx.random()]);
const mean = step("mean", { metrics: ["x"] }, (xs: number[], ctx) => {
  ctx.record("x", xs[0]!);
  ctx.log.info(`replicate ${ctx.replicate}`);
  return xs;
});

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (c: string) => chunks.push(c) }, text: () => chunks.join("") };
}

describe("seed()", () => {
  it("perReplicate: false gives every replicate the master seed", async () => {
    const e = experiment("seeds", { source: numbers, pipeline: pipeline(mean), replicates: 3, plugins: [seed({ seed: 5, perReplicate: false })] });
    const r = await e.run({ cache: false });
    expect(new Set(r.metrics.baseline.x).size).toBe(1);
    expect(r.seed).toBe(5);
  });
  it("an experiment's own seed and the run option take precedence over the plugin's", async () => {
    const e = experiment("seeds2", { source: numbers, pipeline: pipeline(mean), seed: 8, plugins: [seed({ seed: 5 })] });
    expect((await e.run({ cache: false })).seed).toBe(8);
    expect((await e.run({ cache: false, seed: 9 })).seed).toBe(9);
  });
  it("refuses a bad seed", () => {
    expect(() => seed({ seed: -3 })).toThrow(ValidationError);
  });
});

describe("logging()", () => {
  it("writes ctx.log at or above the level, plain lines without a TTY", async () => {
    const out = sink();
    const e = experiment("logs", { source: numbers, pipeline: pipeline(mean), replicates: 2, plugins: [logging({ level: "info", stream: out.stream, progress: true })] });
    await e.run({ cache: false });
    const text = out.text();
    expect(text).toContain("info run logs: 2 replicate(s)");
    expect(text).toContain("info replicate 1");
    expect(text).toMatch(/logs: 2\/2 tasks \(100%\)/);
    expect(text).not.toContain("\u001b[");
  });
  it("drops messages below the level", async () => {
    const out = sink();
    await experiment("quiet", { source: numbers, pipeline: pipeline(mean), plugins: [logging({ level: "warn", stream: out.stream })] }).run({ cache: false });
    expect(out.text()).toBe("");
  });
  it("draws a redrawn bar on a TTY, and honours NO_COLOR", async () => {
    const prev = process.env.NO_COLOR;
    process.env.NO_COLOR = "1";
    try {
      const out = sink(true);
      const failing = step("failing", (xs: number[], ctx) => {
        if (ctx.replicate === 0) throw new Error("x");
        return xs;
      });
      await experiment("tty", { source: numbers, pipeline: pipeline(failing), replicates: 2, plugins: [logging({ level: "silent", stream: out.stream })] }).run({ cache: false });
      expect(out.text()).toContain("\r");
      expect(out.text()).toContain("2/2, 1 failed");
      expect(out.text()).not.toMatch(/\u001b\[3\dm/);
    } finally {
      if (prev === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = prev;
    }
  });
  it("summarises failures after the run", async () => {
    const out = sink();
    const failing = step("failing", (): number[] => {
      throw new Error("always");
    });
    await experiment("fails", { source: numbers, pipeline: pipeline(failing), replicates: 7, plugins: [logging({ level: "warn", stream: out.stream })] }).run({ cache: false });
    expect(out.text()).toContain("warn baseline replicate 0 step failing");
    expect(out.text()).toContain("and 2 more failure(s)");
  });
  it("run({ progress: false }) silences the display even on a TTY; a progress callback still gets every task", async () => {
    const out = sink(true);
    const seen: number[] = [];
    const e = experiment("noprog", { source: numbers, pipeline: pipeline(mean), replicates: 3, plugins: [logging({ level: "silent", stream: out.stream })] });
    await e.run({ cache: false, progress: false });
    expect(out.text()).toBe("");
    await e.run({ cache: false, progress: (p) => seen.push(p.done) });
    expect(seen).toEqual([1, 2, 3]);
    expect(out.text()).toContain("3/3");
  });
  it("prints an Error given as a detail by its name and message, not as {}", async () => {
    const out = sink();
    const warns = step("warns", (xs: number[], ctx) => {
      ctx.log.warn("could not load", new RangeError("index 9 out of range"));
      return xs;
    });
    await experiment("errdetail", { source: numbers, pipeline: pipeline(warns), plugins: [logging({ level: "warn", stream: out.stream })] }).run({ cache: false });
    expect(out.text()).toContain("could not load RangeError: index 9 out of range");
    expect(out.text()).not.toContain("{}");
  });
  it("refuses an unknown level", () => {
    expect(() => logging({ level: "loud" as "info" })).toThrow(/level must be one of/);
  });
});

describe("concurrent()", () => {
  it("keeps at most `limit` tasks in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = step("slow", async (xs: number[]) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return xs;
    });
    const e = experiment("conc", { source: numbers, pipeline: pipeline(slow), treatments: [treatment("t", {})], replicates: 6 });
    await e.run({ cache: false, execution: concurrent({ limit: 3 }) });
    expect(peak).toBe(3);
  });
  it("refuses a bad limit", () => {
    expect(() => concurrent({ limit: 0 })).toThrow(/limit must be a positive integer/);
  });
  it("can be attached as the experiment's strategy", async () => {
    const e = experiment("conc2", { source: numbers, pipeline: pipeline(mean), replicates: 2, plugins: [concurrent({ limit: 2 })] });
    expect((await e.run({ cache: false })).run.strategy).toBe("concurrent(2)");
  });
});
