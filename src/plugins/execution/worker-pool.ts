// The main thread's side of parallel(): starts worker threads, waits until every one has found
// the experiment (so an unaddressable experiment fails before any task runs), hands out tasks
// by index, passes each outcome to `job.complete` (persisted and reported here, in the main
// thread), and stops the workers: gracefully at the end, promptly on cancel, at once on a fault.
//
// Warm pool: a worker that closed its run's resources in time goes back to an idle list keyed by
// what it loaded (worker entry, experiment module, execArgv), unref'd so it never keeps the process
// alive, and is terminated after `idleTimeoutMs` without a run (or when the process exits). A later
// run with the same key takes idle workers instead of starting new ones; everything per run (plan,
// settings, cache, resources, environment) is sent and built again with "begin". A worker that
// crashed, failed to load, was terminated on cancel, or belonged to a run that faulted is never reused.
import { Worker } from "node:worker_threads";
import type { Logger } from "../../dsl/context.js";
import type { ExecutionJob } from "../../dsl/plugin.js";
import type { TaskOutcome, TaskRef } from "../../dsl/records.js";
import { CrystallizeError, errorMessage } from "../../errors.js";
import { decodeValue, reviveError, serializeError } from "../../runtime/error-codec.js";
import type { RemoteRead } from "../../runtime/input-resolver.js";
import type { FromWorker, ToWorker, WorkerInit, WorkerLoad } from "./worker-protocol.js";

/** How long cancelled workers may take to finish their step and close resources before termination. */
export const CANCEL_GRACE_MS = 300;
/** How long workers may take to close their resources at the end of a run. */
export const CLOSE_TIMEOUT_MS = 10_000;
/** How long an idle warm worker waits for another run before it is terminated (default). */
export const IDLE_TIMEOUT_MS = 30_000;
/** Tasks queued per worker are sized so that about this much work hides a round trip. */
const QUEUE_BUDGET_MS = 2;
const MAX_QUEUE = 32;

type Listener = Parameters<Worker["on"]>[1];

interface Slot {
  readonly worker: Worker;
  /** Taken from the idle pool (started by an earlier run). */
  readonly warm: boolean;
  /** The worker said it may serve later runs. */
  reusable: boolean;
  /** Listeners this run attached (removed when the worker goes back to the pool). */
  readonly listeners: [string, Listener][];
  readonly index: number;
  /** Tasks sent and not yet done, by id. */
  readonly inFlight: Map<number, TaskRef>;
  ready: boolean;
  /** "close" or "cancel" was sent. */
  stopping: boolean;
  depth: number;
  meanMs: number | undefined;
  closed: boolean;
  exited: boolean;
  /** Resolves when the worker reported "closed" or exited. */
  readonly gone: Promise<void>;
  markGone(): void;
}

export interface PoolOptions {
  readonly entry: URL;
  readonly size: number;
  readonly init: WorkerInit;
  readonly log: Logger | undefined;
  /** 0: no warm pool (workers are neither taken from nor returned to it). */
  readonly idleTimeoutMs: number;
  /** Answers workers' "read-artifact" (a bound input() source's producer bytes). */
  readonly readArtifact?: (alias: string, artifact: string, condition: string, replicate: number) => Promise<RemoteRead>;
}

interface Idle {
  readonly worker: Worker;
  timer: NodeJS.Timeout | undefined;
  readonly off: () => void;
}

/** Idle warm workers by key (worker entry, module, execArgv). */
const idle = new Map<string, Idle[]>();
let started = 0;

/** Worker threads started by parallel() in this process (warm ones are reused, not counted again). */
export function workersStarted(): number {
  return started;
}

/** Idle warm workers in this process. */
export function idleWorkers(): number {
  let n = 0;
  for (const list of idle.values()) n += list.length;
  return n;
}

/** Terminates every idle warm worker now (they also go after their idle timeout, or with the process). */
export async function terminateIdleWorkers(): Promise<void> {
  const all = [...idle.values()].flat();
  idle.clear();
  await Promise.all(all.map((w) => {
    clearTimeout(w.timer);
    w.off();
    return w.worker.terminate().catch(() => undefined);
  }));
}

