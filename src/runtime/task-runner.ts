// Runs one (condition, replicate) task: resolve the treatment, run the per-replicate hooks, fetch
// the source, run the steps (through the cache when a step is cacheable), and return a
// TaskOutcome. Failures are captured in the outcome, never thrown, so other tasks go on.
import type { Logger } from "../dsl/context.js";
import type { ProvenanceRecord, TaskError, TaskOutcome, TaskRef } from "../dsl/records.js";
import { CacheCorruptionError, CancelledError, InputError, MissingArtifactError, PipelineExecutionError, ValidationError, errorCode } from "../errors.js";
import { StepContext, TaskState, type ResourcePool } from "./context.js";
import { nonJsonReason } from "../dsl/json.js";
import type { RunPlan, StepPlan } from "./plan.js";
import { resolveParams } from "./plan.js";
import { replicateSeed, streamSeed } from "./seeds.js";
import type { CachedStep } from "./services.js";
import { canonicalHash } from "./canonical-hash.js";
import { readsKey } from "./cache/key.js";

export interface TaskEnvironment {
  readonly plan: RunPlan;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly resources: ResourcePool;
}

/** Thrown internally to stop a task; carries where it failed. */
class TaskFailure {
  constructor(
    readonly error: unknown,
    readonly step?: string,
    readonly phase?: string,
  ) {}
}

export interface TaskRunResult {
  readonly outcome: TaskOutcome;
  /** The pipeline's final output (used by apply()); undefined when the task failed. */
  readonly output: unknown;
  /** The error that failed the task, as thrown (apply() rethrows it). */
  readonly error?: unknown;
}

export async function runTask(env: TaskEnvironment, ref: TaskRef, data?: { value: unknown }): Promise<TaskRunResult> {
  const { plan } = env;
  const seed = replicateSeed(plan.settings.seed, ref.replicate, plan.settings.perReplicateSeed);
  const state = new TaskState(
    plan.experiment.name,
    ref.condition,
    ref.replicate,
    seed,
    env.signal,
    env.log,
    env.resources,
    plan.outputs,
  );
  const provenance: ProvenanceRecord[] = [];
  let failure: TaskFailure | undefined;
  let output: unknown;
  // Each plugin's per-replicate hooks get their own context: its artifacts are stored under
  // `plugin.<name>` (like a step's under the step name) and it draws from its own stream.
  let hookParams: Readonly<Record<string, unknown>> = EMPTY_PARAMS;
  const hookCtx = (p: { readonly name: string }) => new StepContext(state, `plugin.${p.name}`, `plugin:${p.name}`, hookParams);
  try {
    const params = resolveTaskParams(plan, ref, state);
    if (plan.beforeReplicate.length || plan.afterReplicate.length) {
      hookParams = conditionValues(plan, ref.condition, params);
      for (const p of plan.beforeReplicate) {
        try {
          await p.beforeReplicate!(hookCtx(p));
        } catch (e) {
          throw new TaskFailure(e, undefined, `plugin:${p.name}`);
        }
      }
    }
    let value: unknown;
    if (data) value = data.value;
    else if (plan.experiment.source) {
      const src = plan.experiment.source;
      const sourceCtx = new StepContext(state, src.name, `source:${src.name}`, EMPTY_PARAMS);
      try {
        value = src.fetch(sourceCtx);
        if (isPromiseLike(value)) value = await value;
      } catch (e) {
        // A missing or mismatched input (input() sources) keeps its own code and details.
        const keep = e instanceof MissingArtifactError || e instanceof InputError;
        throw new TaskFailure(keep ? e : new PipelineExecutionError(src.name, e), undefined, "source");
      } finally {
        sourceCtx.seal();
      }
    }
    output = await runSteps(env, state, params, value, provenance);
  } catch (e) {
    failure = e instanceof TaskFailure ? e : new TaskFailure(e);
  }

  let outcome = buildOutcome(ref, seed, state, provenance, failure);
  if (plan.afterReplicate.length) {
    for (const p of plan.afterReplicate) {
      try {
        await p.afterReplicate!(hookCtx(p), outcome);
      } catch (e) {
        if (!failure) {
          failure = new TaskFailure(e, undefined, `plugin:${p.name}`);
          outcome = buildOutcome(ref, seed, state, provenance, failure);
        }
      }
    }
  }
  return failure ? { outcome, output: undefined, error: failure.error } : { outcome, output };
}

