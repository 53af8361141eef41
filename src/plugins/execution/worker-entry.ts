// A parallel() worker thread: imports the experiment's module (by file: URL, nothing is
// serialised), finds the experiment, builds the same plan from the main thread's settings, and
// runs the (condition, replicate) tasks it is sent. Outcomes go back as plain data; ctx.log goes
// to the main thread's logger. Per-replicate plugin hooks run here; run-level hooks never do.
// A worker imports its module once and may serve several runs (a warm pool, see worker-pool.ts):
// each run ("begin" … "close") gets its own plan, cache and resources, closed at the run's end.
// Protocol: worker-protocol.ts. This file runs as JavaScript (dist/), in its own thread.
import { parentPort, workerData } from "node:worker_threads";
import type { Logger } from "../../dsl/context.js";
// The package entry this worker belongs to, loaded first: it installs the engine that the
// experiment's module will use (when that module imports the same copy), so the guard below
// replaces the right one.
import "../../index.js";
import { installEngine, requireEngine } from "../../dsl/engine.js";
import type { AnyExperiment } from "../../dsl/experiment.js";
import type { TaskOutcome } from "../../dsl/records.js";
import { CrystallizeError } from "../../errors.js";
import { isInputSource } from "../../dsl/input.js";
import { encodeValue, reviveError, serializeError } from "../../runtime/error-codec.js";
import { boundInputSource, deriveExperiment, remoteProducer, type ProducerArtifacts, type RemoteRead } from "../../runtime/input-resolver.js";
import type { StepCache } from "../../runtime/services.js";
import { createTaskHost, experimentShape, type TaskHost } from "../../runtime/task-host.js";
import { isTypeScriptUrl, registerTypeScriptLoader } from "./ts-loader.js";
import { PROTOCOL_VERSION, type FromWorker, type LogLevel, type ToWorker, type WorkerInit, type WorkerLoad } from "./worker-protocol.js";

/** Marks this thread as a Crystallize worker (parallel() refuses to nest; see parallel.ts). */
(globalThis as Record<symbol, unknown>)[Symbol.for("crystallize.worker")] = true;

const port = parentPort!;
const load = workerData as WorkerLoad;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function fatal(error: unknown): void {
  post({ type: "fatal", error: serializeError(error) });
}

process.on("uncaughtException", (e) => {
  fatal(e);
  process.exit(1);
});
process.on("unhandledRejection", (e) => {
  fatal(e);
  process.exit(1);
});

const logger: Logger = Object.freeze({
  debug: (m: string, ...d: unknown[]) => log("debug", m, d),
  info: (m: string, ...d: unknown[]) => log("info", m, d),
  warn: (m: string, ...d: unknown[]) => log("warn", m, d),
  error: (m: string, ...d: unknown[]) => log("error", m, d),
});

function log(level: LogLevel, message: string, details: unknown[]): void {
  const text = typeof message === "string" ? message : String(message);
  try {
    post({ type: "log", level, message: text, details: details.map(encodeValue) });
  } catch {
    post({ type: "log", level, message: text, details: details.map((d) => String(d)) });
  }
}

function loadError(message: string, cause?: unknown): CrystallizeError {
  return new CrystallizeError(message, { code: "E_WORKER", ...(cause === undefined ? {} : { cause }) });
}

function isExperiment(value: unknown): value is AnyExperiment {
  return (value as { kind?: unknown } | null)?.kind === "experiment";
}

/** The experiment in a module's exports: the named export, or any export (or graph) holding it. */
function pick(ns: Record<string, unknown>, init: { readonly module: string; readonly exportName?: string; readonly experiment: string }): AnyExperiment | undefined {
  if (init.exportName !== undefined) {
    const value = ns[init.exportName];
    if (isExperiment(value) && value.name === init.experiment) return value;
    if (isExperiment(value)) {
      throw loadError(
        `parallel(): export "${init.exportName}" of ${init.module} is experiment "${value.name}", not "${init.experiment}"; fix the address given to run().`,
      );
    }
    return undefined;
  }
  for (const value of Object.values(ns)) {
    if (isExperiment(value) && value.name === init.experiment) return value;
    const inGraph = (value as { kind?: unknown; experiments?: unknown } | null)?.kind === "graph"
      ? (value as { experiments?: unknown }).experiments
      : undefined;
    if (Array.isArray(inGraph)) {
      const found = inGraph.find((e) => isExperiment(e) && e.name === init.experiment);
      if (found) return found as AnyExperiment;
    }
  }
  return undefined;
}

