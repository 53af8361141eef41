// Messages between the sandbox host and its child processes (over Node's IPC channel with the
// "advanced" serialisation, i.e. the structured-clone algorithm). Types only: both sides import it.
import type { SandboxFailureReason } from "../errors.js";

/** What the host tells a child when it starts it (one JSON argument on the command line). */
export interface ChildConfig {
  /** Bare module specifiers the guest may import. */
  readonly allowedImports: readonly string[];
  /** Per allowed specifier, the file holding its bundled CommonJS text (module-bundle.ts). The
   * child reads them at start and evaluates a fresh instance inside each job's compartment. */
  readonly moduleFiles: Readonly<Record<string, string>>;
  /** A file path that allowed imports are resolved from (like `require.resolve` from that file). */
  readonly resolveFrom: string;
  /** Where the child may keep V8's code cache for the SES shim; empty string disables it. */
  readonly cacheDir: string;
}

export interface JobMessage {
  readonly t: "job";
  readonly id: number;
  /** CommonJS produced by the host's prepare step (comments stripped, imports checked). */
  readonly code: string;
  readonly input: unknown;
  /** The export to call: "default" or a named export. */
  readonly entry: string;
  /** Seed of the guest's `Math.random`. */
  readonly seed: string;
  readonly maxOutputBytes: number;
}

export type HostMessage = JobMessage;

export interface ReadyMessage {
  readonly t: "ready";
  /** Virtual memory size of the child when it became ready, in KiB (Linux; 0 elsewhere). */
  readonly vmSizeKb: number;
  /** Milliseconds from process start to ready, as the child measured it. */
  readonly bootMs: number;
  readonly codeCache: "hit" | "miss" | "off";
  /** Milliseconds (since process start) at which each start-up phase ended. */
  readonly phases: { readonly imports: number; readonly ses: number; readonly lockdown: number; readonly modules: number };
  /** CPU time the child used to get ready (user + system), in milliseconds. */
  readonly cpuMs: number;
}

export interface InitFailedMessage {
  readonly t: "init-failed";
  readonly message: string;
}

export interface JobDone {
  readonly t: "done";
  readonly id: number;
  readonly ok: true;
  readonly value: unknown;
  readonly stdout: string;
  readonly durationMs: number;
}

export interface JobFailed {
  readonly t: "done";
  readonly id: number;
  readonly ok: false;
  readonly reason: SandboxFailureReason;
  readonly message: string;
  readonly guestStack?: string;
  readonly specifier?: string;
  readonly stdout: string;
  readonly durationMs: number;
}

export type ChildMessage = ReadyMessage | InitFailedMessage | JobDone | JobFailed;