function keyOf(options: PoolOptions): string {
  return JSON.stringify([options.entry.href, options.init.module, process.execArgv]);
}

function takeIdle(key: string): Worker | undefined {
  const list = idle.get(key);
  const entry = list?.pop();
  if (list && list.length === 0) idle.delete(key);
  if (!entry) return undefined;
  clearTimeout(entry.timer);
  entry.off();
  entry.worker.ref();
  return entry.worker;
}

function giveIdle(key: string, worker: Worker, timeoutMs: number): void {
  const list = idle.get(key) ?? [];
  idle.set(key, list);
  const drop = () => {
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0 && idle.get(key) === list) idle.delete(key);
    entry.off();
    clearTimeout(entry.timer);
  };
  const onExit = () => drop();
  // An idle worker has no run: an error or an unexpected message (a leaked timer's failure) retires it.
  const onTrouble = () => {
    drop();
    void worker.terminate().catch(() => undefined);
  };
  const onMessage = (m: FromWorker) => {
    if (m.type === "fatal") onTrouble();
  };
  worker.on("exit", onExit);
  worker.on("error", onTrouble);
  worker.on("messageerror", onTrouble);
  worker.on("message", onMessage);
  const entry: Idle = {
    worker,
    timer: undefined,
    off: () => {
      worker.off("exit", onExit);
      worker.off("error", onTrouble);
      worker.off("messageerror", onTrouble);
      worker.off("message", onMessage);
    },
  };
  if (Number.isFinite(timeoutMs)) {
    entry.timer = setTimeout(onTrouble, timeoutMs);
    entry.timer.unref();
  }
  worker.unref();
  list.push(entry);
}

export async function runInPool(job: ExecutionJob, options: PoolOptions): Promise<void> {
  const pool = new Pool(job, options);
  try {
    await pool.run();
  } finally {
    await pool.stop();
  }
}

class Pool {
  private readonly slots: Slot[] = [];
  private next = 0;
  private readonly completions = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  private cancelled = false;
  private cancelledAt = 0;
  private dropLate = false;
  private started = false;
  private wake: () => void = () => {};
  private readonly key: string;

  constructor(
    private readonly job: ExecutionJob,
    private readonly options: PoolOptions,
  ) {
    this.key = keyOf(options);
  }

  async run(): Promise<void> {
    const { job } = this;
    const onAbort = () => this.cancel();
    job.signal.addEventListener("abort", onAbort, { once: true });
    if (job.signal.aborted) this.cancel();
    try {
      for (let i = 0; i < this.options.size; i++) this.spawn(i);
      await this.until(() => this.failure !== undefined || this.cancelled || this.slots.every((s) => s.ready));
      this.throwIfFailed();
      if (this.cancelled) return;
      this.started = true;
      for (const slot of this.slots) this.fill(slot);
      await this.until(
        () =>
          this.failure !== undefined ||
          this.slots.every((s) => s.inFlight.size === 0) && (this.cancelled || this.next >= job.tasks.length),
      );
      await this.settleCompletions();
      this.throwIfFailed();
    } finally {
      job.signal.removeEventListener("abort", onAbort);
    }
  }

