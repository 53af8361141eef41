// Host side: one sandbox child process, its limits and its watchdog.
//
// The child is plain `node` with a heap cap (--max-old-space-size), an empty environment
// (nothing of the host's secrets), and, on Linux with prlimit(1), an address-space
// limit applied as soon as the child reports ready: its size then plus twice the heap budget plus
// 256 MiB, so ArrayBuffers and other off-heap allocations are refused instead of exhausting the
// machine. Where prlimit is missing, the resident size is polled during jobs instead.
// The watchdog SIGKILLs a child whose job overruns its wall-clock budget; how a child died decides
// the reason (timeout, memory, or a crash reported as runtime-error).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { BoundedExecutionError, type SandboxFailureReason } from "../errors.js";
import type { ChildConfig, ChildMessage, JobDone, JobFailed, JobMessage, ReadyMessage } from "./protocol.js";
import { errorMessage } from "../../errors.js";

export interface ProcessSpec {
  /** Node arguments that start the child, before its configuration (see child-bundle.ts). */
  readonly launchArgs: readonly string[];
  /** Used instead when the bundle named by launchArgs has disappeared (a temp-directory cleaner). */
  readonly fallbackLaunchArgs: readonly string[];
  readonly config: ChildConfig;
  readonly memoryMb: number;
}

export type ProcessState = "starting" | "ready" | "busy" | "dead";

const PRLIMIT = ["/usr/bin/prlimit", "/bin/prlimit", "/usr/sbin/prlimit", "/sbin/prlimit"].find((p) => {
  try {
    return process.platform === "linux" && existsSync(p);
  } catch {
    return false;
  }
});

/** Whether address-space limits are enforced on this machine (prlimit on Linux). */
export const addressSpaceLimitsAvailable = PRLIMIT !== undefined;

