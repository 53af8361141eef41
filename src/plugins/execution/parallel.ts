// parallel({ workers }): replicates on worker threads, identical to serial() for the same seed.
// Nothing is serialised: a worker imports the experiment's module (the compiled runner's address
// when the run has one, else the module that called experiment()), finds the experiment, builds
// the same plan from plain settings, and runs (condition, replicate) tasks by index. Outcomes come
// back as plain data and are persisted and reported here, in the main thread.
//
// Where hooks run: init, beforeRun and afterRun in the main thread (once per run); beforeReplicate,
// beforeStep, afterStep and afterReplicate in the worker that runs the replicate, on the instance
// of the plugin the worker's import of the module created. See docs/execution.md.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ExecutionJob, ExecutionStrategy, ExperimentAddress } from "../../dsl/plugin.js";
import { originOf } from "../../dsl/origin.js";
import { CrystallizeError, ValidationError } from "../../errors.js";
import { inputBindingOf, readForRemote, type InputBinding } from "../../runtime/input-resolver.js";
import { compiledRunnerOf } from "../../runtime/manifest-lookup.js";
import { experimentShape } from "../../runtime/task-host.js";
import { IDLE_TIMEOUT_MS, runInPool } from "./worker-pool.js";
import { checkRemotePlugins } from "./remote-plugins.js";
import { PROTOCOL_VERSION, type ProducerInfo, type WorkerInit } from "./worker-protocol.js";

/** Revive your own error classes (thrown in workers) as themselves in the main thread. */
export { registerErrorClass } from "../../runtime/error-codec.js";

export interface ParallelOptions {
  /** Worker threads; default: the number of cores (`os.availableParallelism()`). */
  readonly workers?: number;
  /**
   * The worker entry module (advanced: a bundle that inlines Crystallize ships its own). Default:
   * `worker-entry.js` next to this module in dist/.
   */
  readonly workerEntry?: string | URL;
  /**
   * Warm pool: after a run, its workers wait this long (ms) for another parallel() run of the same
   * module before they are terminated; they never keep the process alive. Default 30 000;
   * 0 turns the warm pool off (every run starts and terminates its own workers).
   */
  readonly idleTimeoutMs?: number;
}


export function parallel(options: ParallelOptions = {}): ExecutionStrategy {
  const workers = options?.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) {
    throw new ValidationError("parallel()", [`workers must be a positive integer, got ${JSON.stringify(options?.workers)}`]);
  }
  const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  if (typeof idleTimeoutMs !== "number" || Number.isNaN(idleTimeoutMs) || idleTimeoutMs < 0) {
    throw new ValidationError("parallel()", [`idleTimeoutMs must be a number ≥ 0 (or Infinity), got ${JSON.stringify(options.idleTimeoutMs)}`]);
  }
  // Resolved per run, not here: a bundle announces itself as the entry (BUNDLE_ENTRY) only after
  // the experiment's module (which calls parallel()) has been evaluated.
  const entryOf = (): URL => (options.workerEntry === undefined ? defaultEntry() : toUrl(options.workerEntry));
  return Object.freeze({
    kind: "execution" as const,
    name: `parallel(${workers})`,
    async execute(job: ExecutionJob) {
      if ((globalThis as Record<symbol, unknown>)[Symbol.for("crystallize.worker")] === true) {
        throw new CrystallizeError(
          `parallel(): experiment "${job.experiment.name}" was run with parallel() inside a parallel worker. ` +
            `A module that workers import must not run experiments when imported; move the run() call to another module.`,
          { code: "E_WORKER" },
        );
      }
      const address = addressOf(job);
      checkRemotePlugins(job, { strategy: "parallel", where: "the worker threads", why: " so workers create it when they import the module" });
      if (job.tasks.length === 0 || job.signal.aborted) return;
      const binding = inputBindingOf(job.experiment.source);
      const init: WorkerInit = {
        protocol: PROTOCOL_VERSION,
        module: address.module,
        ...(address.export === undefined ? {} : { exportName: address.export }),
        experiment: job.experiment.name,
        ...(address.noRunner === undefined ? {} : { noRunner: address.noRunner }),
        settings: job.settings,
        shape: experimentShape(job.experiment),
        ...staticTreatments(job),
        ...(binding ? { inputs: producerInfos(binding) } : {}),
      };
      await runInPool(job, {
        entry: entryOf(),
        size: Math.min(workers, job.tasks.length),
        init,
        log: job.log,
        idleTimeoutMs,
        ...(binding ? { readArtifact: (alias, artifact, condition, replicate) => readForRemote(binding.producers.get(alias)!, artifact, condition, replicate) } : {}),
      });
    },
  });
}

