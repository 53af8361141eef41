// Runs an experiment: replicates × (baseline + treatments) as independent tasks, handed to an
// execution strategy; plugins hook the lifecycle; a storage plugin persists each finished task;
// the Result is assembled from the outcomes in a fixed order, whatever order they finished in.
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type { Logger } from "../dsl/context.js";
import type { AnyExperiment } from "../dsl/experiment.js";
import type { ExecutionJob, ExecutionStrategy, Plugin, TaskSettings } from "../dsl/plugin.js";
import type { ArtifactRecord, RunInfo, TaskOutcome, TaskRef } from "../dsl/records.js";
import type { Result } from "../dsl/result.js";
import type { Progress, RunOptions } from "../dsl/run-options.js";
import { replicatesProblem, seedProblem } from "../dsl/validate.js";
import { CancelledError, ValidationError } from "../errors.js";
import { manifestHashes } from "./manifest-lookup.js";
import { createPlan, type RunPlan } from "./plan.js";
import { Resources } from "./resources.js";
import { buildResult } from "./result.js";
import { isStoragePlugin, type RunStorage, type StepCache, type StoragePlugin } from "./services.js";
import { runTask } from "./task-runner.js";
import { fatalErrorOf, isRunFatal } from "./run-fatal.js";

/** What the entry point configures: defaults that live in src/plugins and the cache factory. */
export interface RuntimeDefaults {
  /** Built-in plugins attached unless a plugin of the same name is given. */
  defaultPlugins(): readonly Plugin[];
  defaultExecution(): ExecutionStrategy;
  /** Creates the step cache for a run (undefined: no caching available). */
  createCache?(options: { root: string; onCorrupt: "throw" | "recompute"; log: Logger }): StepCache | undefined;
  /** A logger for runs without a logging plugin. */
  fallbackLogger(): Logger;
}

/** Plugins may carry these capabilities besides hooks. */
interface SeedingPlugin {
  readonly seeding: { readonly seed?: number; readonly perReplicate: boolean };
}
interface LoggingPlugin {
  readonly logger: Logger;
}
interface ProgressPlugin {
  onProgress(progress: Progress): void;
}

export interface PreparedRun {
  readonly plan: RunPlan;
  readonly info: RunInfo;
  readonly plugins: readonly Plugin[];
  readonly strategy: ExecutionStrategy;
  readonly logger: Logger;
  readonly settings: TaskSettings;
}

export function resolvePlugins(exp: AnyExperiment, extra: readonly Plugin[] | undefined, defaults: RuntimeDefaults): Plugin[] {
  const own = [...exp.plugins, ...(extra ?? [])].filter((p) => (p as { kind?: unknown }).kind !== "execution") as Plugin[];
  const names = new Set(own.map((p) => p.name));
  const builtIns = defaults.defaultPlugins().filter((p) => !names.has(p.name));
  return [...builtIns, ...own];
}

export function settingsFor(
  exp: AnyExperiment,
  options: RunOptions,
  plugins: readonly Plugin[],
): TaskSettings {
  const problems: string[] = [];
  if (options.replicates !== undefined) {
    const p = replicatesProblem(options.replicates, "run option replicates");
    if (p) problems.push(p);
  }
  const sp = seedProblem(options.seed, "run option seed");
  if (sp) problems.push(sp);
  const known = exp.treatments.map((t) => t.name);
  const chosen = options.treatments ?? known;
  if (!Array.isArray(chosen)) problems.push("run option treatments must be an array of treatment names");
  for (const t of chosen) {
    if (!known.includes(t)) {
      problems.push(`run option treatments names "${t}", which is not a treatment of "${exp.name}" (treatments: ${known.join(", ") || "none"})`);
    }
  }
  problems.push(...stepHashesProblems(options.stepHashes));
  if (problems.length) throw new ValidationError(`run of experiment "${exp.name}"`, problems);
  const seeding = plugins.find((p): p is Plugin & SeedingPlugin => "seeding" in p)?.seeding;
  const outDir = options.outDir ?? ".crystallize";
  const cacheOpt = options.cache ?? true;
  return {
    seed: options.seed ?? exp.seed ?? seeding?.seed ?? 0,
    perReplicateSeed: seeding?.perReplicate ?? true,
    replicates: options.replicates ?? exp.replicates,
    // Keep declaration order, whatever order the option listed them in.
    treatments: known.filter((t) => chosen.includes(t)),
    cache:
      cacheOpt === false
        ? false
        : {
            root: resolve((cacheOpt === true ? undefined : cacheOpt.root) ?? `${outDir}/cache`),
            onCorrupt: (cacheOpt === true ? undefined : cacheOpt.onCorrupt) ?? "throw",
          },
    outDir,
    stepHashes: options.stepHashes ?? {},
  };
}

