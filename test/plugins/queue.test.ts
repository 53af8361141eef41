// queue(): distributed execution on BullMQ against the REAL Redis at 127.0.0.1:6379 (never a
// mock) with real `crystallize worker` processes. These tests fail, not skip, without Redis.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { Queue } from "bullmq";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CancelledError, logging, queue, serial, type Progress } from "crystallize-ts";
import { REDIS_URL, freshQueueName, obliterate, requireRedis, waitFor, workers, type Workers } from "./queue-helpers.js";

const { arith } = await import("../fixtures/parallel/arith.mjs");
const { slow } = await import("../fixtures/queue/slow.mjs");

const json = (r: { toJSON(): unknown }) => JSON.stringify(r.toJSON());
const quiet = () => [logging({ level: "silent" })];

let store: string;
let runs = 0;
const out = () => join(store, `run-${++runs}`);
let name: string;
let pool: Workers;

beforeAll(requireRedis);
beforeEach(() => {
  store = mkdtempSync(join(tmpdir(), "cry-queue-store-"));
  name = freshQueueName();
  pool = workers(name, ["--lock-ms", "1000"]);
});
afterEach(async () => {
  await pool.stopAll();
  await obliterate(name);
  rmSync(store, { recursive: true, force: true });
});

describe("queue() with real Redis (127.0.0.1:6379) and 2 real worker processes", () => {
  it("gives results byte-identical to serial() in toJSON(), failures included", async () => {
    await Promise.all([pool.start(), pool.start()]);
    for (const seed of [3, 12345]) {
      const a = await arith.run({ plugins: quiet(), seed, replicates: 6, execution: serial(), outDir: out(), cache: false });
      const seen: Progress[] = [];
      const b = await arith.run({ plugins: quiet(), seed, replicates: 6, execution: queue({ connection: REDIS_URL, queueName: name }), outDir: out(), cache: false, progress: (p) => seen.push(p) });
      expect(b.run.strategy).toBe(`queue(${name})`);
      expect(json(b)).toBe(json(a));
      expect(seen.at(-1)).toMatchObject({ done: 18, total: 18 });
    }
    // arith fails some replicates for seed 3: failures are data, compared above too.
    const again = await arith.run({ plugins: quiet(), seed: 3, replicates: 12, execution: queue({ connection: REDIS_URL, queueName: name, concurrency: 3 }), outDir: out(), cache: false });
    const ref = await arith.run({ plugins: quiet(), seed: 3, replicates: 12, execution: serial(), outDir: out(), cache: false });
    expect(ref.errors.length).toBeGreaterThan(0);
    expect(json(again)).toBe(json(ref));
  });

  it("spreads tasks over both worker processes", async () => {
    const [w1, w2] = await Promise.all([pool.start([], { CRY_QUEUE_SLOW_MS: "50" }), pool.start([], { CRY_QUEUE_SLOW_MS: "50" })]);
    await slow.run({ plugins: quiet(), replicates: 6, execution: queue({ connection: REDIS_URL, queueName: name }), outDir: out(), cache: false });
    const pids = new Set(pool.markers().map((m) => Number(m.split("-")[1])));
    expect(pids).toEqual(new Set([w1.pid, w2.pid]));
  });

  it("delivers ctx.log from worker processes to the main process's logger", async () => {
    await Promise.all([pool.start(), pool.start()]);
    const lines: string[] = [];
    const stream = { write: (s: string) => void lines.push(s), isTTY: false };
    const r = await slow.run({ plugins: [logging({ level: "info", stream })], replicates: 3, execution: queue({ connection: REDIS_URL, queueName: name }), outDir: out(), cache: false });
    expect(r.errors).toEqual([]);
    for (const condition of ["baseline", "tripled"]) {
      for (let i = 0; i < 3; i++) {
        const line = lines.find((l) => l.startsWith(`info work on ${condition} replicate ${i} `));
        expect(line, lines.join("")).toBeDefined();
        expect(JSON.parse(line!.slice(line!.indexOf("{"), line!.indexOf("}") + 1))).toEqual({ replicate: i });
      }
    }
  });

  it("loses nothing when a worker is SIGKILLed mid-task: the task is retried on the other worker", async () => {
    const env = { CRY_QUEUE_SLOW_MS: "300" };
    const victim = await pool.start([], env);
    const survivor = await pool.start([], env);
    const ref = await slow.run({ plugins: quiet(), replicates: 4, execution: serial(), outDir: out(), cache: false });
    const running = slow.run({ plugins: quiet(), replicates: 4, execution: queue({ connection: REDIS_URL, queueName: name }), outDir: out(), cache: false });
    await waitFor(() => pool.markers().some((m) => m.startsWith(`work-${victim.pid}-`)), "the victim to start a task");
    const killedTask = pool.markers().find((m) => m.startsWith(`work-${victim.pid}-`))!.split("-").slice(2).join("-");
    victim.kill("SIGKILL");
    const result = await running;
    expect(json(result)).toBe(json(ref));
    expect(result.errors).toEqual([]);
    // The task the victim was running was run again by the survivor.
    expect(pool.markers()).toContain(`work-${survivor.pid}-${killedTask}`);
  });

  it("records a task that kills every worker that runs it as a failure (E_WORKER_LOST), not a hang", async () => {
    writeFileSync(join(pool.dir, "die-baseline-1"), "");
    // A supervisor, as a cluster would: dead workers are replaced (at most 4 times).
    let respawns = 0;
    const supervise = async () => {
      const child = await pool.start();
      child.once("exit", () => {
        // A replacement still starting when the test ends is killed by the cleanup: not a failure.
        if (!pool.stopping && ++respawns <= 4) supervise().catch(() => undefined);
      });
    };
    await Promise.all([supervise(), supervise()]);
    const result = await slow.run({ plugins: quiet(), replicates: 3, execution: queue({ connection: REDIS_URL, queueName: name }), outDir: out(), cache: false });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ condition: "baseline", replicate: 1, code: "E_WORKER_LOST" });
    expect(result.errors[0]!.message).toMatch(/stalled/);
    // Every other task completed normally.
    const ref = await slow.run({ plugins: quiet(), replicates: 3, execution: serial(), outDir: out(), cache: false });
    expect(result.metrics.treatments["tripled"]).toEqual(ref.metrics.treatments["tripled"]);
    expect(result.provenance.filter((p) => p.condition === "baseline" && p.steps.length > 0).map((p) => p.replicate).sort()).toEqual([0, 2]);
  }, 40_000);

  it("cancel stops the queued tasks; resume: true completes the run like serial()", async () => {
    await Promise.all([pool.start([], { CRY_QUEUE_SLOW_MS: "150" }), pool.start([], { CRY_QUEUE_SLOW_MS: "150" })]);
    const outDir = out();
    const controller = new AbortController();
    const opts = { plugins: quiet(), replicates: 10, outDir, cache: false as const };
    const cancelled = slow.run({ ...opts, execution: queue({ connection: REDIS_URL, queueName: name }), signal: controller.signal, progress: (p) => { if (p.done >= 4) controller.abort(); } });
    await expect(cancelled).rejects.toBeInstanceOf(CancelledError);
    // Nothing of the run is left waiting, and no task starts after the cancel.
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const q = new Queue(name, { connection: client });
    try {
      expect(await q.getWaitingCount()).toBe(0);
      const started = pool.markers().length;
      expect(started).toBeLessThan(20);
      await new Promise((r) => setTimeout(r, 600));
      expect(pool.markers().length).toBe(started);
    } finally {
      await q.close();
      client.disconnect();
    }
    const resumed = await slow.run({ ...opts, execution: queue({ connection: REDIS_URL, queueName: name }), resume: true });
    expect(resumed.run.resumedTasks).toBeGreaterThanOrEqual(4);
    expect(resumed.run.resumedTasks).toBeLessThan(20);
    const ref = await slow.run({ ...opts, outDir: out(), execution: serial() });
    expect(resumed.metrics).toEqual(ref.metrics);
    expect(resumed.errors).toEqual([]);
  }, 40_000);

  it("fails the run with the worker's E_WORKER error when no worker can import the experiment", async () => {
    await pool.start();
    await expect(
      arith.run({ plugins: quiet(), replicates: 1, execution: queue({ connection: REDIS_URL, queueName: name }), outDir: out(), cache: false, address: { module: "file:///nowhere/missing.mjs", export: "arith" } }),
    ).rejects.toMatchObject({ code: "E_WORKER", message: expect.stringMatching(/could not import file:\/\/\/nowhere\/missing\.mjs/) });
  });
});

