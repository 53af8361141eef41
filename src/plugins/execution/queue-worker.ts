// A queue worker: takes (condition, replicate) tasks of any run from a BullMQ queue, builds one
// task host per run (plan, cache, resources; as a parallel() worker does per run), runs the task and
// returns its outcome as the job's return value. Used by `crystallize worker` and by bundles run
// with --worker. A crash loses nothing: the job's lock expires and another worker's stalled check
// puts it back on the queue (BullMQ), up to `maxStalledCount` times.
import type { Logger } from "../../dsl/context.js";
import type { TaskSettings } from "../../dsl/plugin.js";
import { encodeValue, serializeError } from "../../runtime/error-codec.js";
import type { StepCache } from "../../runtime/services.js";
import { createTaskHost, type TaskHost } from "../../runtime/task-host.js";
import { CrystallizeError } from "../../errors.js";
import { experimentFor, type ExperimentSource } from "./queue-loader.js";
import {
  DEFAULT_QUEUE,
  QUEUE_PROTOCOL,
  SKIPPED,
  cancelKey,
  descriptorKey,
  encodeOutcome,
  logChannel,
  type LogLevel,
  type LogMessage,
  loadFailure,
  type QueueConnection,
  type RunDescriptor,
  type TaskData,
} from "./queue-protocol.js";
import { connect, loadBullMQ, ping } from "./queue-redis.js";

export type { ExperimentSource } from "./queue-loader.js";

export interface QueueWorkerOptions {
  readonly connection: QueueConnection;
  readonly queueName?: string;
  /** Tasks this worker runs at once (async steps interleave); default 1. */
  readonly concurrency?: number;
  /** This worker's own experiments (a project's runners, a bundle's experiment); else the run's module is imported. */
  readonly experiments?: ExperimentSource;
  /** A cache root for this worker instead of the run's (a per-machine cache); default: the run's. */
  readonly cacheRoot?: string;
  /** How long a task's lock lasts without renewal (ms): a dead worker's task is retried after about this long. Default 30 000. */
  readonly lockDurationMs?: number;
  /** Times a task may be put back after its worker died before it is failed (BullMQ's maxStalledCount); default 1. */
  readonly maxStalledCount?: number;
  readonly log?: Logger;
}

export interface QueueWorker {
  /** Tasks this worker finished (any run). */
  readonly processed: () => number;
  /** Stops taking tasks, lets running ones finish, closes every run's resources. */
  close(): Promise<void>;
}

interface RunHost {
  readonly host: TaskHost;
  readonly flushLogs: () => Promise<unknown>;
  /** Set by the poll of the run's cancel key (one Redis call per CANCEL_POLL_MS, not per task). */
  cancelled: boolean;
  active: number;
  idleTimer: NodeJS.Timeout | undefined;
  poll: NodeJS.Timeout | undefined;
}

/** A run's host is closed after this long without tasks (its run is most likely over). */
const HOST_IDLE_MS = 30_000;
const CANCEL_POLL_MS = 250;

