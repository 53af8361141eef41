// experiment.optimize(optimizer, { trials, objective }): asks the optimizer for treatments, runs
// each as a trial (replicates × trial, through the run's execution strategy, per-task hooks and
// step cache), and tells it the objective: the mean of the metric over the trial's replicates.
// The baseline runs once (with the first round), not once per trial; nothing is stored (like
// apply(), run-level hooks and storage are not involved). The direction is honoured: optimizers
// receive a score that is lower when better.
import type { Logger } from "../dsl/context.js";
import type { AnyExperiment } from "../dsl/experiment.js";
import type { ExecutionJob } from "../dsl/plugin.js";
import type { AnyOptimizer, Observation, OptimizeOptions, OptimizeResult, TrialRecord } from "../dsl/optimizer.js";
import type { TaskError, TaskOutcome, TaskRef } from "../dsl/records.js";
import type { AnyTreatment } from "../dsl/treatment.js";
import { declaresMetric } from "../dsl/step.js";
import { replicatesProblem, seedProblem } from "../dsl/validate.js";
import { CancelledError, ValidationError } from "../errors.js";
import { prepareRun, type RuntimeDefaults } from "./experiment-runner.js";
import { deriveExperiment } from "./input-resolver.js";
import { Resources } from "./resources.js";
import { runTask } from "./task-runner.js";
import { fatalErrorOf, isRunFatal } from "./run-fatal.js";

const DIRECTIONS = ["minimize", "maximize"];

interface ConditionSummary {
  readonly metrics: Readonly<Record<string, readonly number[]>>;
  readonly errors: readonly TaskError[];
}

function summarise(outcomes: readonly TaskOutcome[], metricNames: readonly string[]): ConditionSummary {
  const sorted = [...outcomes].sort((a, b) => a.replicate - b.replicate);
  const metrics: Record<string, number[]> = {};
  for (const m of metricNames) metrics[m] = [];
  for (const o of sorted) {
    if (o.status !== "ok") continue;
    for (const [m, values] of Object.entries(o.metrics)) (metrics[m] ??= []).push(...values);
  }
  const frozen = Object.freeze(Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Object.freeze(v)])));
  return { metrics: frozen, errors: Object.freeze(sorted.flatMap((o) => (o.error ? [o.error] : []))) };
}