/** Problems with the stepHashes option: { [step]: { hash: string, usesRandom?: boolean } }. */
export function stepHashesProblems(value: unknown): string[] {
  if (value === undefined) return [];
  const fix = 'pass { [stepName]: { hash: string, usesRandom?: boolean } } (as the manifest\'s stepHashesOf gives it), or leave stepHashes out';
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [`run option stepHashes must be an object; ${fix}`];
  const problems: string[] = [];
  for (const [name, info] of Object.entries(value)) {
    const i = info as { hash?: unknown; usesRandom?: unknown } | null;
    if (typeof i !== "object" || i === null || typeof i.hash !== "string" || i.hash === "") {
      problems.push(`run option stepHashes["${name}"] must be { hash: string, usesRandom?: boolean }, got ${JSON.stringify(info) ?? String(info)}; ${fix}`);
    } else if (i.usesRandom !== undefined && typeof i.usesRandom !== "boolean") {
      problems.push(`run option stepHashes["${name}"].usesRandom must be a boolean, got ${JSON.stringify(i.usesRandom)}; ${fix}`);
    }
  }
  return problems;
}

/**
 * Options with the project manifest's step hashes when none were given and a fresh manifest has
 * them (one step hash for a run from the CLI or a script; see manifest-lookup.ts).
 */
export function withCompiledHashes<O extends { readonly stepHashes?: RunOptions["stepHashes"] }>(exp: AnyExperiment, options: O, log: Logger): O {
  if (options.stepHashes !== undefined) return options;
  const compiled = manifestHashes(exp, log);
  return compiled ? { ...options, stepHashes: compiled.stepHashes } : options;
}

export function loggerOf(plugins: readonly Plugin[], defaults: RuntimeDefaults): Logger {
  return plugins.find((p): p is Plugin & LoggingPlugin => "logger" in p && typeof (p as LoggingPlugin).logger === "object")?.logger ?? defaults.fallbackLogger();
}

export function prepareRun(exp: AnyExperiment, options: RunOptions, defaults: RuntimeDefaults): PreparedRun {
  if (exp?.kind !== "experiment") throw new ValidationError("run()", ["expected an experiment"]);
  // No definition checks here: experiment() made them when it built this frozen node.
  const plugins = resolvePlugins(exp, options.plugins, defaults);
  const logger = loggerOf(plugins, defaults);
  const settings = settingsFor(exp, withCompiledHashes(exp, options, logger), plugins);
  const strategy =
    options.execution ??
    (exp.plugins.find((p) => (p as { kind?: unknown }).kind === "execution") as ExecutionStrategy | undefined) ??
    defaults.defaultExecution();
  const cache =
    settings.cache === false ? undefined : defaults.createCache?.({ ...settings.cache, log: logger });
  const plan = createPlan(exp, plugins, settings, cache);
  const info: RunInfo = {
    id: randomUUID(),
    experiment: exp.name,
    seed: settings.seed,
    replicates: settings.replicates,
    conditions: ["baseline", ...settings.treatments],
    treatments: settings.treatments,
    outDir: settings.outDir,
    resume: options.resume === true,
    startedAt: new Date().toISOString(),
    stepHashes: Object.fromEntries(plan.steps.map((s) => [s.step.name, s.hash.hash])),
    strategy: strategy.name,
  };
  return { plan, info, plugins, strategy, logger, settings };
}