const STDERR_KEEP = 16 * 1024;
const OOM_TEXT = /heap out of memory|Fatal process out of memory|Allocation failed|out of memory|OOM/i;
const RSS_POLL_MS = 20;
const SLACK_BYTES = 256 * 1024 * 1024;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackForExit(child: ChildProcess): void {
  live.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A host that exits (or crashes) must not leave children spinning in a guest's loop.
    process.once("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
}

interface RunningJob {
  readonly id: number;
  readonly resolve: (message: JobDone | JobFailed) => void;
  readonly reject: (error: BoundedExecutionError) => void;
  readonly timer: NodeJS.Timeout;
  readonly startedAt: number;
}

export class SandboxProcess {
  state: ProcessState = "starting";
  /** Resolves when the child is ready for jobs (limits applied); rejects if it never gets there. */
  readonly ready: Promise<void>;
  /** Milliseconds from spawn to ready, as the host saw it. */
  readyAfterMs: number | undefined;
  /** What the child reported when it became ready (boot phases, CPU time, code cache). */
  readyReport: ReadyMessage | undefined;
  readonly spawnedAt = performance.now();

  private readonly child: ChildProcess;
  private stderrTail = "";
  private killedFor: SandboxFailureReason | undefined;
  private running: RunningJob | undefined;
  private rssLimitBytes = 0;
  private rssTimer: NodeJS.Timeout | undefined;
  private readonly exited: Promise<void>;
  private onDeath: ((p: SandboxProcess) => void) | undefined;

  constructor(private readonly spec: ProcessSpec) {
    const config = Buffer.from(JSON.stringify(spec.config), "utf8").toString("base64");
    const bundle = spec.launchArgs[0] === "-e" ? spec.launchArgs[2] : undefined;
    const launch = bundle !== undefined && !existsSync(bundle) ? spec.fallbackLaunchArgs : spec.launchArgs;
    const args = [`--max-old-space-size=${spec.memoryMb}`, ...launch, config];
    this.child = spawn(process.execPath, args, {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "advanced",
      // Nothing of the host's environment (API keys, proxies, NODE_OPTIONS) reaches the child.
      env: { MALLOC_ARENA_MAX: "2" },
      windowsHide: true,
    });
    trackForExit(this.child);
    // An 'error' event without a listener would throw in the host (a failed spawn, a send to a
    // channel that just closed): record it; the exit handler reports the job's failure.
    this.child.on("error", (error) => {
      this.stderrTail = `${this.stderrTail}\n${error.message}`.slice(-STDERR_KEEP);
    });
    const stderr = this.child.stderr as Readable & { unref?: () => void };
    stderr.setEncoding("utf8");
    stderr.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_KEEP);
    });
    stderr.unref?.();
    this.setRef(false);

    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        live.delete(this.child);
        this.handleExit(code, signal);
        resolve();
      });
    });

    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: ChildMessage): void => {
        if (message.t === "ready") {
          this.child.off("message", onMessage);
          this.applyLimits(message.vmSizeKb).then(
            () => {
              if (this.state !== "starting") return reject(new Error("the sandbox process died while starting"));
              this.state = "ready";
              this.readyAfterMs = performance.now() - this.spawnedAt;
              this.readyReport = message;
              this.child.on("message", (m: ChildMessage) => this.handleMessage(m));
              resolve();
            },
            (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
          );
        } else if (message.t === "init-failed") {
          this.child.off("message", onMessage);
          reject(new Error(`the sandbox process could not start: ${message.message}`));
          this.kill();
        }
      };
      this.child.on("message", onMessage);
      this.child.once("exit", (code, signal) => {
        reject(
          new Error(
            `the sandbox process exited while starting (code ${code}, signal ${signal})` +
              (this.stderrTail ? `: ${this.stderrTail.trim().slice(-2000)}` : ""),
          ),
        );
      });
      this.child.once("error", (error) => reject(error));
    });
    this.ready.catch(() => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Called once when the process dies for any reason (the pool replaces it). */
  onExit(callback: (p: SandboxProcess) => void): void {
    this.onDeath = callback;
  }

  /** Keep the host alive only while this child is working on something. */
  setRef(on: boolean): void {
    const channel = this.child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (on) {
      this.child.ref();
      channel?.ref?.();
    } else {
      this.child.unref();
      channel?.unref?.();
    }
  }

  private async applyLimits(vmSizeKb: number): Promise<void> {
    const pid = this.child.pid;
    const budget = vmSizeKb * 1024 + 2 * this.spec.memoryMb * 1024 * 1024 + SLACK_BYTES;
    if (PRLIMIT !== undefined && pid !== undefined && vmSizeKb > 0) {
      const applied = await new Promise<boolean>((resolve) => {
        execFile(PRLIMIT, ["--pid", String(pid), `--as=${budget}`], { timeout: 5000 }, (error) => resolve(!error));
      });
      if (applied) return;
    }
    // No address-space limit: watch the resident size during jobs instead.
    this.rssLimitBytes = 2 * this.spec.memoryMb * 1024 * 1024 + 128 * 1024 * 1024;
  }

  exec(job: JobMessage, timeoutMs: number): Promise<JobDone | JobFailed> {
    if (this.state !== "ready") {
      return Promise.reject(new BoundedExecutionError("runtime-error", `the sandbox process is ${this.state}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill("timeout");
      }, timeoutMs);
      this.running = { id: job.id, resolve, reject, timer, startedAt: performance.now() };
      this.state = "busy";
      this.setRef(true);
      try {
        this.child.send(job);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === "string" && code.startsWith("ERR_IPC")) {
          // The channel is gone: the process is dying; the job fails as a crash.
          this.kill("runtime-error");
          return;
        }
        clearTimeout(timer);
        this.running = undefined;
        this.state = "ready";
        this.setRef(false);
        reject(
          new BoundedExecutionError(
            "non-serialisable-input",
            `the input cannot be sent to the sandbox (${errorMessage(error)}); ` +
              "pass plain data: objects, arrays, numbers, strings, typed arrays, Dates, Maps, Sets",
            {},
            error,
          ),
        );
        return;
      }
      if (this.rssLimitBytes > 0) this.startRssWatch();
    });
  }

  private startRssWatch(): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    const path = `/proc/${pid}/statm`;
    if (!existsSync(path)) return;
    this.rssTimer = setInterval(() => {
      try {
        const pages = Number(readFileSync(path, "utf8").split(" ")[1]);
        if (pages * 4096 > this.rssLimitBytes) this.kill("memory");
      } catch {
        // the process is gone; the exit handler reports it
      }
    }, RSS_POLL_MS);
    this.rssTimer.unref();
  }

  private finishJob(): RunningJob | undefined {
    const job = this.running;
    this.running = undefined;
    if (job) clearTimeout(job.timer);
    if (this.rssTimer) clearInterval(this.rssTimer);
    this.rssTimer = undefined;
    return job;
  }

  private handleMessage(message: ChildMessage): void {
    if (message.t !== "done") return;
    const job = this.running;
    if (!job || job.id !== message.id) return;
    this.finishJob();
    if (this.state === "busy") this.state = "ready";
    this.setRef(false);
    job.resolve(message);
  }

  /** SIGKILL the child. With a reason, the running job (if any) fails with it right away. */
  kill(reason?: SandboxFailureReason): void {
    if (this.state === "dead") return;
    if (reason !== undefined && this.killedFor === undefined) this.killedFor = reason;
    this.state = "dead";
    this.child.kill("SIGKILL");
    const job = this.finishJob();
    if (job) {
      job.reject(
        reason !== undefined
          ? this.failure(reason, null, "SIGKILL", job)
          : new BoundedExecutionError("runtime-error", "the sandbox was closed while the job ran"),
      );
    }
    this.onDeath?.(this);
    this.onDeath = undefined;
  }

  /** Kills the child and waits until it has really exited. */
  async close(): Promise<void> {
    // Keep the host alive until the exit is seen (the handle is normally unreferenced).
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.ref();
    this.kill();
    await this.exited;
  }

  private failure(reason: SandboxFailureReason, code: number | null, signal: string | null, job: RunningJob): BoundedExecutionError {
    const durationMs = performance.now() - job.startedAt;
    switch (reason) {
      case "timeout":
        return new BoundedExecutionError("timeout", "the job ran past its time limit and the sandbox process was killed", { durationMs });
      case "memory":
        return new BoundedExecutionError(
          "memory",
          `the job exceeded its memory limit (${this.spec.memoryMb} MB heap) and the sandbox process was stopped`,
          { durationMs },
        );
      default:
        return new BoundedExecutionError(
          "runtime-error",
          `the sandbox process crashed (code ${code}, signal ${signal})` +
            (this.stderrTail ? `: ${this.stderrTail.trim().slice(-1000)}` : ""),
          { durationMs },
        );
    }
  }

  private handleExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.state = "dead";
    const job = this.finishJob();
    if (job) {
      let reason: SandboxFailureReason;
      if (this.killedFor !== undefined) reason = this.killedFor;
      else if (OOM_TEXT.test(this.stderrTail) || signal === "SIGABRT" || signal === "SIGTRAP" || code === 134) reason = "memory";
      else reason = "runtime-error";
      job.reject(this.failure(reason, code, signal, job));
    }
    this.onDeath?.(this);
    this.onDeath = undefined;
  }
}
