// queue({ connection, queueName?, concurrency? }): (condition, replicate) tasks on a BullMQ queue
// in Redis, run by `crystallize worker` processes (or bundles run with --worker) on any machine.
// As with parallel(), nothing executable is sent: the run descriptor names the experiment and its
// module, carries the plain task settings and the experiment's shape, and a worker imports its
// own copy of the module and builds the same plan (seeds are pure, so outcomes are the same).
// Outcomes come back as job return values and are persisted and reported here, in the main
// process. A worker that dies loses its lock; BullMQ's stalled check hands the task to another
// worker; a task that kills its workers again becomes a recorded failure (E_WORKER_LOST).
import { randomUUID } from "node:crypto";
import type { ExecutionJob, ExecutionStrategy } from "../../dsl/plugin.js";
import type { TaskOutcome, TaskRef } from "../../dsl/records.js";
import { originOf } from "../../dsl/origin.js";
import { CrystallizeError, errorMessage, ValidationError } from "../../errors.js";
import { decodeValue, reviveError } from "../../runtime/error-codec.js";
import { replicateSeed } from "../../runtime/seeds.js";
import { experimentShape } from "../../runtime/task-host.js";
import {
  DEFAULT_QUEUE,
  QUEUE_PROTOCOL,
  RUN_KEY_TTL_S,
  SKIPPED,
  cancelKey,
  decodeOutcome,
  descriptorKey,
  jobIdOf,
  logChannel,
  parseLoadFailure,
  type LogMessage,
  queueError,
  type QueueConnection,
  type RunDescriptor,
  type TaskData,
} from "./queue-protocol.js";
import { connect, loadBullMQ, ping } from "./queue-redis.js";
import { checkRemotePlugins } from "./remote-plugins.js";

export type { QueueConnection } from "./queue-protocol.js";

export interface QueueOptions {
  /** Redis: a redis:// URL or { host, port, password, db }. */
  readonly connection: QueueConnection;
  /** The BullMQ queue (default "crystallize"); workers must listen on the same name. */
  readonly queueName?: string;
  /**
   * At most this many of the run's tasks are on the queue (waiting or running) at once; default:
   * all of them. A bound keeps a cancel cheap and lets several runs share the workers.
   */
  readonly concurrency?: number;
  /**
   * Times a task is tried when a worker fails it outside the task (the worker died, lost its
   * lock, or threw); default 3. Task failures (a step threw) are data and never retried.
   */
  readonly attempts?: number;
  /** How long (ms) running tasks may take to stop after a cancel before the run returns; default 2000. */
  readonly cancelGraceMs?: number;
}

/** With no event for this long, the main process asks Redis for the state of the tasks it awaits. */
const RECONCILE_MS = 2000;

export function queue(options: QueueOptions): ExecutionStrategy {
  const problems: string[] = [];
  const connection = options?.connection;
  if (typeof connection !== "string" && (connection === null || typeof connection !== "object")) {
    problems.push(`connection must be a redis:// URL or { host, port }, got ${JSON.stringify(connection)}`);
  }
  const queueName = options?.queueName ?? DEFAULT_QUEUE;
  if (typeof queueName !== "string" || queueName === "" || queueName.includes(":")) {
    problems.push(`queueName must be a non-empty string without ":", got ${JSON.stringify(options?.queueName)}`);
  }
  const concurrency = options?.concurrency ?? Infinity;
  if (concurrency !== Infinity && (!Number.isInteger(concurrency) || concurrency < 1)) {
    problems.push(`concurrency must be a positive integer, got ${JSON.stringify(options?.concurrency)}`);
  }
  const attempts = options?.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) problems.push(`attempts must be a positive integer, got ${JSON.stringify(options?.attempts)}`);
  const cancelGraceMs = options?.cancelGraceMs ?? 2000;
  if (typeof cancelGraceMs !== "number" || !(cancelGraceMs >= 0)) problems.push(`cancelGraceMs must be a number ≥ 0`);
  if (problems.length) throw new ValidationError("queue()", problems);
  return Object.freeze({
    kind: "execution" as const,
    name: `queue(${queueName})`,
    async execute(job: ExecutionJob) {
      checkRemotePlugins(job, { strategy: "queue", where: "the queue workers" });
      if (job.tasks.length === 0 || job.signal.aborted) return;
      await new QueueRun(job, { connection, queueName, concurrency, attempts, cancelGraceMs }).run();
    },
  });
}