describe("queue() step cache across worker processes (real Redis)", () => {
  it("a shared cache root: steps cached by one worker hit on another", async () => {
    const cache = { root: join(store, "shared-cache") };
    const first = await pool.start();
    const cold = await slow.run({ plugins: quiet(), replicates: 3, execution: queue({ connection: REDIS_URL, queueName: name }), outDir: out(), cache });
    expect(cold.provenance.some((p) => p.steps.some((s) => s.cacheHit))).toBe(false);
    first.kill("SIGTERM");
    await new Promise((r) => first.once("exit", r));
    const second = await pool.start();
    const before = pool.markers().length;
    const warm = await slow.run({ plugins: quiet(), replicates: 3, execution: queue({ connection: REDIS_URL, queueName: name }), outDir: out(), cache });
    expect(warm.provenance.every((p) => p.steps.find((s) => s.step === "work")?.cacheHit === true)).toBe(true);
    expect(pool.markers().length).toBe(before); // `work` never ran on the second worker
    const warmSerial = await slow.run({ plugins: quiet(), replicates: 3, execution: serial(), outDir: out(), cache });
    expect(json(warm)).toBe(json(warmSerial));
    expect(second.exitCode).toBe(null);
  });

  it("a per-worker cache root (--cache-root) keeps each worker's entries on its own machine", async () => {
    const mine = join(store, "worker-cache");
    await pool.start(["--cache-root", mine]);
    const runRoot = join(store, "run-cache");
    await slow.run({ plugins: quiet(), replicates: 2, execution: queue({ connection: REDIS_URL, queueName: name }), outDir: out(), cache: { root: runRoot } });
    expect(existsSync(mine) && readdirSync(mine).length > 0).toBe(true);
    expect(existsSync(runRoot) ? readdirSync(runRoot).length : 0).toBe(0);
  });
});