const silent: Logger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  // The package entry installs the engine the experiments' modules use (as in worker-entry.ts);
  // loaded here, not at the top, because the package entry itself exports this module.
  await import("../../index.js");
  const { Worker, UnrecoverableError } = await loadBullMQ();
  const queueName = options.queueName ?? DEFAULT_QUEUE;
  const log = options.log ?? silent;
  const redis = await connect(options.connection);
  await ping(redis, options.connection);
  const hosts = new Map<string, Promise<RunHost>>();
  let processed = 0;

  /** ctx.log of a run's tasks goes to the main process (its logger), not to this console. */
  const forwardingLogger = (queue: string, run: string): { logger: Logger; flush(): Promise<unknown> } => {
    const channel = logChannel(queue, run);
    const pending = new Set<Promise<unknown>>();
    const send = (level: LogLevel, message: unknown, details: unknown[]) => {
      const text = typeof message === "string" ? message : String(message);
      let payload: string;
      try {
        payload = JSON.stringify({ level, message: text, details: details.map(encodeValue) } satisfies LogMessage);
      } catch {
        payload = JSON.stringify({ level, message: text, details: details.map((d) => String(d)) } satisfies LogMessage);
      }
      const p: Promise<unknown> = redis.publish(channel, payload).catch(() => undefined).finally(() => pending.delete(p));
      pending.add(p);
    };
    const logger: Logger = Object.freeze({
      debug: (m: string, ...d: unknown[]) => send("debug", m, d),
      info: (m: string, ...d: unknown[]) => send("info", m, d),
      warn: (m: string, ...d: unknown[]) => send("warn", m, d),
      error: (m: string, ...d: unknown[]) => send("error", m, d),
    });
    // A task's log lines are published before its outcome, so they reach the main process first.
    return { logger, flush: () => Promise.all([...pending]) };
  };

  const closeHost = async (run: string) => {
    const entry = hosts.get(run);
    hosts.delete(run);
    const h = await entry?.catch(() => undefined);
    if (!h) return;
    clearTimeout(h.idleTimer);
    clearInterval(h.poll);
    for (const e of await h.host.close()) log.warn(`closing a resource failed: ${e instanceof Error ? e.message : String(e)}`);
  };

  const openHost = async (run: string): Promise<RunHost> => {
    const text = await redis.get(descriptorKey(queueName, run));
    if (text === null) throw new CrystallizeError(`queue worker: run ${run} is over (its descriptor is gone from Redis).`, { code: "E_WORKER" });
    const descriptor = JSON.parse(text) as RunDescriptor;
    if (descriptor.protocol !== QUEUE_PROTOCOL) {
      throw new CrystallizeError(`queue worker: protocol mismatch (run ${descriptor.protocol}, worker ${QUEUE_PROTOCOL}); run the same crystallize version everywhere.`, { code: "E_WORKER" });
    }
    const exp = await experimentFor(descriptor, options.experiments);
    const settings = withCacheRoot(descriptor.settings, options.cacheRoot);
    const forward = forwardingLogger(queueName, run);
    const host = createTaskHost(exp, settings, { log: forward.logger, cache: await createCache(settings, log) });
    const h: RunHost = { host, flushLogs: forward.flush, cancelled: false, active: 0, idleTimer: undefined, poll: undefined };
    // While the run is open here, a cancel from the main process aborts ctx.signal of its running
    // tasks, and tasks taken afterwards are skipped.
    h.poll = setInterval(() => {
      void redis.exists(cancelKey(queueName, run)).then((n) => {
        if (n !== 1 || h.cancelled) return;
        h.cancelled = true;
        host.abort(new CrystallizeError("The run was cancelled.", { code: "E_CANCELLED" }));
      }, () => undefined);
    }, CANCEL_POLL_MS);
    h.poll.unref();
    return h;
  };

  const hostFor = (run: string): Promise<RunHost> => {
    let entry = hosts.get(run);
    if (!entry) {
      entry = openHost(run);
      hosts.set(run, entry);
      // A run that failed to load is forgotten at once, so a later attempt retries the load.
      entry.catch(() => hosts.delete(run));
    }
    return entry;
  };

  const workerClient = await connect(options.connection);
  const worker = new Worker<TaskData, string>(
    queueName,
    async (job) => {
      const { run, condition, replicate } = job.data;
      let h: RunHost;
      try {
        h = await hostFor(run);
      } catch (e) {
        // Every attempt would fail the same way: fail the job now, with the error for the main process.
        throw new UnrecoverableError(loadFailure(serializeError(e)));
      }
      if (h.cancelled) return SKIPPED;
      clearTimeout(h.idleTimer);
      h.active++;
      try {
        const outcome = await h.host.run({ condition, replicate });
        await h.flushLogs();
        processed++;
        return encodeOutcome(outcome);
      } finally {
        if (--h.active === 0) {
          h.idleTimer = setTimeout(() => void closeHost(run), HOST_IDLE_MS);
          h.idleTimer.unref();
        }
      }
    },
    {
      connection: workerClient,
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.lockDurationMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 1,
      // Results are read from the completion event (and by job id when an event was missed).
      removeOnComplete: { age: 3600 },
    },
  );
  worker.on("error", (e) => log.warn(`queue worker: ${e instanceof Error ? e.message : String(e)}`));
  await worker.waitUntilReady();

  return {
    processed: () => processed,
    async close() {
      await worker.close();
      await Promise.all([...hosts.keys()].map(closeHost));
      redis.disconnect();
      workerClient.disconnect();
    },
  };
}

function withCacheRoot(settings: TaskSettings, root: string | undefined): TaskSettings {
  if (root === undefined || settings.cache === false) return settings;
  return { ...settings, cache: { ...settings.cache, root } };
}

async function createCache(settings: TaskSettings, log: Logger): Promise<StepCache | undefined> {
  if (settings.cache === false) return undefined;
  const { createFileCache } = await import("../../runtime/cache/index.js");
  return createFileCache({ root: settings.cache.root, onCorrupt: settings.cache.onCorrupt, log });
}