interface Resolved {
  readonly connection: QueueConnection;
  readonly queueName: string;
  readonly concurrency: number;
  readonly attempts: number;
  readonly cancelGraceMs: number;
}

class QueueRun {
  private readonly runId: string;
  /** Task indexes enqueued and not yet settled (completed, failed, skipped or removed). */
  private readonly pending = new Set<number>();
  private next = 0;
  private failure: { error: unknown } | undefined;
  private cancelled = false;
  private dropLate = false;
  /** Completions are persisted one after another, in arrival order. */
  private persisting: Promise<void> = Promise.resolve();
  private lastEvent = performance.now();
  private wake: () => void = () => {};

  constructor(
    private readonly job: ExecutionJob,
    private readonly o: Resolved,
  ) {
    this.runId = `${job.run.id}-${randomUUID().slice(0, 8)}`.replace(/[^A-Za-z0-9_.-]/g, "_");
  }

  async run(): Promise<void> {
    const { job, o } = this;
    const { Queue, QueueEvents } = await loadBullMQ();
    const redis = await connect(o.connection);
    await ping(redis, o.connection);
    // Clients handed to BullMQ stay ours to disconnect (it only closes the ones it creates).
    const clients = [redis, await connect(o.connection), await connect(o.connection), await connect(o.connection)];
    const q = new Queue<TaskData, string>(o.queueName, { connection: clients[1]! });
    const events = new QueueEvents(o.queueName, { connection: clients[2]! });
    this.q = q;
    const onAbort = () => void this.cancel(redis, q);
    let reconcile: NodeJS.Timeout | undefined;
    try {
      await events.waitUntilReady();
      // Workers publish ctx.log here; subscribed before any task is enqueued.
      const logs = clients[3]!;
      logs.on("message", (_channel: string, text: string) => this.onLog(text));
      await logs.subscribe(logChannel(o.queueName, this.runId));
      events.on("completed", ({ jobId, returnvalue }) => this.onCompleted(jobId, returnvalue as unknown));
      events.on("failed", ({ jobId, failedReason }) => void this.onFailed(q, jobId, failedReason));
      await redis.set(descriptorKey(o.queueName, this.runId), JSON.stringify(this.descriptor()), "EX", RUN_KEY_TTL_S);
      job.signal.addEventListener("abort", onAbort, { once: true });
      if (job.signal.aborted) return;
      reconcile = setInterval(() => void this.reconcile(q), RECONCILE_MS / 2);
      await this.fill(q);
      await this.until(() => this.failure !== undefined || this.cancelled || (this.pending.size === 0 && this.next >= job.tasks.length));
      if (this.cancelled) {
        await this.until(() => this.failure !== undefined || this.pending.size === 0 || this.dropLate);
      }
      this.dropLate = true;
      await this.persisting;
      if (this.failure !== undefined) throw this.failure.error;
    } finally {
      this.dropLate = true;
      clearInterval(reconcile);
      job.signal.removeEventListener("abort", onAbort);
      // Tasks still waiting (after a fault) must not run for nobody.
      await this.removeWaiting(q).catch(() => undefined);
      // The run's finished jobs hold its outcomes (artifact bytes too): Redis need not keep them.
      await Promise.all(Array.from({ length: this.next }, (_, i) => q.remove(jobIdOf(this.runId, i)).catch(() => 0)));
      await redis.del(descriptorKey(o.queueName, this.runId)).catch(() => undefined);
      await Promise.allSettled([events.close(), q.close()]);
      for (const c of clients) c.disconnect();
      await this.persisting.catch(() => undefined);
    }
  }

