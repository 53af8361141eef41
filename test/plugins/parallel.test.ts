// parallel({ workers }): the same results as serial(), bit for bit; hooks, resources, logging and
// progress where the docs say they are. Fixtures under test/fixtures/parallel are plain .mjs
// modules importing the built package (workers import them by file: URL; the global setup builds
// dist/). The main thread imports the same files, so both sides address the same module.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread, threadId } from "node:worker_threads";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dir, freshMarkerDir, out, store, useParallelDirs } from "./parallel-dirs.js";
import { logging, parallel, serial, type Progress } from "crystallize-ts";
import { ValidationError } from "../../src/errors.js";
import { originOf } from "../../src/dsl/origin.js";
import { idleWorkers, terminateIdleWorkers, workersStarted } from "../../src/plugins/execution/worker-pool.js";

const fixtures = fileURLToPath(new URL("../fixtures/parallel/", import.meta.url));
const { arith } = await import("../fixtures/parallel/arith.mjs");
const w = await import("../fixtures/parallel/workers.mjs");

useParallelDirs();

const json = (r: { toJSON(): unknown }) => JSON.stringify(r.toJSON());
/** arith's failing replicates would otherwise be reported on stderr after every run. */
const quiet = () => [logging({ level: "silent" })];

describe("parallel() results", () => {
  it("are byte-identical to serial() in toJSON() for any seed, replicate count and worker count", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        async (seed, replicates, workers) => {
          // No step cache here: when two tasks of one run share a cache key (jitter's offset rounds to
          // 0, as in seed 2147483636), whether the later one hits depends on whether it ran after
          // the other or beside it on another worker. Cache agreement is the next-but-one test's.
          const a = await arith.run({ plugins: quiet(), seed, replicates, execution: serial(), outDir: out(), cache: false });
          const b = await arith.run({ plugins: quiet(), seed, replicates, execution: parallel({ workers }), outDir: out(), cache: false });
          expect(b.run.strategy).toBe(`parallel(${workers})`);
          expect(json(b)).toBe(json(a));
        },
      ),
      { numRuns: 8 },
    );
  });

  it("keep failures as data: failed replicates and their messages match serial()", async () => {
    // Seed 3 with 12 replicates makes `summarize` throw in some replicates (checked below).
    const a = await arith.run({ plugins: quiet(), seed: 3, replicates: 12, execution: serial(), cache: false, outDir: out() });
    const b = await arith.run({ plugins: quiet(), seed: 3, replicates: 12, execution: parallel({ workers: 2 }), cache: false, outDir: out() });
    expect(a.errors.length).toBeGreaterThan(0);
    expect(b.errors).toEqual(a.errors.map((e) => ({ ...e, stack: expect.any(String) })));
    expect(b.errors[0]!.stack).toContain("arith.mjs");
    expect(json(b)).toBe(json(a));
  });

  it("agree with serial() when the workers' step cache serves hits", async () => {
    const cache = { root: join(store, "shared-cache") };
    const cold = await arith.run({ plugins: quiet(), seed: 5, replicates: 4, execution: serial(), outDir: out(), cache });
    const warmSerial = await arith.run({ plugins: quiet(), seed: 5, replicates: 4, execution: serial(), outDir: out(), cache });
    const warmParallel = await arith.run({ plugins: quiet(), seed: 5, replicates: 4, execution: parallel({ workers: 2 }), outDir: out(), cache });
    expect(cold.provenance.some((p) => p.steps.some((s) => s.cacheHit))).toBe(false);
    expect(warmParallel.provenance.filter((p) => p.steps[0]?.cacheHit).length).toBeGreaterThan(0);
    expect(json(warmParallel)).toBe(json(warmSerial));
  });

  it("use the address given by a compiled runner (module URL and export name)", async () => {
    const module = pathToFileURL(join(fixtures, "arith.mjs")).href;
    const a = await arith.run({ plugins: quiet(), seed: 9, replicates: 3, execution: serial(), cache: false, outDir: out() });
    const b = await arith.run({ plugins: quiet(), seed: 9, replicates: 3, execution: parallel({ workers: 2 }), cache: false, outDir: out(), address: { module, export: "arith" } });
    expect(json(b)).toBe(json(a));
    await expect(
      arith.run({ plugins: quiet(), replicates: 2, execution: parallel({ workers: 1 }), cache: false, outDir: out(), address: { module, export: "nope" } }),
    ).rejects.toThrow(/experiment "arith" is not exported by .*arith\.mjs/);
  });

  it("import a runner module that re-exports the experiment under another name", async () => {
    const module = pathToFileURL(join(fixtures, "runner.mjs")).href;
    const runner = await import("../fixtures/parallel/runner.mjs");
    const exp = runner.experiment;
    const a = await exp.run({ plugins: quiet(), seed: 4, replicates: 3, execution: serial(), cache: false, outDir: out() });
    const b = await exp.run({ plugins: quiet(), seed: 4, replicates: 3, execution: parallel({ workers: 2 }), cache: false, outDir: out(), address: { module, export: "experiment" } });
    expect(json(b)).toBe(json(a));
  });

  it("records the defining module of an experiment as its origin", () => {
    expect(originOf(arith)).toBe(pathToFileURL(join(fixtures, "arith.mjs")).href);
  });

  it("work from a script that defines and runs its experiment at the top level (workers do not run it again)", () => {
    const out = execFileSync(process.execPath, [join(fixtures, "script.mjs")], { encoding: "utf8", timeout: 60_000, cwd: store });
    expect(JSON.parse(out)).toEqual({ same: true, strategy: "parallel(2)", sums: 6 });
  });
});