  /** Stops every worker: graceful close, bounded in time; then terminate whatever is left. */
  async stop(): Promise<void> {
    const live = this.slots.filter((s) => !s.exited);
    if (this.failure === undefined) {
      for (const s of live) this.stopSlot(s, this.cancelled ? "cancel" : "close");
      const limit = this.cancelled
        ? Math.max(0, this.cancelledAt + CANCEL_GRACE_MS - performance.now())
        : CLOSE_TIMEOUT_MS;
      const timedOut = await raceTimeout(Promise.all(live.map((s) => s.gone)), limit);
      if (timedOut && !this.cancelled) {
        this.options.log?.warn(`parallel(): ${live.filter((s) => !s.closed).length} worker(s) did not close their resources within ${limit} ms; terminated them.`);
      }
    }
    this.dropLate = true;
    // Workers that closed their run in time (after a clean end or a prompt cancel) stay warm;
    // the rest (faulted, crashed, still busy after the grace period) are terminated.
    const keep = this.options.idleTimeoutMs > 0 && this.failure === undefined;
    const retire: Slot[] = [];
    for (const s of this.slots) {
      if (keep && s.closed && !s.exited && s.reusable) {
        for (const [event, listener] of s.listeners) s.worker.off(event, listener);
        giveIdle(this.key, s.worker, this.options.idleTimeoutMs);
      } else {
        retire.push(s);
      }
    }
    await Promise.all(retire.map((s) => s.worker.terminate().catch(() => undefined)));
    // Outcomes that arrived while stopping are persisted before the run goes on.
    await this.settleCompletions();
  }

  private spawn(index: number): void {
    const warm = this.options.idleTimeoutMs > 0 ? takeIdle(this.key) : undefined;
    let worker: Worker;
    if (warm) {
      worker = warm;
    } else {
      const { protocol, module, exportName, experiment } = this.options.init;
      const load: WorkerLoad = { protocol, module, experiment, ...(exportName === undefined ? {} : { exportName }) };
      // execArgv is inherited by default (a TypeScript loader such as tsx carries over; process-wide
      // flags like --expose-gc, which Worker refuses when passed explicitly, are applied already).
      worker = new Worker(this.options.entry, { workerData: load });
      started++;
    }
    let markGone: () => void = () => {};
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    const slot: Slot = {
      worker,
      warm: warm !== undefined,
      reusable: false,
      listeners: [],
      index,
      inFlight: new Map(),
      ready: false,
      stopping: false,
      depth: 2,
      meanMs: undefined,
      closed: false,
      exited: false,
      gone,
      markGone,
    };
    this.slots.push(slot);
    const on = (event: string, listener: Listener) => {
      worker.on(event, listener);
      slot.listeners.push([event, listener]);
    };
    on("message", (m: FromWorker) => this.onMessage(slot, m));
    on("error", (e: unknown) => this.fail(this.workerFault(slot, e)));
    on("messageerror", (e: unknown) => this.fail(this.workerFault(slot, e)));
    on("exit", (code: number) => {
      slot.exited = true;
      if (this.cancelled) slot.inFlight.clear();
      slot.markGone();
      if (!slot.closed && this.failure === undefined && !this.cancelled && this.active()) {
        this.fail(this.workerFault(slot, new Error(`the worker thread exited with code ${code}`)));
      }
      this.poke();
    });
    this.send(slot, { type: "begin", init: { ...this.options.init, env: envSnapshot() } });
  }

  private active(): boolean {
    return !this.started || this.next < this.job.tasks.length || this.slots.some((s) => s.inFlight.size > 0);
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    switch (m.type) {
      case "ready":
        slot.ready = true;
        slot.reusable = m.reusable;
        break;
      case "load-failed": {
        const cause = reviveError(m.error);
        this.fail(
          cause instanceof CrystallizeError && cause.code === "E_WORKER"
            ? cause
            : new CrystallizeError(`parallel(): a worker could not load the experiment: ${errorMessage(cause)}`, { code: "E_WORKER", cause }),
        );
        break;
      }
      case "done": {
        // After a fault, or once the cancel grace period is over, late outcomes are dropped.
        if (this.failure !== undefined || this.dropLate) break;
        slot.inFlight.delete(m.id);
        slot.meanMs = slot.meanMs === undefined ? m.ms : slot.meanMs * 0.7 + m.ms * 0.3;
        slot.depth = Math.max(1, Math.min(MAX_QUEUE, Math.ceil(QUEUE_BUDGET_MS / Math.max(slot.meanMs, 0.01))));
        this.track(this.job.complete(m.outcome as TaskOutcome));
        if (!this.cancelled) this.fill(slot);
        break;
      }
      case "log": {
        const log = this.options.log;
        if (log) log[m.level](m.message, ...m.details.map(decodeValue));
        break;
      }
      case "fatal":
        this.fail(this.workerFault(slot, reviveError(m.error)));
        break;
      case "read-artifact":
        this.answerRead(slot, m);
        return;
      case "closed":
        slot.closed = true;
        // Anything still listed for this worker was queued and dropped on cancel.
        slot.inFlight.clear();
        for (const e of m.errors) {
          this.options.log?.warn(`closing a resource failed in a worker: ${errorMessage(reviveError(e))}`);
        }
        slot.markGone();
        break;
    }
    this.poke();
  }