  private descriptor(): RunDescriptor {
    const { job } = this;
    const address = addressOf(job);
    const ts = job.experiment.treatments;
    const staticTreatments = ts.length > 0 && ts.every((t) => t.values !== undefined && t.compute === undefined);
    return {
      protocol: QUEUE_PROTOCOL,
      experiment: job.experiment.name,
      ...(address ? { module: address.module, ...(address.export === undefined ? {} : { exportName: address.export }) } : {}),
      settings: job.settings,
      shape: experimentShape(job.experiment),
      ...(staticTreatments ? { treatments: ts.map((t) => ({ name: t.name, values: t.values as Readonly<Record<string, unknown>> })) } : {}),
    };
  }

  /** Puts tasks on the queue up to the window (all of them by default). */
  private async fill(q: import("bullmq").Queue<TaskData, string>): Promise<void> {
    const { tasks } = this.job;
    const batch: { name: string; data: TaskData; opts: Record<string, unknown> }[] = [];
    while (this.next < tasks.length && this.pending.size < this.o.concurrency && !this.cancelled && this.failure === undefined) {
      const index = this.next++;
      const t = tasks[index]!;
      this.pending.add(index);
      batch.push({
        name: `${t.condition}#${t.replicate}`,
        data: { run: this.runId, index, condition: t.condition, replicate: t.replicate },
        opts: {
          jobId: jobIdOf(this.runId, index),
          attempts: this.o.attempts,
          backoff: { type: "fixed", delay: 100 },
          removeOnComplete: { age: 3600 },
          removeOnFail: { age: 24 * 3600 },
        },
      });
    }
    if (batch.length === 0) return;
    try {
      await q.addBulk(batch);
    } catch (e) {
      this.fail(queueError(`queue(): could not enqueue tasks: ${errorMessage(e)}`, e));
    }
  }

  private indexOf(jobId: string): number | undefined {
    const prefix = `${this.runId}-`;
    if (!jobId.startsWith(prefix)) return undefined;
    const index = Number(jobId.slice(prefix.length));
    return this.pending.has(index) ? index : undefined;
  }

  private onLog(text: string): void {
    const log = this.job.log;
    if (!log) return;
    try {
      const m = JSON.parse(text) as LogMessage;
      if (m.level === "debug" || m.level === "info" || m.level === "warn" || m.level === "error") log[m.level](m.message, ...m.details.map(decodeValue));
    } catch {
      // A malformed message is dropped: logs are best effort.
    }
  }

  private onCompleted(jobId: string, value: unknown): void {
    const index = this.indexOf(jobId);
    if (index === undefined) return;
    this.lastEvent = performance.now();
    this.settle(index, value === SKIPPED || typeof value !== "string" ? undefined : value);
  }

  private async onFailed(q: import("bullmq").Queue<TaskData, string>, jobId: string, reason: string): Promise<void> {
    const index = this.indexOf(jobId);
    if (index === undefined) return;
    this.lastEvent = performance.now();
    const wire = parseLoadFailure(reason);
    if (wire) {
      const cause = reviveError(wire);
      this.fail(cause instanceof CrystallizeError && (cause.code === "E_WORKER" || cause.code === "E_QUEUE")
        ? cause
        : queueError(`queue(): a worker could not load experiment "${this.job.experiment.name}": ${errorMessage(cause)}`, cause));
      return;
    }
    const attempts = await q.getJob(jobId).then((j) => j?.attemptsMade, () => undefined);
    this.settleFailed(index, reason, attempts);
  }