export async function runExperiment(exp: AnyExperiment, options: RunOptions, defaults: RuntimeDefaults): Promise<Result> {
  const prepared = prepareRun(exp, options, defaults);
  const { plan, info, plugins, strategy, logger, settings } = prepared;
  const started = performance.now();

  for (const p of plugins) p.init?.(exp);
  for (const p of plugins) await p.beforeRun?.(info);

  // One controller for the run: the user's signal aborts it.
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) controller.abort(options.signal.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const storagePlugin = plugins.find((p): p is Plugin & StoragePlugin => isStoragePlugin(p));
  let storage: RunStorage | undefined;
  const resources = new Resources();
  // Outcomes by task index (replicate × conditions + condition index): no string keys on the hot path.
  const conditionIndex = new Map(info.conditions.map((c, i) => [c, i] as const));
  const indexOf = (t: TaskRef) => t.replicate * info.conditions.length + (conditionIndex.get(t.condition) ?? 0);
  const outcomes: (TaskOutcome | undefined)[] = [];
  let done = 0;
  const artifacts: ArtifactRecord[] = [];
  let resumed = 0;

  const all: TaskRef[] = [];
  for (let r = 0; r < settings.replicates; r++) {
    for (const condition of info.conditions) all.push({ condition, replicate: r });
  }

  const progressSinks = plugins.filter((p): p is Plugin & ProgressPlugin => typeof (p as Partial<ProgressPlugin>).onProgress === "function");
  const progressFn = typeof options.progress === "function" ? options.progress : undefined;
  let failed = 0;
  const report = () => {
    const progress: Progress = {
      experiment: exp.name,
      done,
      total: all.length,
      failed,
      elapsedMs: performance.now() - started,
    };
    for (const p of progressSinks) p.onProgress(progress);
    progressFn?.(progress);
  };

  // A run-fatal failure (a corrupt cache entry): the first one stops the run and is what it rejects with.
  let fatal: { error: unknown } | undefined;
  const stopFor = (error: unknown) => {
    if (fatal) return;
    fatal = { error };
    // Tasks still running see a cancellation (their outcomes are dropped, as on cancel).
    controller.abort(new CancelledError(`The run of "${exp.name}" stopped: ${error instanceof Error ? error.message : String(error)}`));
  };

  let status: "completed" | "cancelled" = "completed";
  let result: Result | undefined;
  try {
    if (storagePlugin) {
      const opened = await storagePlugin.openStorage(info);
      storage = opened;
      // Empty unless resuming (the run option, or the plugin's own resume setting).
      for (const o of await opened.completed()) {
        if (o.replicate < settings.replicates && conditionIndex.has(o.condition) && !outcomes[indexOf(o)]) {
          outcomes[indexOf(o)] = o;
          artifacts.push(...o.stored);
          resumed++;
          done++;
        }
      }
    }
    const pending = all.filter((t) => !outcomes[indexOf(t)]);
    const env = { plan, signal: controller.signal, log: logger, resources };
    const job: ExecutionJob = {
      tasks: pending,
      runTask: (task) =>
        runTask(env, task).then((r) => {
          if (isRunFatal(r.error)) stopFor(r.error);
          return r.outcome;
        }),
      complete: async (outcome) => {
        // Outcomes from workers carry a fatal failure as data only.
        const fatalError = fatalErrorOf(outcome);
        if (fatalError !== undefined) {
          stopFor(fatalError);
          return; // not stored: the task did not complete, resume runs it again
        }
        if (controller.signal.aborted && outcome.error?.code === "E_CANCELLED") return;
        if (outcome.status === "failed") failed++;
        if (storage) artifacts.push(...(await storage.saveTask(outcome)));
        const i = indexOf(outcome);
        if (!outcomes[i]) done++;
        outcomes[i] = outcome;
        report();
      },
      signal: controller.signal,
      run: info,
      experiment: exp,
      ...(options.address ? { address: options.address } : {}),
      // Without a cache factory there is no cache, whatever the options said: workers must agree.
      settings: plan.cache ? settings : { ...settings, cache: false },
      log: logger,
      plugins,
    };
    await strategy.execute(job);
    if (fatal) throw fatal.error;
    if (controller.signal.aborted) status = "cancelled";
  } catch (caught) {
    // A strategy may also reject once the run was stopped for a fatal failure: the fatal one wins.
    const e = fatal ? fatal.error : caught;
    if (fatal || !controller.signal.aborted) {
      await closeQuietly(resources, logger);
      // Completed tasks stay stored (resume continues them); the version is marked failed.
      await storage
        ?.finish({ info, status: "failed", endedAt: new Date().toISOString(), json: null })
        .catch((f: unknown) => logger.warn(`could not record the failed run: ${f instanceof Error ? f.message : String(f)}`));
      throw e;
    }
    status = "cancelled";
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }

  await closeQuietly(resources, logger);
  const endedAt = new Date().toISOString();
  result = buildResult({
    experiment: exp,
    info,
    outcomes: outcomes.filter((o): o is TaskOutcome => o !== undefined),
    artifacts,
    meta: {
      id: info.id,
      startedAt: info.startedAt,
      endedAt,
      durationMs: performance.now() - started,
      strategy: strategy.name,
      status,
      ...(storage ? { version: storage.version } : {}),
      resumedTasks: resumed,
    },
  });
  if (storage) {
    await storage.finish({ info, status: status === "completed" ? "completed" : "cancelled", endedAt, json: result.toJSON() });
  }
  for (const p of plugins) await p.afterRun?.(result);
  if (status === "cancelled") {
    throw new CancelledError(
      `Run of "${exp.name}" was cancelled after ${done - resumed} of ${all.length - resumed} tasks; completed tasks are stored and \`resume: true\` continues them.`,
      result,
    );
  }
  return result;
}


async function closeQuietly(resources: Resources, logger: Logger): Promise<void> {
  for (const e of await resources.close()) logger.warn(`closing a resource failed: ${e instanceof Error ? e.message : String(e)}`);
}