function mean(values: readonly number[] | undefined): number | undefined {
  if (!values || values.length === 0) return undefined;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

export async function optimizeExperiment(
  exp: AnyExperiment,
  optimizer: AnyOptimizer,
  options: OptimizeOptions,
  defaults: RuntimeDefaults,
): Promise<OptimizeResult<object>> {
  if (exp?.kind !== "experiment") throw new ValidationError("optimize()", ["expected an experiment"]);
  exp.validate();
  const subject = `optimize() of "${exp.name}"`;
  const problems: string[] = [];
  const opt = optimizer as Partial<AnyOptimizer> | null | undefined;
  if (opt?.kind !== "optimizer" || typeof opt.ask !== "function" || typeof opt.tell !== "function" || typeof opt.best !== "function") {
    problems.push("the first argument must be an optimizer (gridSearch(space), randomSearch(space, options), or an object with kind \"optimizer\", ask, tell and best)");
  }
  const metricNames = [...new Set(exp.pipeline.steps.flatMap((s) => s.metrics))].sort();
  const objective = options?.objective;
  if (!objective || typeof objective !== "object") {
    problems.push('objective is required: { metric: "<a declared metric>", direction: "minimize" | "maximize" }');
  } else {
    if (!metricNames.includes(objective.metric) && !exp.pipeline.steps.some((s) => declaresMetric(s, String(objective.metric)))) {
      problems.push(`objective.metric "${String(objective.metric)}" is not a metric any step declares (declared: ${metricNames.join(", ") || "none"})`);
    }
    if (!DIRECTIONS.includes(objective.direction)) {
      problems.push(`objective.direction must be "minimize" or "maximize", got ${JSON.stringify(objective.direction)}`);
    }
  }
  const trials = options?.trials ?? opt?.size;
  if (trials === undefined) {
    problems.push(`trials is required: optimizer "${String(opt?.name)}" has no fixed size`);
  } else if (!Number.isInteger(trials) || trials < 1) {
    problems.push(`trials must be a positive integer, got ${JSON.stringify(trials)}`);
  }
  if (options?.batch !== undefined && (!Number.isInteger(options.batch) || options.batch < 1)) {
    problems.push(`batch must be a positive integer, got ${JSON.stringify(options.batch)}`);
  }
  if (options?.replicates !== undefined) {
    const rp = replicatesProblem(options.replicates, "replicates");
    if (rp) problems.push(rp);
  }
  const sp = seedProblem(options?.seed, "seed");
  if (sp) problems.push(sp);
  if (problems.length) throw new ValidationError(subject, problems);

  const total = trials!;
  const batchSize = options.batch ?? total;
  const declaredParams = new Set(exp.pipeline.steps.flatMap((s) => Object.keys(s.params)));
  const sign = objective.direction === "maximize" ? -1 : 1;
  const names = new Set<string>();
  const history: TrialRecord[] = [];
  let baseline: ConditionSummary | undefined;
  let seed = 0;
  let replicates = options.replicates ?? exp.replicates;
  let log: Logger | undefined;

  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) controller.abort(options.signal.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // A run-fatal failure (a corrupt cache entry): the first one stops the search and is what it rejects with.
  let fatal: { error: unknown } | undefined;
  const stopFor = (error: unknown): void => {
    if (fatal) return;
    fatal = { error };
    controller.abort(new CancelledError(`optimize() of "${exp.name}" stopped: ${error instanceof Error ? error.message : String(error)}`));
  };
  const resources = new Resources();

  const snapshot = (): OptimizeResult<object> => {
    const bestObs = optimizer.best();
    let best = bestObs ? history.find((h) => h.treatment.name === bestObs.treatment.name) : undefined;
    if (!best) {
      for (const h of history) if (h.score !== Infinity && (best === undefined || h.score < best.score)) best = h;
    }
    return Object.freeze({
      experiment: exp.name,
      optimizer: optimizer.name,
      objective: Object.freeze({ metric: objective.metric, direction: objective.direction }),
      replicates,
      seed,
      best,
      baseline: Object.freeze({
        value: mean(baseline?.metrics[objective.metric]),
        metrics: baseline?.metrics ?? Object.freeze({}),
        errors: baseline?.errors ?? Object.freeze([]),
      }),
      history: Object.freeze([...history]),
    });
  };

  try {
    while (history.length < total) {
      if (controller.signal.aborted) break;
      const asked = Math.min(batchSize, total - history.length);
      const proposals = optimizer.ask(asked) as readonly AnyTreatment[];
      if (!Array.isArray(proposals)) {
        throw new ValidationError(subject, [`optimizer "${optimizer.name}".ask() must return an array of treatments`]);
      }
      if (proposals.length === 0) {
        if (history.length === 0) {
          throw new ValidationError(subject, [
            `optimizer "${optimizer.name}" proposed no treatments (an optimizer is used up by one optimize() call; create a new one)`,
          ]);
        }
        break;
      }
      const bad: string[] = [];
      if (proposals.length > asked) bad.push(`optimizer "${optimizer.name}" proposed ${proposals.length} treatments when asked for ${asked}`);
      for (const t of proposals) {
        if (t?.kind !== "treatment") {
          bad.push(`optimizer "${optimizer.name}" proposed something that is not a treatment(name, values)`);
          continue;
        }
        if (t.name === "baseline") bad.push(`optimizer "${optimizer.name}" proposed a treatment named "baseline", which is reserved`);
        if (names.has(t.name)) bad.push(`optimizer "${optimizer.name}" proposed the treatment name "${t.name}" twice`);
        names.add(t.name);
        for (const k of Object.keys(t.values ?? {})) {
          if (!declaredParams.has(k)) {
            bad.push(`trial "${t.name}" sets "${k}", which no step declares as a param (declared: ${[...declaredParams].join(", ") || "none"})`);
          }
        }
      }
      if (bad.length) throw new ValidationError(subject, bad);

      const derived = deriveExperiment(exp, { treatments: proposals });
      const prepared = prepareRun(
        derived,
        {
          replicates,
          ...(options.seed === undefined ? {} : { seed: options.seed }),
          treatments: proposals.map((t) => t.name),
          ...(options.cache === undefined ? {} : { cache: options.cache }),
          ...(options.outDir === undefined ? {} : { outDir: options.outDir }),
          ...(options.execution ? { execution: options.execution } : {}),
          ...(options.plugins ? { plugins: options.plugins } : {}),
          ...(options.stepHashes ? { stepHashes: options.stepHashes } : {}),
        },
        defaults,
      );
      const { plan, info, strategy, logger, settings } = prepared;
      seed = settings.seed;
      log = logger;
      replicates = settings.replicates;
      const conditions = baseline ? info.treatments : info.conditions;
      const tasks: TaskRef[] = [];
      for (let r = 0; r < replicates; r++) for (const condition of conditions) tasks.push({ condition, replicate: r });
      const byCondition = new Map<string, TaskOutcome[]>(conditions.map((c) => [c, []]));
      const env = { plan, signal: controller.signal, log: logger, resources };
      const job: ExecutionJob = {
        tasks,
        runTask: (task) =>
          runTask(env, task).then((r) => {
            if (isRunFatal(r.error)) stopFor(r.error);
            return r.outcome;
          }),
        complete: async (outcome) => {
          const fatalError = fatalErrorOf(outcome);
          if (fatalError !== undefined) return stopFor(fatalError);
          if (controller.signal.aborted && outcome.error?.code === "E_CANCELLED") return;
          byCondition.get(outcome.condition)?.push(outcome);
        },
        signal: controller.signal,
        run: info,
        experiment: derived,
        settings: plan.cache ? settings : { ...settings, cache: false },
        log: logger,
        plugins: prepared.plugins,
      };
      await strategy.execute(job).catch((e: unknown) => {
        if (!fatal) throw e;
      });
      // A corrupt cache entry (onCorrupt: "throw") stops the search as it stops a run.
      if (fatal) throw fatal.error;
      if (controller.signal.aborted) break;

      if (!baseline) baseline = summarise(byCondition.get("baseline") ?? [], metricNames);
      const observations: Observation<object>[] = [];
      for (const t of proposals) {
        const summary = summarise(byCondition.get(t.name) ?? [], metricNames);
        const value = mean(summary.metrics[objective.metric]);
        const score = value === undefined ? Infinity : sign * value;
        const record: TrialRecord = Object.freeze({
          index: history.length,
          treatment: t as TrialRecord["treatment"],
          params: t.values as TrialRecord["params"],
          value,
          score,
          metrics: summary.metrics,
          errors: summary.errors,
        });
        history.push(record);
        observations.push(Object.freeze({ treatment: t, value, score }));
        options.onTrial?.(record);
      }
      optimizer.tell(observations);
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    for (const e of await resources.close()) {
      (log ?? defaults.fallbackLogger()).warn(`closing a resource failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (controller.signal.aborted) {
    throw new CancelledError(`optimize() of "${exp.name}" was cancelled after ${history.length} trial(s).`, snapshot());
  }
  return snapshot();
}