describe("parallel() hooks, resources, logging and progress", () => {
  it("creates each resource once per worker per run and closes it at the end of the run", async () => {
    const r = await w.pooled.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out() });
    expect(r.errors).toEqual([]);
    const files = readdirSync(dir);
    const created = files.filter((f) => f.startsWith("created-"));
    const threads = created.map((f) => f.split("-")[1]);
    expect(created).toHaveLength(2);
    expect(new Set(threads).size).toBe(2);
    expect(threads).not.toContain(String(threadId));
    // Each instance was closed, having served all the replicates its worker ran.
    const uses = threads.map((t) => Number(readFileSync(join(dir, `closed-${t}`), "utf8")));
    expect(uses.reduce((a, b) => a + b, 0)).toBe(8);
  });

  it("runs per-replicate hooks of the experiment's plugins in the worker that runs the replicate", async () => {
    const s = await w.tagged.run({ execution: serial(), cache: false, outDir: out() });
    expect(s.metrics.baseline.thread).toEqual(Array(6).fill(threadId));
    rmSync(join(dir, "after-replicate"));
    const p = await w.tagged.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out() });
    const threads = p.metrics.baseline.thread!;
    expect(threads).toHaveLength(6);
    expect(threads).not.toContain(threadId);
    const after = readFileSync(join(dir, "after-replicate"), "utf8").trim().split("\n");
    expect(after).toHaveLength(6);
    for (const line of after) {
      const [thread, , replicate] = line.split(" ");
      expect(Number(thread)).toBe(threads[Number(replicate)]);
    }
  });

  it("refuses, before any work, a run-option plugin with per-replicate hooks (workers could not run them)", async () => {
    let ran = 0;
    const spy = { name: "spy", beforeStep: () => void ran++ };
    const error = await w.pooled.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out(), plugins: [spy] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems[0]).toMatch(/plugin "spy" has per-replicate hooks \(beforeStep\).*list it in experiment\("pooled", \{ plugins/);
    expect(ran).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith("created-"))).toEqual([]);
  });

  it("delivers ctx.log from workers to the main thread's logger, and progress to the main thread", async () => {
    const lines: string[] = [];
    const stream = { write: (s: string) => void lines.push(s), isTTY: false };
    const progress: (Progress & { main: boolean })[] = [];
    const r = await w.chatty.run({
      execution: parallel({ workers: 2 }),
      cache: false,
      outDir: out(),
      plugins: [logging({ level: "info", stream })],
      progress: (p) => progress.push({ ...p, main: isMainThread }),
    });
    expect(r.errors).toEqual([]);
    for (let i = 0; i < 5; i++) {
      const line = lines.find((l) => l.startsWith(`info hello from replicate ${i} `));
      expect(line).toBeDefined();
      expect(JSON.parse(line!.slice(line!.indexOf("{"), line!.indexOf("}") + 1)).replicate).toBe(i);
    }
    expect(lines.some((l) => l.startsWith("warn a warning with an error attached"))).toBe(true);
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5]);
    expect(progress.every((p) => p.main && p.total === 5 && p.experiment === "chatty")).toBe(true);
  });

  it("validates its options", () => {
    expect(() => parallel({ workers: 0 })).toThrow(ValidationError);
    expect(() => parallel({ workers: 1.5 })).toThrow(/workers must be a positive integer/);
    expect(() => parallel({ idleTimeoutMs: -1 })).toThrow(/idleTimeoutMs must be a number/);
    expect(parallel().name).toMatch(/^parallel\(\d+\)$/);
    expect(parallel({ workers: 3 }).kind).toBe("execution");
  });

});

