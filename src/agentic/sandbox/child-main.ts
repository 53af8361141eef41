// The sandbox child process: start-up and the job loop. Two entries start it: child.ts (plain
// ES module, the fallback) and the CommonJS bundle the host builds (child-bundle.ts), which is
// faster to start. Keep the import graph small: everything here runs in every child.
//
// Start-up: load SES (through V8's code cache), lockdown() this realm, preload the whitelisted
// modules and harden them, then tell the host "ready". Each job then runs in a fresh Compartment
// (job.ts). A reply is sent from setImmediate, i.e. only once the microtask queue has drained, so
// a guest that leaves a runaway promise chain behind never gets its reply out: the host's
// watchdog kills this process and the timeout is blamed on that job, not on the next one.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { types } from "node:util";
import alea from "seedrandom/lib/alea.js";
import type { ChildConfig, ChildMessage, HostMessage, JobMessage } from "./protocol.js";
import { runJob, type JobEnvironment, type SesGlobals } from "./job.js";
import type { SesLoad } from "./ses-loader.js";

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

/** A namespace object cannot be frozen: serve a plain copy marked as an ES module, so that
 * esbuild's interop helpers pick its `default` export. */
function plainModule(value: unknown): unknown {
  if (!types.isModuleNamespaceObject(value)) return value;
  const out: Record<string, unknown> = { __esModule: true };
  for (const key of Object.keys(value as object)) out[key] = (value as Record<string, unknown>)[key];
  return out;
}

async function loadModule(requireFrom: NodeJS.Require, specifier: string): Promise<unknown> {
  try {
    // Node >= 20.19 also loads ES modules through require() and returns their namespace.
    return plainModule(requireFrom(specifier));
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_REQUIRE_ESM") throw error;
    const url = pathToFileURL(requireFrom.resolve(specifier)).href;
    return plainModule(await import(url));
  }
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

  const requireFrom = createRequire(config.resolveFrom);
  const modules = new Map<string, unknown>();
  for (const specifier of config.allowedImports) {
    modules.set(specifier, g.harden(await loadModule(requireFrom, specifier)));
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
  return { ses: g, modules, makeMath };
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