const EMPTY_PARAMS: Readonly<Record<string, unknown>> = Object.freeze({});

function resolveTaskParams(
  plan: RunPlan,
  ref: TaskRef,
  state: TaskState,
): readonly Readonly<Record<string, unknown>>[] {
  const fixed = plan.staticParams.get(ref.condition);
  if (fixed) return fixed;
  const t = plan.treatments.get(ref.condition);
  if (!t?.compute) {
    throw new TaskFailure(new ValidationError(`run of "${plan.experiment.name}"`, [`unknown condition "${ref.condition}"`]));
  }
  let values: Readonly<Record<string, unknown>>;
  const tctx = new StepContext(state, `treatment:${t.name}`, `treatment:${t.name}`, EMPTY_PARAMS);
  try {
    values = t.compute(tctx) as Readonly<Record<string, unknown>>;
    const problems: string[] = [];
    if (typeof values !== "object" || values === null) problems.push("the treatment function must return an object of param values");
    else {
      for (const [k, v] of Object.entries(values)) {
        if (!plan.declaredParams.has(k)) problems.push(`it set "${k}", which no step declares as a param (declared: ${[...plan.declaredParams].join(", ") || "none"})`);
        const why = nonJsonReason(v, k);
        if (why) problems.push(why);
      }
    }
    if (problems.length) throw new ValidationError(`treatment "${t.name}" (replicate ${ref.replicate})`, problems);
  } catch (e) {
    throw new TaskFailure(e, undefined, "treatment");
  } finally {
    tctx.seal();
  }
  return resolveParams(plan.steps, Object.freeze({ ...values }));
}

/** The treatment's values as one object (what plugins and the source see as params). */
function conditionValues(
  plan: RunPlan,
  condition: string,
  params: readonly Readonly<Record<string, unknown>>[],
): Readonly<Record<string, unknown>> {
  if (condition === "baseline") return EMPTY_PARAMS;
  const merged: Record<string, unknown> = {};
  plan.steps.forEach((s, i) => {
    for (const k of s.paramKeys) merged[k] = params[i]![k];
  });
  return Object.freeze(merged);
}

async function runSteps(
  env: TaskEnvironment,
  state: TaskState,
  params: readonly Readonly<Record<string, unknown>>[],
  input: unknown,
  provenance: ProvenanceRecord[],
): Promise<unknown> {
  const { plan } = env;
  let data = input;
  for (let i = 0; i < plan.steps.length; i++) {
    const sp = plan.steps[i]!;
    const step = sp.step;
    if (env.signal.aborted) throw new TaskFailure(new CancelledError(), step.name, "cancelled");
    const ctx = new StepContext(state, step.name, `step:${step.name}`, params[i]!, sp.metrics);
    if (plan.beforeStep.length) {
      try {
        for (const p of plan.beforeStep) await p.beforeStep!(step, ctx);
      } catch (e) {
        ctx.seal();
        throw new TaskFailure(e, step.name, "plugin");
      }
    }
    const started = performance.now();
    let cacheHit = false;
    let inputHash: string | undefined;
    let out: unknown;
    try {
      if (step.cacheable && plan.cache) {
        const r = await runCached(env, state, sp, ctx, params[i]!, data);
        out = r.output;
        cacheHit = r.hit;
        inputHash = r.inputHash;
      } else {
        out = step.run(data as never, ctx as never);
        if (isPromiseLike(out)) out = await out;
      }
    } catch (e) {
      ctx.seal();
      if (e instanceof TaskFailure) throw e;
      throw new TaskFailure(e instanceof CancelledError ? e : new PipelineExecutionError(step.name, e), step.name);
    }
    const durationMs = performance.now() - started;
    ctx.seal();
    const record: ProvenanceRecord =
      inputHash === undefined
        ? { step: step.name, stepHash: sp.hash.hash, params: params[i]!, cacheHit, durationMs, ctx: ctx.access, metrics: ctx.recordedMetrics }
        : { step: step.name, stepHash: sp.hash.hash, params: params[i]!, cacheHit, durationMs, inputHash, ctx: ctx.access, metrics: ctx.recordedMetrics };
    provenance.push(record);
    if (plan.afterStep.length) {
      try {
        for (const p of plan.afterStep) await p.afterStep!(step, out, ctx);
      } catch (e) {
        throw new TaskFailure(e, step.name, "plugin");
      }
    }
    data = out;
  }
  return data;
}