describe("parallel() warm pool", () => {
  const threadsOf = (r: { metrics: { baseline: { thread?: readonly number[] } } }) => [...new Set(r.metrics.baseline.thread!)].sort();

  it("a second run takes the idle workers of the first instead of starting new ones", async () => {
    await terminateIdleWorkers();
    const before = workersStarted();
    const a = await w.tagged.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out() });
    expect(workersStarted() - before).toBe(2);
    expect(idleWorkers()).toBe(2);
    const b = await w.tagged.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out() });
    expect(workersStarted() - before).toBe(2);
    expect(threadsOf(b)).toEqual(threadsOf(a));
    // Warm workers give the same results as serial(), run after run.
    const reference = json(await arith.run({ plugins: quiet(), seed: 7, replicates: 5, execution: serial(), outDir: out() }));
    const arithBefore = workersStarted();
    for (let k = 0; k < 3; k++) {
      expect(json(await arith.run({ plugins: quiet(), seed: 7, replicates: 5, execution: parallel({ workers: 2 }), outDir: out() }))).toBe(reference);
    }
    expect(workersStarted() - arithBefore).toBeLessThanOrEqual(2);
  });

  it("creates and closes resources in every run, also on reused workers (and they see the run's environment)", async () => {
    await terminateIdleWorkers();
    const before = workersStarted();
    const threads: string[][] = [];
    for (let round = 0; round < 2; round++) {
      freshMarkerDir(); // a new folder each run: reused workers must write here
      const r = await w.pooled.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out() });
      expect(r.errors).toEqual([]);
      const created = readdirSync(dir).filter((f) => f.startsWith("created-"));
      expect(created).toHaveLength(2);
      const ts = created.map((f) => f.split("-")[1]!).sort();
      const uses = ts.map((t) => Number(readFileSync(join(dir, `closed-${t}`), "utf8")));
      expect(uses.reduce((a, b) => a + b, 0)).toBe(8);
      threads.push(ts);
    }
    expect(threads[1]).toEqual(threads[0]);
    expect(workersStarted() - before).toBe(2);
  });

  it("never reuses a worker that crashed, nor the others of a run that faulted", async () => {
    await terminateIdleWorkers();
    const a = await w.tagged.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out() });
    const error = await w.stray.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out() }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("E_WORKER");
    expect(idleWorkers()).toBe(0);
    const before = workersStarted();
    const b = await w.tagged.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out() });
    expect(workersStarted() - before).toBe(2);
    for (const t of threadsOf(b)) expect(threadsOf(a)).not.toContain(t);
  });

  it("terminates idle workers after idleTimeoutMs; idleTimeoutMs: 0 turns the pool off", async () => {
    await terminateIdleWorkers();
    await w.tagged.run({ execution: parallel({ workers: 2, idleTimeoutMs: 100 }), cache: false, outDir: out() });
    expect(idleWorkers()).toBe(2);
    const deadline = performance.now() + 5_000;
    while (idleWorkers() > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(idleWorkers()).toBe(0);
    const before = workersStarted();
    await w.tagged.run({ execution: parallel({ workers: 2, idleTimeoutMs: 0 }), cache: false, outDir: out() });
    await w.tagged.run({ execution: parallel({ workers: 2, idleTimeoutMs: 0 }), cache: false, outDir: out() });
    expect(workersStarted() - before).toBe(4);
    expect(idleWorkers()).toBe(0);
  });

  it("idle workers do not keep the process alive", () => {
    const started = performance.now();
    const out = execFileSync(process.execPath, [join(fixtures, "warm-exit.mjs")], { encoding: "utf8", timeout: 20_000, cwd: store });
    // The idle timeout is 10 minutes: the process ended with its two warm workers idle.
    expect(JSON.parse(out)).toEqual({ started: 2, idle: 2, same: true });
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});