  /** A task its workers could not finish (they died, or threw outside the task): a recorded failure. */
  private settleFailed(index: number, reason: string, attempts: number | undefined): void {
    const task = this.job.tasks[index]!;
    const lost = /stalled/i.test(reason);
    this.settle(index, lostOutcome(this.job, task, lost ? "E_WORKER_LOST" : "E_QUEUE",
      `Task ${task.condition} replicate ${task.replicate} failed on queue "${this.o.queueName}"` +
        `${attempts ? ` after ${attempts} attempt${attempts > 1 ? "s" : ""}` : ""}: ${reason}` +
        (lost ? " (its worker died or lost its lock every time it ran this task)" : "")));
  }

  private settle(index: number, outcome: string | TaskOutcome | undefined): void {
    if (!this.pending.delete(index)) return;
    if (outcome !== undefined && !this.dropLate && this.failure === undefined) {
      const value = typeof outcome === "string" ? decodeOutcome(outcome) : outcome;
      this.persisting = this.persisting.then(() => this.job.complete(value)).catch((e: unknown) => this.fail(e));
    }
    if (!this.cancelled) void this.fillFrom();
    this.wake();
  }

  private q: import("bullmq").Queue<TaskData, string> | undefined;
  private async fillFrom(): Promise<void> {
    if (this.q && this.o.concurrency !== Infinity) await this.fill(this.q);
  }

  /** Missed events (a reconnect) must not hang the run: look up awaited tasks when it is quiet. */
  private async reconcile(q: import("bullmq").Queue<TaskData, string>): Promise<void> {
    if (performance.now() - this.lastEvent < RECONCILE_MS || this.pending.size === 0) return;
    this.lastEvent = performance.now();
    for (const index of [...this.pending]) {
      const id = jobIdOf(this.runId, index);
      const j = await q.getJob(id).catch(() => undefined);
      if (!j) continue;
      const state = await j.getState().catch(() => "unknown");
      if (state === "completed") this.onCompleted(id, j.returnvalue);
      else if (state === "failed") await this.onFailed(q, id, j.failedReason);
    }
  }

  /** Cancel: workers see the cancel key (running steps get ctx.signal aborted), waiting tasks are removed. */
  private async cancel(redis: import("ioredis").Redis, q: import("bullmq").Queue<TaskData, string>): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    const timer = setTimeout(() => {
      this.dropLate = true;
      this.wake();
    }, this.o.cancelGraceMs);
    timer.unref();
    try {
      await redis.set(cancelKey(this.o.queueName, this.runId), "1", "EX", RUN_KEY_TTL_S);
      await this.removeWaiting(q);
    } catch (e) {
      this.job.log?.warn(`queue(): cancelling the queued tasks failed: ${errorMessage(e)}`);
    }
    this.wake();
  }

  /** Removes the run's tasks no worker has taken; running ones (locked) stay and finish or stop. */
  private async removeWaiting(q: import("bullmq").Queue<TaskData, string>): Promise<void> {
    for (const index of [...this.pending]) {
      const removed = await q.remove(jobIdOf(this.runId, index)).catch(() => 0);
      if (removed === 1) this.pending.delete(index);
    }
    this.wake();
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = { error };
    this.wake();
  }

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

function lostOutcome(job: ExecutionJob, task: TaskRef, code: string, message: string): TaskOutcome {
  return {
    condition: task.condition,
    replicate: task.replicate,
    status: "failed",
    seed: replicateSeed(job.settings.seed, task.replicate, job.settings.perReplicateSeed),
    metrics: {},
    provenance: [],
    artifacts: [],
    error: { condition: task.condition, replicate: task.replicate, phase: "worker", code, name: "CrystallizeError", message, stack: `CrystallizeError: ${message}` },
  };
}

/** The module workers may import when they have no project or bundle of their own. */
function addressOf(job: ExecutionJob): { module: string; export?: string } | undefined {
  if (job.address) return { module: job.address.module, export: job.address.export };
  const origin = originOf(job.experiment);
  return origin === undefined ? undefined : { module: origin };
}


