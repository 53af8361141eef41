// createSandbox: the public face of the sandbox (see docs/agentic.md for the threat model).
//
// run(code, input) = static gate on the host (prepare.ts) + a job on the process pool (pool.ts),
// whose children lock down their realm and run each job in a fresh Compartment (child.ts, job.ts).
// This process never calls lockdown().
import { existsSync, statSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CrystallizeError, ValidationError } from "../../errors.js";
import { BoundedExecutionError } from "../errors.js";
import { childLaunchArgs } from "./child-bundle.js";
import { bundleAllowedModules } from "./module-bundle.js";
import { ProcessPool, type StartupReport } from "./pool.js";
import { createPreparer, type PreparedCode } from "./prepare.js";
import { addressSpaceLimitsAvailable } from "./process.js";
import { ownBuffers } from "./own-buffers.js";

export interface SandboxOptions {
  /** Bare module specifiers guest code may import (packages resolvable from `resolveFrom`). Default none. */
  readonly allowedImports?: readonly string[];
  /** Wall-clock budget of one job, in milliseconds. Default 2000. */
  readonly timeoutMs?: number;
  /** Heap budget of a sandbox process, in MB (off-heap allocations are capped near it too). Default 128. */
  readonly memoryMb?: number;
  /** Cap on the result plus captured console output, in bytes (about the JSON length). Default 1 MiB. */
  readonly maxOutputBytes?: number;
  /** Number of sandbox processes working in parallel. Default 1. */
  readonly poolSize?: number;
  /** Keep a started, locked-down spare process to replace a killed one at once. Default true. */
  readonly warmSpare?: boolean;
  /** A file or directory allowed imports are resolved from. Default: the current directory. */
  readonly resolveFrom?: string;
  /** Path of the child entry (dist/agentic/sandbox/child.js); only needed when bundling. */
  readonly childEntry?: string;
  /** Directory for V8's code cache of the SES shim, or false to disable it. Default: a private directory under the OS temp dir. */
  readonly codeCacheDir?: string | false;
}

export interface SandboxRunOptions {
  /** Seed of the guest's Math.random (same seed, same stream). Default 0. */
  readonly seed?: number | string;
  /** Overrides the sandbox's timeoutMs for this job. */
  readonly timeoutMs?: number;
  /** The export to call with the input. Default "default". */
  readonly entry?: string;
}

export interface SandboxResult<T = unknown> {
  /** The awaited return value of the guest's default export, as plain data. */
  readonly value: T;
  /** What the guest wrote with console.log (and friends), one line per call. */
  readonly stdout: string;
  /** Time the child spent evaluating and running the guest, in milliseconds. */
  readonly durationMs: number;
}

export interface Sandbox {
  /** Runs guest code (an ES module, TypeScript allowed) whose default export is called with `input`. */
  run<T = unknown>(code: string, input?: unknown, options?: SandboxRunOptions): Promise<SandboxResult<T>>;
  /** Checks code through the static gate only (no process involved). Rejects like run() would. */
  check(code: string): Promise<{ readonly sourceHash: string; readonly imports: readonly string[] }>;
  /** Resolves when all sandbox processes have started (optional: run() waits by itself). */
  ready(): Promise<void>;
  /** Kills every sandbox process; pending jobs reject. */
  close(): Promise<void>;
  readonly limits: {
    readonly allowedImports: readonly string[];
    readonly timeoutMs: number;
    readonly memoryMb: number;
    readonly maxOutputBytes: number;
    /** Whether off-heap allocations are capped by an address-space limit on this machine. */
    readonly addressSpaceLimit: boolean;
  };
  /** Processes started so far, replacements included. */
  readonly processesStarted: number;
  /** How the recent processes started (most recent last). */
  startups(): readonly StartupReport[];
}

export const SANDBOX_DEFAULTS = Object.freeze({
  timeoutMs: 2000,
  memoryMb: 128,
  maxOutputBytes: 1024 * 1024,
  poolSize: 1,
});

/**
 * Where the child entry lives: beside this module when running from dist/, and in dist/ when this
 * module runs from its TypeScript source (vitest, tsx), since the child is always plain JavaScript.
 */
export function defaultChildEntry(hostModuleUrl: string = import.meta.url): string {
  const here = fileURLToPath(hostModuleUrl);
  if (here.endsWith(".js")) return join(dirname(here), "child.js");
  const root = resolve(dirname(here), "..", "..", "..");
  return join(root, "dist", "agentic", "sandbox", "child.js");
}

function defaultCacheDir(): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : "user";
  return join(tmpdir(), `crystallize-sandbox-${uid}`);
}