  private answerRead(slot: Slot, m: Extract<FromWorker, { type: "read-artifact" }>): void {
    const read = this.options.readArtifact;
    const answer = read
      ? read(m.alias, m.artifact, m.condition, m.replicate)
      : Promise.reject(new CrystallizeError(`parallel(): a worker asked for artifact "${m.artifact}" but this run binds no input() source`, { code: "E_WORKER" }));
    answer.then(
      (r) => {
        if (!slot.exited) this.send(slot, { type: "artifact", id: m.id, ...r });
      },
      (e: unknown) => {
        if (!slot.exited) this.send(slot, { type: "artifact", id: m.id, error: serializeError(e) });
      },
    );
  }

  private fill(slot: Slot): void {
    const { tasks } = this.job;
    while (slot.inFlight.size < slot.depth && this.next < tasks.length && this.failure === undefined && !slot.exited) {
      const id = this.next++;
      const task = tasks[id]!;
      slot.inFlight.set(id, task);
      this.send(slot, { type: "task", id, condition: task.condition, replicate: task.replicate });
    }
  }

  private cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cancelledAt = performance.now();
    // Tell workers at once: ctx.signal aborts in the running step, queued tasks are dropped.
    for (const s of this.slots) this.stopSlot(s, "cancel");
    // Whatever has not come back within the grace period is dropped (never half-persisted).
    const timer = setTimeout(() => {
      this.dropLate = true;
      for (const s of this.slots) s.inFlight.clear();
      this.poke();
    }, CANCEL_GRACE_MS);
    timer.unref?.();
    this.poke();
  }

  private stopSlot(slot: Slot, how: "close" | "cancel"): void {
    if (slot.stopping || slot.exited) return;
    slot.stopping = true;
    this.send(slot, { type: how });
  }

  private send(slot: Slot, message: ToWorker): void {
    try {
      slot.worker.postMessage(message);
    } catch (e) {
      this.fail(this.workerFault(slot, e));
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p.then(
      () => {
        this.completions.delete(tracked);
      },
      (e: unknown) => {
        this.completions.delete(tracked);
        this.fail(e);
      },
    );
    this.completions.add(tracked);
  }

  private async settleCompletions(): Promise<void> {
    while (this.completions.size > 0) await Promise.all([...this.completions]);
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = { error };
    // A fault stops everything at once; nothing more is dispatched or awaited.
    for (const s of this.slots) s.inFlight.clear();
    for (const s of this.slots) void s.worker.terminate().catch(() => undefined);
    this.poke();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }

  private workerFault(slot: Slot, cause: unknown): CrystallizeError {
    const running = [...slot.inFlight.values()].map((t) => `${t.condition} replicate ${t.replicate}`);
    return new CrystallizeError(
      `parallel(): worker ${slot.index + 1} failed${running.length ? ` while running ${running.join(", ")}` : ""}: ${errorMessage(cause)}`,
      { code: "E_WORKER", cause },
    );
  }

  private poke(): void {
    this.wake();
  }

  /** Resolves once `done()` holds, re-checked after every message or event. */
  private until(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (done()) {
          this.wake = () => {};
          resolve();
        }
      };
      this.wake = check;
      check();
    });
  }
}

function envSnapshot(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}


/** True if `p` did not settle within `ms`. */
async function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  try {
    return await Promise.race([p.then(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