/**
 * Imports the module with a guard engine installed: a module that runs its experiment when
 * imported (a script that defines and runs in one file, or a runner module) must not run it again
 * in every worker. The guard hands us the experiment it was asked to run and never settles, so
 * the module's remaining top-level code waits forever, harmlessly; running another experiment at
 * import time is refused.
 */
type Loaded = { readonly ns: Record<string, unknown> } | { readonly exp: AnyExperiment } | { readonly error: unknown };

async function importModule(): Promise<Loaded> {
  const init = load;
  const real = requireEngine();
  let hand: (exp: AnyExperiment) => void = () => {};
  const handed = new Promise<AnyExperiment>((resolve) => (hand = resolve));
  const refuse = (what: string) =>
    Promise.reject(
      loadError(
        `${what} was called while a parallel worker imported ${init.module}; a worker only needs the module's definitions. ` +
          `Run experiments from another module (or with \`crystallize run\`), or guard the call so it only runs in the main thread.`,
      ),
    );
  const never = () => new Promise<never>(() => {});
  installEngine({
    run(exp) {
      if (exp.name !== init.experiment) return refuse(`experiment "${exp.name}".run()`);
      hand(exp);
      return never();
    },
    apply(exp) {
      return refuse(`experiment "${exp.name}".apply()`);
    },
    runGraph(graph) {
      const exp = graph.experiments.find((e) => e.name === init.experiment);
      if (!exp) return refuse(`graph "${graph.name}".run()`);
      hand(exp);
      return never();
    },
    optimize(exp) {
      if (exp.name !== init.experiment) return refuse(`experiment "${exp.name}".optimize()`);
      hand(exp);
      return never();
    },
  });
  try {
    const imported = importWithTypeScript(init.module).then(
      (ns: Record<string, unknown>) => ({ ns }),
      (error: unknown) => ({ error }),
    );
    return await Promise.race([imported, handed.then((exp) => ({ exp }))]);
  } finally {
    installEngine(real);
  }
}

/**
 * Imports the module, with the TypeScript loader (ts-loader.ts) registered first when it is a .ts
 * file, or registered and retried when a JavaScript module imports TypeScript: a worker gets
 * neither vitest's transform nor a loader a plain `node` host lacks. A loader already in execArgv
 * (tsx) keeps working; ours only handles TypeScript files, before it.
 */