/**
 * Where workers import the experiment from: the run's address (a compiled runner passes its own),
 * else the compiled runner of a fresh project manifest (plain JavaScript, the same code: so a
 * TypeScript module run under vitest or tsx works without a loader in the workers), else the
 * module that defined the experiment (with why no runner was used, for the error's advice).
 */
function addressOf(job: ExecutionJob): { module: string; export?: string; noRunner?: string } {
  const given: ExperimentAddress | undefined = job.address;
  if (given) {
    const module = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(given.module) && !/^[A-Za-z]:[\\/]/.test(given.module)
      ? given.module
      : toUrl(given.module).href;
    return { module, export: given.export };
  }
  const origin = originOf(job.experiment);
  if (origin === undefined) {
    throw new CrystallizeError(
      `parallel(): cannot tell which module defines experiment "${job.experiment.name}" (it was not created by code in a file), ` +
        `so worker threads cannot import it. Define it with \`export const … = experiment("${job.experiment.name}", …)\` at the top level of a module, ` +
        `or pass run({ address: { module, export } }); otherwise use serial() or concurrent({ limit }).`,
      { code: "E_WORKER" },
    );
  }
  const runner = compiledRunnerOf(job.experiment);
  if ("url" in runner) return { module: runner.url, export: "experiment" };
  return { module: origin, noRunner: runner.why };
}

/** A bound input() source travels as its producers' runs (the bytes are read on request). */
function producerInfos(binding: InputBinding): Record<string, ProducerInfo> {
  const out: Record<string, ProducerInfo> = {};
  for (const [alias, p] of binding.producers) {
    out[alias] = { producer: p.producer, replicates: p.replicates, conditions: [...p.conditions], ...(p.version === undefined ? {} : { version: p.version }) };
  }
  return out;
}

/** Static treatment values travel as data (functional ones must come from the module). */
function staticTreatments(job: ExecutionJob): Pick<WorkerInit, "treatments"> {
  const ts = job.experiment.treatments;
  if (ts.length === 0 || ts.some((t) => t.values === undefined || t.compute !== undefined)) return {};
  return { treatments: ts.map((t) => ({ name: t.name, values: t.values as Readonly<Record<string, unknown>> })) };
}


/**
 * Set by a bundle (templates/runner.mjs) to its own URL: everything, the worker entry included, is
 * inside that one file, so parallel() listed in a bundled experiment's plugins starts workers from it.
 */
const BUNDLE_ENTRY = Symbol.for("crystallize.bundleWorkerEntry");

/** dist/plugins/execution/worker-entry.js; in a bundle, the bundle; from src/ (tests, tsx), the built copy in dist/. */
function defaultEntry(): URL {
  const bundled = (globalThis as Record<symbol, unknown>)[BUNDLE_ENTRY];
  if (typeof bundled === "string") return new URL(bundled);
  const here = import.meta.url;
  if (here.endsWith(".js")) return new URL("./worker-entry.js", here);
  const built = new URL("../../../dist/plugins/execution/worker-entry.js", here);
  if (existsSync(fileURLToPath(built))) return built;
  // No build: the TypeScript source, which works when a TypeScript loader is in process.execArgv.
  return new URL("./worker-entry.ts", here);
}

function toUrl(value: string | URL): URL {
  if (value instanceof URL) return value;
  if (value.startsWith("file:")) return new URL(value);
  return pathToFileURL(resolve(value));
}
