// Host side: a small pool of sandbox processes with a warm spare.
//
// Jobs queue until a process is ready. A process that dies (watchdog kill, memory, crash) is
// replaced at once by the warm spare, which was started and locked down ahead of time, and a new
// spare starts in the background: the pool is ready again within a message's latency instead of
// a process's cold start. Repeated start-up failures (a broken install, an allowed import that
// cannot load) mark the pool broken instead of respawning forever.
import { BoundedExecutionError } from "../errors.js";
import { SandboxProcess, type ProcessSpec } from "./process.js";
import type { JobDone, JobFailed, JobMessage } from "./protocol.js";

export interface PoolOptions {
  readonly size: number;
  /** Keep one extra process started and locked down, to replace a killed one at once. */
  readonly spare: boolean;
  /** How to start a process; a promise because the child bundle is built on first use. */
  readonly spec: Promise<ProcessSpec>;
}

interface QueuedJob {
  readonly job: JobMessage;
  readonly timeoutMs: number;
  readonly resolve: (m: JobDone | JobFailed) => void;
  readonly reject: (e: unknown) => void;
}

const MAX_CONSECUTIVE_BOOT_FAILURES = 3;

/** How one sandbox process started. */
export interface StartupReport {
  /** Spawn to ready (limits applied), as the host saw it. */
  readonly hostMs: number;
  /** Process start to ready, as the child saw it. */
  readonly childMs: number;
  /** CPU time (user + system) the child used to get ready: insensitive to machine load. */
  readonly childCpuMs: number;
  readonly codeCache: "hit" | "miss" | "off";
}

export class ProcessPool {
  private readonly workers: SandboxProcess[] = [];
  private spare: SandboxProcess | undefined;
  private readonly queue: QueuedJob[] = [];
  private closed = false;
  private broken: Error | undefined;
  private bootFailures = 0;
  /** Processes started so far (for tests and benchmarks). */
  spawned = 0;
  /** Start-ups seen, most recent last (at most 32). */
  readonly startups: StartupReport[] = [];

  private spec: ProcessSpec | undefined;
  private readonly specReady: Promise<void>;

  constructor(private readonly options: PoolOptions) {
    this.specReady = options.spec.then(
      (spec) => {
        this.spec = spec;
        if (this.closed) return;
        for (let i = 0; i < options.size; i++) this.workers.push(this.start());
        if (options.spare) this.spare = this.start();
        this.dispatch();
        this.updateRefs();
      },
      (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private start(): SandboxProcess {
    const p = new SandboxProcess(this.spec as ProcessSpec);
    this.spawned++;
    p.onExit((dead) => this.replace(dead));
    p.ready.then(
      () => {
        this.bootFailures = 0;
        const r = p.readyReport;
        this.startups.push({
          hostMs: p.readyAfterMs ?? NaN,
          childMs: r?.bootMs ?? NaN,
          childCpuMs: r?.cpuMs ?? NaN,
          codeCache: r?.codeCache ?? "off",
        });
        if (this.startups.length > 32) this.startups.shift();
        this.dispatch();
      },
      (error: Error) => {
        this.bootFailures++;
        if (this.bootFailures >= MAX_CONSECUTIVE_BOOT_FAILURES) this.fail(error);
      },
    );
    return p;
  }

  private replace(dead: SandboxProcess): void {
    if (this.closed) return;
    if (this.spare === dead) {
      this.spare = this.broken ? undefined : this.start();
      return;
    }
    const i = this.workers.indexOf(dead);
    if (i < 0) return;
    if (this.broken) {
      this.workers.splice(i, 1);
      return;
    }
    if (this.spare) {
      this.workers[i] = this.spare;
      this.spare = this.start();
    } else {
      this.workers[i] = this.start();
    }
    this.dispatch();
  }

  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    for (const q of this.queue.splice(0)) {
      q.reject(new BoundedExecutionError("runtime-error", `the sandbox cannot start: ${error.message}`, {}, error));
    }
  }

  exec(job: JobMessage, timeoutMs: number): Promise<JobDone | JobFailed> {
    if (this.closed) return Promise.reject(new BoundedExecutionError("runtime-error", "the sandbox is closed"));
    if (this.broken) {
      return Promise.reject(
        new BoundedExecutionError("runtime-error", `the sandbox cannot start: ${this.broken.message}`, {}, this.broken),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ job, timeoutMs, resolve, reject });
      this.dispatch();
      this.updateRefs();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.workers.find((w) => w.state === "ready");
      if (!worker) break;
      const next = this.queue.shift() as QueuedJob;
      worker.exec(next.job, next.timeoutMs).then(
        (m) => {
          next.resolve(m);
          this.dispatch();
          this.updateRefs();
        },
        (e: unknown) => {
          next.reject(e);
          this.dispatch();
          this.updateRefs();
        },
      );
    }
  }

  /** While jobs wait for a process to start, the starting processes keep the host alive. */
  private updateRefs(): void {
    const waiting = this.queue.length > 0;
    for (const w of this.workers) if (w.state === "starting") w.setRef(waiting);
  }

  /** Resolves when every process (and the spare) is ready. */
  async ready(): Promise<void> {
    await this.specReady;
    if (this.broken) throw this.broken;
    const all = [...this.workers, ...(this.spare ? [this.spare] : [])];
    // Someone is waiting: the starting processes keep the host alive until they are ready.
    for (const w of all) if (w.state === "starting") w.setRef(true);
    try {
      await Promise.all(all.map((w) => w.ready));
    } finally {
      for (const w of all) if (w.state === "ready" || w.state === "starting") w.setRef(false);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new BoundedExecutionError("runtime-error", "the sandbox was closed"));
    const all = [...this.workers, ...(this.spare ? [this.spare] : [])];
    this.workers.length = 0;
    this.spare = undefined;
    await Promise.all(all.map((w) => w.close()));
  }
}
