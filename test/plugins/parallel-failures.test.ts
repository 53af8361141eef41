// parallel() when things go wrong: errors crossing the thread boundary, experiments workers
// cannot address, and cancellation (prompt, leaving only whole files).
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dir, out, store, useParallelDirs } from "./parallel-dirs.js";
import { experiment, parallel, pipeline, serial, source, step, treatment, type AnyExperiment, type Result } from "crystallize-ts";
import { CancelledError, CrystallizeError, PipelineExecutionError, ValidationError } from "../../src/errors.js";
import { isTempFile } from "../../src/runtime/storage/atomic-write.js";
import { requireEngine } from "../../src/dsl/engine.js";
import { originOf, withOrigin } from "../../src/dsl/origin.js";
import { idleWorkers, terminateIdleWorkers } from "../../src/plugins/execution/worker-pool.js";

const w = await import("../fixtures/parallel/workers.mjs");
const { fragile } = await import("../fixtures/parallel/import-error.mjs");
const hiddenModule = await import("../fixtures/parallel/unaddressable.mjs");

useParallelDirs();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: "utf8" })
    .map((f) => join(root, f))
    .filter((f) => statSync(f).isFile());
}

describe("errors crossing the thread boundary", () => {
  it("keep class, code, message, stack and cause (an import that throws in the worker)", async () => {
    const error = await fragile.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrystallizeError);
    expect((error as CrystallizeError).code).toBe("E_WORKER");
    expect((error as Error).message).toMatch(/a worker could not import .*import-error\.mjs: Step "load" failed: bad input/);
    const cause = (error as Error).cause as PipelineExecutionError;
    expect(cause).toBeInstanceOf(PipelineExecutionError);
    expect(cause.code).toBe("E_STEP_FAILED");
    expect(cause.step).toBe("load");
    expect(cause.name).toBe("PipelineExecutionError");
    expect(cause.message).toBe('Step "load" failed: bad input');
    expect(cause.stack).toContain("import-error.mjs");
    const root = cause.cause as TypeError & { detail: number };
    expect(root).toBeInstanceOf(TypeError);
    expect(root.message).toBe("bad input");
    expect(root.detail).toBe(42);
    expect(root.stack).toContain("import-error.mjs");
  });

  it("stop the run on a fault outside any task (an uncaught exception in a worker), naming the task", async () => {
    const started = performance.now();
    const error = await w.stray.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out() }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_900); // did not wait for the step's 2 s sleep
    expect(error).toBeInstanceOf(CrystallizeError);
    expect((error as CrystallizeError).code).toBe("E_WORKER");
    expect((error as Error).message).toMatch(/worker \d failed while running baseline replicate 1: a timer is invalid/);
    const cause = (error as Error).cause as ValidationError;
    expect(cause).toBeInstanceOf(ValidationError);
    expect(cause.code).toBe("E_VALIDATION");
    expect(cause.problems).toEqual(["it fired after its step returned"]);
    expect(cause.stack).toContain("workers.mjs");
  });
});