async function importWithTypeScript(module: string): Promise<Record<string, unknown>> {
  if (isTypeScriptUrl(module)) registerTypeScriptLoader();
  try {
    return (await import(module)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_UNKNOWN_FILE_EXTENSION" || !registerTypeScriptLoader({ afterFailure: true })) throw error;
    // A failed import stays cached under its URL: retry under another one.
    const retry = new URL(module);
    retry.searchParams.set("crystallize-ts-loader", "1");
    return (await import(retry.href)) as Record<string, unknown>;
  }
}

/** The module, imported once per worker (at start, overlapping the main thread's own set-up). */
const loaded = importModule();

/** The run's experiment, from the module this worker imported. */
async function loadExperiment(init: WorkerInit): Promise<AnyExperiment> {
  const first = await loaded;
  {
    if ("exp" in first) {
      if (first.exp.name === init.experiment) return first.exp;
      throw loadError(`parallel(): ${init.module} ran experiment "${first.exp.name}" when imported, so this worker cannot run "${init.experiment}".`);
    }
    if ("error" in first) {
      const why = first.error instanceof Error ? first.error.message : String(first.error);
      // Workers do not inherit a test runner's or bundler's transform (vitest), only the process's
      // flags; they transpile TypeScript themselves, but not a runner's aliases or virtual modules.
      const hint = /\.[cm]?tsx?$/.test(new URL(init.module).pathname)
        ? ` Workers load modules with Node's own resolution and this process's flags, transpiling TypeScript with esbuild (a test runner's aliases, mocks and plugins do not reach them): run under a TypeScript loader (node --import tsx), ` +
          `or compile the project: with a fresh .crystallize/manifest.json beside its tsconfig, parallel() imports the experiment's compiled runner instead` +
          (init.noRunner ? ` (here ${init.noRunner}).` : ".")
        : "";
      throw loadError(`parallel(): a worker could not import ${init.module}: ${why}.${hint}`, first.error);
    }
    const exp = pick(first.ns, init);
    if (exp) return exp;
    throw loadError(
      `parallel(): experiment "${init.experiment}" is not exported by ${init.module}, so worker threads cannot import it. ` +
        `Export it at the top level of that module (\`export const ${identifier(init.experiment)} = experiment("${init.experiment}", …)\`) ` +
        `instead of creating it inside a function or keeping it in a local variable, or run it with serial() or concurrent({ limit }).`,
    );
  }
}

/** Adopts the main thread's static treatments (a graph's inherited ones) when they differ. */
function withTreatments(exp: AnyExperiment, init: WorkerInit): AnyExperiment {
  if (!init.treatments || experimentShape(exp).treatments === init.shape.treatments) return exp;
  const treatments = Object.freeze(
    init.treatments.map((t) => Object.freeze({ kind: "treatment" as const, name: t.name, values: Object.freeze({ ...t.values }) })),
  );
  return Object.freeze({ ...exp, treatments }) as AnyExperiment;
}

/** Bytes the main thread was asked for ("read-artifact"), by request id. */
const reads = new Map<number, { resolve: (r: RemoteRead) => void; reject: (e: unknown) => void }>();
let nextRead = 0;

function readArtifact(alias: string, artifact: string, condition: string, replicate: number): Promise<RemoteRead> {
  const id = nextRead++;
  return new Promise((resolve, reject) => {
    reads.set(id, { resolve, reject });
    post({ type: "read-artifact", id, alias, artifact, condition, replicate });
  });
}

/**
 * Binds the module's input() source to the main thread's producer runs, as the main thread bound
 * its own copy (same rules, in input-resolver.ts); the bytes are read through the main thread.
 */
function withInputs(exp: AnyExperiment, init: WorkerInit): AnyExperiment {
  if (!init.inputs) return exp;
  if (!isInputSource(exp.source)) {
    throw loadError(`parallel(): the main thread binds the input() source of "${init.experiment}", but ${init.module} exports it with another source.`);
  }
  const producers = new Map<string, ProducerArtifacts>();
  for (const [alias, info] of Object.entries(init.inputs)) {
    producers.set(alias, remoteProducer(info, (artifact, condition, replicate) => readArtifact(alias, artifact, condition, replicate)));
  }
  return deriveExperiment(exp, { source: boundInputSource(init.experiment, exp.source, producers) });
}

/** The imported experiment must be the one the main thread runs, not merely share its name. */
function checkShape(exp: AnyExperiment, init: WorkerInit): void {
  const mine = experimentShape(exp);
  const differs = Object.keys(init.shape).filter((k) => init.shape[k] !== mine[k]);
  if (differs.length === 0) return;
  const why = differs.includes("source") && JSON.parse(mine.source!)?.input === true
    ? "its input() source is bound to producer runs in the main thread"
    : `its ${differs.join(", ")} ${differs.length > 1 ? "differ" : "differs"} from what ${init.module} exports (the runtime or the caller derived a modified copy)`;
  throw loadError(
    `parallel(): the experiment "${init.experiment}" being run is not the one workers import: ${why}. ` +
      `parallel() runs experiments exactly as their module exports them; run this one with serial() or concurrent({ limit }).`,
  );
}

function identifier(name: string): string {
  const id = name.replace(/[^A-Za-z0-9_$]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""));
  return /^[A-Za-z_$]/.test(id) ? id : `_${id}`;
}

async function createCache(init: WorkerInit): Promise<StepCache | undefined> {
  const settings = init.settings.cache;
  if (settings === false) return undefined;
  const { createFileCache } = await import("../../runtime/cache/index.js");
  return createFileCache({ root: settings.root, onCorrupt: settings.onCorrupt, log: logger });
}

