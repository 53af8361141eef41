// How a queue worker gets the experiment a run names: from its own source (a project's compiled
// runners, a bundle's experiment), else by importing the module the main process gave. Then the
// same checks as a parallel() worker: the imported experiment must have the main process's shape.
import { installEngine, requireEngine } from "../../dsl/engine.js";
import type { AnyExperiment } from "../../dsl/experiment.js";
import { CrystallizeError } from "../../errors.js";
import { experimentShape } from "../../runtime/task-host.js";
import type { RunDescriptor } from "./queue-protocol.js";

/** Finds an experiment by name for a worker (undefined: not mine, try the run's module). */
export type ExperimentSource = (name: string) => Promise<AnyExperiment | undefined> | AnyExperiment | undefined;

function loadError(message: string, cause?: unknown): CrystallizeError {
  return new CrystallizeError(message, { code: "E_WORKER", ...(cause === undefined ? {} : { cause }) });
}

function isExperiment(value: unknown): value is AnyExperiment {
  return (value as { kind?: unknown } | null)?.kind === "experiment";
}

/** The experiment named `name` among a module's exports (directly or in an exported graph). */
export function pickExperiment(ns: Record<string, unknown>, name: string, exportName?: string): AnyExperiment | undefined {
  if (exportName !== undefined) {
    const value = ns[exportName];
    return isExperiment(value) && value.name === name ? value : undefined;
  }
  for (const value of Object.values(ns)) {
    if (isExperiment(value) && value.name === name) return value;
    const inGraph = (value as { kind?: unknown; experiments?: unknown } | null)?.kind === "graph" ? (value as { experiments?: unknown }).experiments : undefined;
    if (Array.isArray(inGraph)) {
      const found = inGraph.find((e) => isExperiment(e) && e.name === name);
      if (found) return found as AnyExperiment;
    }
  }
  return undefined;
}

/**
 * Imports a module with a guard engine: a module that runs its experiment when imported must not
 * run it in the worker; the guard hands the experiment over and never settles that call.
 */
export async function importExperiment(module: string, name: string, exportName?: string): Promise<AnyExperiment> {
  const real = requireEngine();
  let hand: (exp: AnyExperiment) => void = () => {};
  const handed = new Promise<AnyExperiment>((resolve) => (hand = resolve));
  const refuse = (what: string) => Promise.reject(loadError(`${what} was called while a queue worker imported ${module}; a worker only needs the module's definitions.`));
  const never = () => new Promise<never>(() => {});
  installEngine({
    run: (exp) => (exp.name === name ? (hand(exp), never()) : refuse(`experiment "${exp.name}".run()`)),
    apply: (exp) => refuse(`experiment "${exp.name}".apply()`),
    runGraph: (graph) => {
      const exp = graph.experiments.find((e) => e.name === name);
      if (!exp) return refuse(`graph "${graph.name}".run()`);
      hand(exp);
      return never();
    },
    optimize: (exp) => (exp.name === name ? (hand(exp), never()) : refuse(`experiment "${exp.name}".optimize()`)),
  });
  let loaded: { ns: Record<string, unknown> } | { exp: AnyExperiment };
  try {
    loaded = await Promise.race([(import(module) as Promise<Record<string, unknown>>).then((ns) => ({ ns })), handed.then((exp) => ({ exp }))]);
  } catch (e) {
    throw loadError(`queue worker: could not import ${module}: ${e instanceof Error ? e.message : String(e)}`, e);
  } finally {
    installEngine(real);
  }
  if ("exp" in loaded) return loaded.exp;
  const exp = pickExperiment(loaded.ns, name, exportName);
  if (!exp) throw loadError(`queue worker: ${module} does not export experiment "${name}"${exportName ? ` as "${exportName}"` : ""}.`);
  return exp;
}

/** The run's experiment: the worker's own source first, else the descriptor's module. */
export async function experimentFor(run: RunDescriptor, own: ExperimentSource | undefined): Promise<AnyExperiment> {
  let exp = own ? await own(run.experiment) : undefined;
  if (!exp) {
    if (run.module === undefined) {
      throw loadError(`queue worker: this worker has no experiment "${run.experiment}" and the run gave no module to import; start the worker with --project (or the experiment's bundle with --worker).`);
    }
    exp = await importExperiment(run.module, run.experiment, run.exportName);
  }
  exp = withTreatments(exp, run);
  const mine = experimentShape(exp);
  const differs = Object.keys(run.shape).filter((k) => run.shape[k] !== mine[k]);
  if (differs.length) {
    throw loadError(
      `queue worker: experiment "${run.experiment}" here differs from the one the main process runs (${differs.join(", ")}); ` +
        `deploy the same code (and compile it) on every worker machine.`,
    );
  }
  return exp;
}

/** Adopts the main process's static treatments (a graph's inherited ones) when they differ. */
function withTreatments(exp: AnyExperiment, run: RunDescriptor): AnyExperiment {
  if (!run.treatments || experimentShape(exp).treatments === run.shape.treatments) return exp;
  const treatments = Object.freeze(run.treatments.map((t) => Object.freeze({ kind: "treatment" as const, name: t.name, values: Object.freeze({ ...t.values }) })));
  return Object.freeze({ ...exp, treatments }) as AnyExperiment;
}