describe("experiments workers cannot address", () => {
  it("fail before any work when built inside a function, naming the fix", async () => {
    const progress: number[] = [];
    const error = await hiddenModule
      .makeHidden()
      .run({ execution: parallel({ workers: 2 }), cache: false, outDir: out(), progress: (p) => progress.push(p.done) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrystallizeError);
    expect((error as CrystallizeError).code).toBe("E_WORKER");
    const message = (error as Error).message;
    expect(message).toContain('experiment "hidden" is not exported by file://');
    expect(message).toContain("unaddressable.mjs");
    expect(message).toContain('export const hidden = experiment("hidden", …)');
    expect(message).toMatch(/serial\(\) or concurrent/);
    expect(progress).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("fail before any work when kept in a local variable", async () => {
    const error = await hiddenModule.getLocal().run({ execution: parallel({ workers: 1 }), cache: false, outDir: out() }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('export const localOnly = experiment("local-only", …)');
    expect(readdirSync(dir)).toEqual([]);
  });

  it("fail before any work when defined where workers cannot import it (a TypeScript test file)", async () => {
    const here = experiment("in-a-test-file", { pipeline: pipeline(step("s", (x: unknown) => x)), replicates: 2 });
    const error = await here.run({ execution: parallel({ workers: 1 }), cache: false, outDir: out() }).catch((e: unknown) => e);
    expect((error as CrystallizeError).code).toBe("E_WORKER");
    expect((error as Error).message).toMatch(/could not import file:\/\/.*parallel-failures\.test\.ts/);
    expect((error as Error).message).toContain("run under a TypeScript loader (node --import tsx)");
  });

  it("fail before any work when the run is given a modified copy of the exported experiment", async () => {
    // What the runtime does when it binds an input() source, or a graph inherits a treatment
    // function: same name, other content, which workers cannot reproduce from the module.
    const other = source("other", () => 1);
    const byFunction = [treatment("more", () => ({}))];
    for (const patch of [{ source: other }, { treatments: byFunction }]) {
      const copy = Object.freeze(withOrigin({ ...w.pooled, ...patch }, originOf(w.pooled)));
      const error = await requireEngine()
        .run(copy as unknown as AnyExperiment, { execution: parallel({ workers: 1 }), cache: false, outDir: out() })
        .catch((e: unknown) => e);
      expect((error as CrystallizeError).code).toBe("E_WORKER");
      expect((error as Error).message).toMatch(
        new RegExp(`experiment "pooled" being run is not the one workers import: its ${"source" in patch ? "source" : "treatments"} differ`),
      );
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it("run a copy whose extra treatments are static values (a graph's inherited ones) like serial()", async () => {
    const copy = Object.freeze(withOrigin({ ...w.pooled, treatments: [treatment("more", {})] }, originOf(w.pooled))) as unknown as AnyExperiment;
    const a = await requireEngine().run(copy, { execution: serial(), cache: false, outDir: out() });
    const b = await requireEngine().run(copy, { execution: parallel({ workers: 2 }), cache: false, outDir: out() });
    expect(b.conditions).toEqual(["baseline", "more"]);
    expect(JSON.stringify(b.toJSON())).toBe(JSON.stringify(a.toJSON()));
  });
});

describe("cancellation", () => {
  it("stops all workers promptly and leaves only whole files (with the artifacts plugin)", async () => {
    const root = out();
    const controller = new AbortController();
    let abortedAt = 0;
    const run = w.slow.run({
      execution: parallel({ workers: 2 }),
      cache: false,
      outDir: root,
      signal: controller.signal,
      progress: (p) => {
        if (p.done >= 3 && !controller.signal.aborted) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    const error = await run.catch((e: unknown) => e);
    const latency = performance.now() - abortedAt;
    expect(error).toBeInstanceOf(CancelledError);
    // A step takes ~40 ms; workers stop at the next step boundary (or are terminated after 300 ms).
    expect(latency).toBeLessThan(1_000);
    const partial = (error as CancelledError<Result>).partial!;
    const finished = partial.provenance.length;
    expect(finished).toBeGreaterThanOrEqual(3);
    expect(finished).toBeLessThan(16);

    await sleep(300); // nothing may appear afterwards: the workers are gone
    const files = filesUnder(root);
    expect(files.filter((f) => isTempFile(f))).toEqual([]);
    // Exactly the finished tasks are stored: each with its artifact and completion marker.
    const markers = files.filter((f) => f.endsWith(".complete.json"));
    expect(markers).toHaveLength(finished);
    const rows = files.filter((f) => f.endsWith("rows.json"));
    expect(rows).toHaveLength(finished);
    expect(partial.artifacts).toHaveLength(finished);
    // Every file is whole: JSON documents parse, and append logs (.jsonl) hold whole lines only.
    // (The registry's SQLite file is an index rebuilt from these files; log.txt is plain text.)
    for (const f of files.filter((f) => f.endsWith(".json") || f.endsWith(".jsonl"))) {
      const text = readFileSync(f, "utf8");
      const docs = f.endsWith(".jsonl") ? text.split("\n").filter((l) => l !== "") : [text];
      for (const d of docs) expect(() => JSON.parse(d), f).not.toThrow();
    }
    for (const f of rows) expect(JSON.parse(readFileSync(f, "utf8")).rows).toHaveLength(20_000);
  });

  it("terminates a worker whose step ignores the signal (and never returns it to the warm pool)", async () => {
    await terminateIdleWorkers();
    const controller = new AbortController();
    const run = w.stuck.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out(), signal: controller.signal });
    // Wait until both workers are inside the step (their heartbeat files appear).
    const deadline = performance.now() + 10_000;
    while (readdirSync(dir).filter((f) => f.startsWith("heartbeat-")).length < 2 && performance.now() < deadline) await sleep(20);
    const abortedAt = performance.now();
    controller.abort();
    const error = await run.catch((e: unknown) => e);
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(CancelledError);
    const beats = () => readdirSync(dir).map((f) => readFileSync(join(dir, f), "utf8")).join(",");
    const before = beats();
    await sleep(250);
    expect(beats()).toBe(before);
    expect(idleWorkers()).toBe(0);
  });

  it("runs nothing when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await w.pooled.run({ execution: parallel({ workers: 2 }), cache: false, outDir: out(), signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect(readdirSync(dir)).toEqual([]);
  });
});