/** Artifact bytes the runtime encoded itself (fresh, whole buffers) are moved, not copied. */
function transferables(outcome: TaskOutcome): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const a of outcome.artifacts) {
    if (a.codec !== "json" && a.codec !== "text") continue; // user codecs may return shared buffers
    const b = a.bytes;
    if (b.buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !list.includes(b.buffer)) {
      list.push(b.buffer);
    }
  }
  return list;
}

/** A warm worker adopts the main thread's environment of the run (as a fresh worker would). */
function adoptEnv(env: Readonly<Record<string, string>> | undefined): void {
  if (env === undefined) return;
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  for (const [k, v] of Object.entries(env)) if (process.env[k] !== v) process.env[k] = v;
}

/** One run in this worker: from "begin" to "closed". */
interface Run {
  host: TaskHost | undefined;
  readonly queue: { id: number; condition: string; replicate: number }[];
  running: boolean;
  stopping: "close" | "cancel" | undefined;
  closed: boolean;
  /** Resolves once the host is built (or failed to build). */
  starting: Promise<void>;
}

function main(): void {
  if (load?.protocol !== PROTOCOL_VERSION) {
    post({ type: "load-failed", error: serializeError(loadError(`parallel(): worker protocol mismatch (got ${String(load?.protocol)}, expected ${PROTOCOL_VERSION}); rebuild dist/.`)) });
    return;
  }
  let run: Run | undefined;

  const begin = (init: WorkerInit): void => {
    const current: Run = { host: undefined, queue: [], running: false, stopping: undefined, closed: false, starting: Promise.resolve() };
    run = current;
    current.starting = (async () => {
      try {
        if (init.protocol !== PROTOCOL_VERSION) throw loadError(`parallel(): worker protocol mismatch; rebuild dist/.`);
        adoptEnv(init.env);
        const exp = withInputs(withTreatments(await loadExperiment(init), init), init);
        checkShape(exp, init);
        current.host = createTaskHost(exp, init.settings, { log: logger, cache: await createCache(init) });
      } catch (e) {
        current.closed = true;
        post({ type: "load-failed", error: serializeError(e) });
        return;
      }
      post({ type: "ready", reusable: !("exp" in (await loaded)) });
    })();
  };

  const shutdown = async (current: Run) => {
    if (current.closed) return;
    current.closed = true;
    const errors = current.host ? await current.host.close() : [];
    if (run === current) run = undefined;
    post({ type: "closed", errors: errors.map((e) => serializeError(e)) });
  };

  const pump = async (current: Run) => {
    if (current.running) return;
    current.running = true;
    try {
      await current.starting;
      const host = current.host;
      if (!host) return;
      while (current.queue.length > 0 && current.stopping !== "cancel") {
        const task = current.queue.shift()!;
        const started = performance.now();
        const outcome = await host.run({ condition: task.condition, replicate: task.replicate });
        const ms = performance.now() - started;
        post({ type: "done", id: task.id, outcome, ms }, transferables(outcome));
      }
    } catch (e) {
      // runTask captures task failures; reaching here is a runtime fault, which stops the run.
      fatal(e);
      return;
    } finally {
      current.running = false;
    }
    if (current.stopping) await shutdown(current);
  };

  port.on("message", (message: ToWorker) => {
    if (message.type === "artifact") {
      const pending = reads.get(message.id);
      reads.delete(message.id);
      if (message.error) pending?.reject(reviveError(message.error));
      else pending?.resolve(message.bytes !== undefined ? { bytes: message.bytes } : message.path !== undefined ? { path: message.path } : {});
      return;
    }
    if (message.type === "begin") {
      begin(message.init);
      return;
    }
    const current = run;
    if (!current) return;
    switch (message.type) {
      case "task":
        current.queue.push(message);
        void pump(current);
        break;
      case "cancel":
        current.stopping = "cancel";
        current.queue.length = 0;
        current.host?.abort(new CrystallizeError("The run was cancelled.", { code: "E_CANCELLED" }));
        if (!current.running) void current.starting.then(() => shutdown(current));
        break;
      case "close":
        current.stopping ??= "close";
        if (!current.running) void current.starting.then(() => shutdown(current));
        break;
    }
  });
}

main();