async function runCached(
  env: TaskEnvironment,
  state: TaskState,
  sp: StepPlan,
  ctx: StepContext,
  params: Readonly<Record<string, unknown>>,
  data: unknown,
): Promise<{ output: unknown; hit: boolean; inputHash: string }> {
  const cache = env.plan.cache!;
  const step = sp.step;
  const usesRandom = sp.hash.usesRandom !== false;
  const { key, inputHash } = cache.key({
    experiment: env.plan.experiment.name,
    step: step.name,
    stepHash: sp.hash.hash,
    params,
    input: data,
    ...(usesRandom ? { randomSeed: streamSeed(state.seed, `step:${step.name}`) } : {}),
  });
  // A corrupt entry is the run's problem, not the step's: kept unwrapped so the runner stops
  // the run with it (onCorrupt: "throw"); "recompute" never gets here (the cache reports a miss).
  const get = async (k: string): Promise<CachedStep | undefined> => {
    try {
      return await cache.get(k);
    } catch (e) {
      if (e instanceof CacheCorruptionError) throw new TaskFailure(e, step.name, "cache");
      throw e;
    }
  };
  let hit = await get(key);
  // The current value hashes of what entries say the step read (sets share names; values may be large).
  const current = new Map<string, string>();
  const hashOf = (name: string): string => {
    let h = current.get(name);
    if (h === undefined) current.set(name, (h = canonicalHash(ctx.dependencyValue(name))));
    return h;
  };
  const matches = (e: CachedStep): boolean => !e.readSets && (e.reads ?? []).every(([name, hash]) => hashOf(name) === hash);
  // A step that read its context is stored under a key that includes what it read (see readsKey):
  // the step's own key then holds an index of the sets of names its runs read.
  const index = hit?.readSets;
  if (index) {
    hit = undefined;
    for (const names of index) {
      const e = await get(readsKey(key, names.map((n) => [n, hashOf(n)] as const)));
      if (e && matches(e)) {
        hit = e;
        break;
      }
    }
  }
  // A hit is valid only while what the step read besides input and params is unchanged.
  if (hit && matches(hit)) {
    replay(state, ctx, hit);
    return { output: hit.output, hit: true, inputHash };
  }
  const metricsBefore = snapshotLengths(state);
  const artifactsBefore = state.artifacts.length;
  let out = step.run(data as never, ctx as never);
  if (isPromiseLike(out)) out = await out;
  // Hashed afresh: the step may have added a key it then read.
  const names = ctx.dependencies;
  const reads = names.map((name) => [name, canonicalHash(ctx.dependencyValue(name))] as const);
  const entry: CachedStep = {
    output: out,
    reads,
    metrics: recordedSince(state, metricsBefore),
    wrote: ctx.wrote.map((k) => [k, state.getValue(k)] as const),
    artifacts: state.artifacts.slice(artifactsBefore).map((a) => ({ artifact: a.artifact, codec: a.codec, bytes: a.bytes })),
  };
  // The common case, a step that reads nothing of its context: one entry under its key.
  if (names.length === 0 && !index) await cache.set(key, entry);
  else {
    await cache.set(readsKey(key, reads), entry);
    if (!index?.some((set) => sameNames(set, names))) {
      // Different tasks may read different names (b only when a is set): keep the latest few sets.
      const sets = [names, ...(index ?? [])].slice(0, MAX_READ_SETS);
      await cache.set(key, { output: null, readSets: sets, metrics: [], wrote: [], artifacts: [] });
    }
  }
  return { output: out, hit: false, inputHash };
}

