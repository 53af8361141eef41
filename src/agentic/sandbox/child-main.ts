// The sandbox child process: start-up and the job loop. Two entries start it: child.ts (plain
// ES module, the fallback) and the CommonJS bundle the host builds (child-bundle.ts), which is
// faster to start. Keep the import graph small: everything here runs in every child.
//
// Start-up: load SES (through V8's code cache), lockdown() this realm, read the whitelisted modules'
// bundled text, then tell the host "ready". Each job then runs in a fresh Compartment
// (job.ts). A reply is sent from setImmediate, i.e. only once the microtask queue has drained, so
// a guest that leaves a runaway promise chain behind never gets its reply out: the host's
// watchdog kills this process and the timeout is blamed on that job, not on the next one.
import { readFileSync } from "node:fs";
import alea from "seedrandom/lib/alea.js";
import type { ChildConfig, ChildMessage, HostMessage, JobMessage } from "./protocol.js";
import { runJob, type JobEnvironment, type SesGlobals } from "./job.js";
import type { SesLoad } from "./ses-loader.js";
import { TextDecoder, TextEncoder } from "./text-codec.js";

/** How this child gets SES into its realm (before lockdown). */
export type SesLoader = (config: ChildConfig) => SesLoad;

const send = (message: ChildMessage): void => {
  process.send?.(message);
};


function vmSizeKb(): number {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const m = /VmSize:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function parseConfig(): ChildConfig {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error("the sandbox child needs its configuration as argv[2]");
  return JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as ChildConfig;
}

let importsDone = 0;

async function boot(loadSes: SesLoader): Promise<JobEnvironment> {
  importsDone = performance.now();
  const config = parseConfig();
  const ses = loadSes(config);
  const sesDone = performance.now();
  const g = globalThis as unknown as SesGlobals;
  g.lockdown({
    errorTaming: "safe",
    overrideTaming: "moderate",
    consoleTaming: "unsafe",
    errorTrapping: "none",
    unhandledRejectionTrapping: "none",
    stackFiltering: "concise",
    domainTaming: "unsafe",
  });
  const lockdownDone = performance.now();
  ses.persist();

  // Only the modules' text is kept here: each job evaluates its own instances (job.ts).
  const moduleSources = new Map<string, string>();
  for (const specifier of config.allowedImports) {
    const file = config.moduleFiles[specifier];
    if (file === undefined) throw new Error(`no bundle for the allowed import "${specifier}"`);
    moduleSources.set(specifier, readFileSync(file, "utf8"));
  }

  // One frozen Math per job: the standard functions plus random() from alea seeded by the job.
  const mathKeys = Object.getOwnPropertyNames(Math).filter((k) => k !== "random");
  const makeMath = (seed: string): object => {
    const rng = alea(seed);
    const m: Record<string, unknown> = {};
    for (const k of mathKeys) m[k] = (Math as unknown as Record<string, unknown>)[k];
    m.random = function random(): number {
      return rng.double();
    };
    return g.harden(m);
  };
  const makeRandom = (seed: string): (() => number) => {
    const rng = alea(seed);
    return () => rng.double();
  };
  // Atomics without waitAsync, whose callback could fire after the job settled.
  const atomics: Record<string, unknown> = {};
  for (const k of Object.getOwnPropertyNames(Atomics)) {
    if (k !== "waitAsync") atomics[k] = (Atomics as unknown as Record<string, unknown>)[k];
  }

  const modulesDone = performance.now();
  const cpu = process.cpuUsage();
  send({
    t: "ready",
    vmSizeKb: vmSizeKb(),
    bootMs: performance.now(),
    codeCache: ses.codeCache,
    phases: { imports: importsDone, ses: sesDone, lockdown: lockdownDone, modules: modulesDone },
    cpuMs: (cpu.user + cpu.system) / 1000,
  });
  return {
    ses: g,
    moduleSources,
    makeMath,
    makeRandom,
    shared: g.harden({ TextEncoder, TextDecoder, Atomics: atomics }),
  };
}

function serve(env: JobEnvironment): void {
  let busy = false;
  process.on("message", (message: HostMessage) => {
    if (message?.t !== "job" || busy) return;
    busy = true;
    const job: JobMessage = message;
    runJob(env, job).then(
      (outcome) => {
        setImmediate(() => {
          busy = false;
          try {
            send({ t: "done", id: job.id, ...outcome });
          } catch (error) {
            send({
              t: "done",
              id: job.id,
              ok: false,
              reason: "non-serialisable-result",
              message: `the result could not be sent to the host: ${(error as Error).message}`,
              stdout: "",
              durationMs: outcome.durationMs,
            });
          }
        });
      },
      (error: unknown) => {
        setImmediate(() => {
          busy = false;
          send({
            t: "done",
            id: job.id,
            ok: false,
            reason: "runtime-error",
            message: `internal sandbox error: ${String((error as { message?: unknown })?.message ?? error)}`,
            stdout: "",
            durationMs: 0,
          });
        });
      },
    );
  });
}

/** Boots the child (SES, lockdown, modules) and serves jobs until the host disconnects. */
export function startChild(loadSes: SesLoader): void {
  // Guests cannot schedule timers or I/O, but they can leave rejected promises behind; those must
  // not crash the process (Node's default) and are not the next job's business.
  process.on("unhandledRejection", () => {});
  process.on("disconnect", () => process.exit(0));
  boot(loadSes).then(serve, (error: unknown) => {
    send({ t: "init-failed", message: error instanceof Error ? error.message : String(error) });
    setImmediate(() => process.exit(1));
  });
}