function validate(options: SandboxOptions): string[] {
  const problems: string[] = [];
  const positive = (name: string, v: unknown, min: number, integer: boolean): void => {
    if (v === undefined) return;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      problems.push(`${name} must be ${integer ? "an integer" : "a number"} >= ${min} (got ${String(v)})`);
    }
  };
  positive("timeoutMs", options.timeoutMs, 1, false);
  positive("memoryMb", options.memoryMb, 16, true);
  positive("maxOutputBytes", options.maxOutputBytes, 16, true);
  positive("poolSize", options.poolSize, 1, true);
  if (options.poolSize !== undefined && options.poolSize > 32) problems.push("poolSize must be at most 32");
  const imports = options.allowedImports ?? [];
  if (!Array.isArray(imports)) problems.push("allowedImports must be an array of module specifiers");
  else {
    for (const spec of imports as unknown[]) {
      if (typeof spec !== "string" || spec.trim() === "" || spec !== spec.trim()) {
        problems.push(`allowedImports: ${JSON.stringify(spec)} is not a module specifier`);
      } else if (spec.startsWith(".") || spec.startsWith("/") || /^[a-z]+:/i.test(spec)) {
        problems.push(`allowedImports: "${spec}" must be a bare package specifier (no relative, absolute or URL paths)`);
      } else if (isBuiltin(spec)) {
        problems.push(`allowedImports: "${spec}" is a Node built-in module; built-ins give guests the host's powers and cannot be allowed`);
      }
    }
  }
  return problems;
}

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const problems = validate(options);
  if (problems.length > 0) throw new ValidationError("createSandbox options", problems);

  const allowedImports = Object.freeze([...new Set(options.allowedImports ?? [])].sort());
  const timeoutMs = options.timeoutMs ?? SANDBOX_DEFAULTS.timeoutMs;
  const memoryMb = options.memoryMb ?? SANDBOX_DEFAULTS.memoryMb;
  const maxOutputBytes = options.maxOutputBytes ?? SANDBOX_DEFAULTS.maxOutputBytes;
  const childEntry = options.childEntry ?? defaultChildEntry();
  if (!existsSync(childEntry)) {
    throw new CrystallizeError(
      `The sandbox child entry ${childEntry} does not exist; build the package first (node scripts/build.mjs) or pass childEntry.`,
      { code: "E_SANDBOX" },
    );
  }
  let resolveFrom = resolve(options.resolveFrom ?? process.cwd());
  // createRequire wants a file: a directory resolves like a module placed inside it.
  if (!existsSync(resolveFrom) || statSync(resolveFrom).isDirectory()) {
    resolveFrom = join(resolveFrom, "__crystallize_sandbox__.js");
  }
  const cacheDir = options.codeCacheDir === false ? "" : (options.codeCacheDir ?? defaultCacheDir());

  const pool = new ProcessPool({
    size: options.poolSize ?? SANDBOX_DEFAULTS.poolSize,
    spare: options.warmSpare ?? true,
    spec: Promise.all([
      childLaunchArgs(childEntry, cacheDir),
      bundleAllowedModules(allowedImports, resolveFrom, cacheDir),
    ]).then(([launchArgs, moduleFiles]) => ({
      launchArgs,
      fallbackLaunchArgs: [childEntry],
      memoryMb,
      config: { allowedImports, resolveFrom, cacheDir, moduleFiles },
    })),
  });
  const prepare = createPreparer(allowedImports);
  let nextId = 1;
  let closed = false;

  const run = async <T>(code: string, input?: unknown, runOptions: SandboxRunOptions = {}): Promise<SandboxResult<T>> => {
    if (closed) throw new BoundedExecutionError("runtime-error", "the sandbox is closed");
    if (typeof code !== "string") throw new BoundedExecutionError("forbidden-syntax", "code must be a string");
    const budget = runOptions.timeoutMs ?? timeoutMs;
    // The gate's time counts against the job's budget: a module that is slow to compile cannot
    // hold the host longer than the job may run.
    const gateStarted = performance.now();
    const prepared: PreparedCode = await prepare(code, { timeoutMs: budget });
    const remaining = budget - (performance.now() - gateStarted);
    if (remaining <= 0) {
      throw new BoundedExecutionError("timeout", "the job's time limit ran out while the static gate compiled the module");
    }
    const reply = await pool.exec(
      {
        t: "job",
        id: nextId++,
        code: prepared.code,
        input,
        entry: runOptions.entry ?? "default",
        seed: String(runOptions.seed ?? 0),
        maxOutputBytes,
      },
      remaining,
    );
    if (reply.ok) return { value: ownBuffers(reply.value) as T, stdout: reply.stdout, durationMs: reply.durationMs };
    throw new BoundedExecutionError(reply.reason, reply.message, {
      ...(reply.stdout ? { stdout: reply.stdout } : {}),
      ...(reply.guestStack !== undefined ? { guestStack: reply.guestStack } : {}),
      ...(reply.specifier !== undefined ? { specifier: reply.specifier } : {}),
      durationMs: reply.durationMs,
    });
  };

  return {
    run,
    check: async (code) => {
      const p = await prepare(code, { timeoutMs });
      return { sourceHash: p.sourceHash, imports: p.imports };
    },
    ready: () => pool.ready(),
    close: async () => {
      closed = true;
      await pool.close();
    },
    limits: Object.freeze({
      allowedImports,
      timeoutMs,
      memoryMb,
      maxOutputBytes,
      addressSpaceLimit: addressSpaceLimitsAvailable,
    }),
    get processesStarted() {
      return pool.spawned;
    },
    startups: () => [...pool.startups],
  };
}