/** How many different sets of read names a step's index keeps (oldest dropped: a miss, never a stale hit). */
const MAX_READ_SETS = 16;

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** A hit replays what the step recorded: metrics, context writes and artifacts. */
function replay(state: TaskState, ctx: StepContext, entry: CachedStep): void {
  for (const [k, v] of entry.wrote) ctx.add(k, v);
  for (const [m, v] of entry.metrics) ctx.record(m, v);
  for (const a of entry.artifacts) {
    state.artifacts.push({ artifact: a.artifact, step: ctx.owner, codec: a.codec, bytes: a.bytes });
  }
}

function snapshotLengths(state: TaskState): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of Object.entries(state.metrics)) m.set(k, v.length);
  return m;
}

function recordedSince(state: TaskState, before: Map<string, number>): Array<readonly [string, number]> {
  // Metrics in recording order are not kept across names, so order by name then value order;
  // replay preserves each metric's own order, which is all aggregation depends on.
  const out: Array<readonly [string, number]> = [];
  for (const [k, values] of Object.entries(state.metrics)) {
    for (let i = before.get(k) ?? 0; i < values.length; i++) out.push([k, values[i]!] as const);
  }
  return out;
}

function buildOutcome(
  ref: TaskRef,
  seed: number,
  state: TaskState,
  provenance: readonly ProvenanceRecord[],
  failure: TaskFailure | undefined,
): TaskOutcome {
  return failure
    ? {
        condition: ref.condition,
        replicate: ref.replicate,
        status: "failed",
        seed,
        metrics: state.metrics,
        provenance,
        artifacts: state.artifacts,
        error: toTaskError(ref, failure),
      }
    : {
        condition: ref.condition,
        replicate: ref.replicate,
        status: "ok",
        seed,
        metrics: state.metrics,
        provenance,
        artifacts: state.artifacts,
      };
}

function toTaskError(ref: TaskRef, failure: TaskFailure): TaskError {
  const e = failure.error;
  const cause = e instanceof PipelineExecutionError && e.cause instanceof Error ? e.cause : e;
  const stack = cause instanceof Error ? (cause.stack ?? String(cause)) : String(cause);
  const message = e instanceof Error ? e.message : String(e);
  // The cause's own code wins over the step wrapper's, so E_CONTEXT_MUTATION is not reported as E_STEP_FAILED.
  const causeCode = cause === e ? "E_UNKNOWN" : errorCode(cause);
  const wrapped = causeCode !== "E_UNKNOWN";
  const name = cause instanceof Error ? cause.constructor.name || cause.name : undefined;
  const err: TaskError = {
    condition: ref.condition,
    replicate: ref.replicate,
    ...(failure.step === undefined ? {} : { step: failure.step }),
    ...(failure.phase === undefined ? {} : { phase: failure.phase }),
    code: wrapped ? causeCode : errorCode(e),
    ...(name === undefined ? {} : { name }),
    ...(wrapped ? { wrapperCode: errorCode(e) } : {}),
    message,
    stack,
    ...(e instanceof CacheCorruptionError ? { file: e.file } : {}),
  };
  return err;
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";
}
