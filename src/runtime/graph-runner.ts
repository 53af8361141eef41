// Runs a graph of experiments: producers before consumers, experiments without a path between
// them concurrently. Each experiment runs through the ordinary experiment runner, as a shallow
// copy whose input() source is bound to its producers' runs and whose treatments include the ones
// it inherits. With `resume`, an experiment whose stored run completed with the same definition
// (step hashes, params, treatments, seed, replicates, source) and the same producer versions is
// reused without running a task; everything downstream of an experiment that ran is rerun.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { AnyExperiment } from "../dsl/experiment.js";
import { analyseGraph, type Graph, type GraphEvent, type GraphResult, type GraphRunOptions } from "../dsl/graph.js";
import { isInputSource, type InputSpec } from "../dsl/input.js";
import type { Plugin, TaskSettings } from "../dsl/plugin.js";
import type { Result } from "../dsl/result.js";
import type { RunOptions } from "../dsl/run-options.js";
import type { Source } from "../dsl/source.js";
import type { AnyTreatment } from "../dsl/treatment.js";
import { CancelledError, GraphCycleError, ValidationError } from "../errors.js";
import { canonicalHash } from "./canonical-hash.js";
import { fallbackStepHash } from "./cache/fallback-step-hash.js";
import { loggerOf, resolvePlugins, settingsFor, stepHashesProblems, type RuntimeDefaults } from "./experiment-runner.js";
import { manifestHashes } from "./manifest-lookup.js";
import {
  CapturedArtifacts,
  artifactsRootOf,
  boundInputSource,
  checkReplicateAgreement,
  deriveExperiment,
  producerFromResult,
  type ProducerArtifacts,
} from "./input-resolver.js";
import { isStoragePlugin } from "./services.js";
import { stepHashOf } from "./step-hash.js";
import { readCheckedJson, writeCheckedJson } from "./storage/checked-json.js";
import { latestVersion } from "./storage/versions.js";
import { runExperiment } from "./experiment-runner.js";

/** What the graph runner remembers about each experiment, for resume. */
interface NodeState {
  readonly version: number | null;
  readonly status: "completed" | "cancelled";
  /** Canonical hash of everything that defines the run (see fingerprintOf). */
  readonly fingerprint: string;
  /** The version of each producer this run read. */
  readonly inputs: Readonly<Record<string, number | null>>;
}

/** Where the graph runner keeps an experiment's resume state: one small file per experiment. */
export function graphStatePath(outDir: string, graphName: string, experiment: string): string {
  return join(outDir, "graphs", graphName, `${experiment}.json`);
}

/** An experiment's own treatments, then the ones it inherits from its ancestors (its own win on a name clash). */
export function inheritedTreatments(
  order: readonly string[],
  experiments: ReadonlyMap<string, AnyExperiment>,
  parents: ReadonlyMap<string, readonly string[]>,
): Map<string, AnyTreatment[]> {
  const out = new Map<string, AnyTreatment[]>();
  for (const name of order) {
    const exp = experiments.get(name)!;
    const list: AnyTreatment[] = [...exp.treatments];
    const seen = new Set(list.map((t) => t.name));
    for (const p of parents.get(name) ?? []) {
      for (const t of out.get(p) ?? []) {
        if (seen.has(t.name)) continue;
        seen.add(t.name);
        list.push(t);
      }
    }
    out.set(name, list);
  }
  return out;
}

/** A treatment as seen by an experiment that inherits it: only the params its own steps declare. */
function adaptTreatment(t: AnyTreatment, declared: ReadonlySet<string>): AnyTreatment {
  const keep = (values: object) =>
    Object.freeze(Object.fromEntries(Object.entries(values).filter(([k]) => declared.has(k))));
  if (t.values) return Object.freeze({ kind: "treatment" as const, name: t.name, values: keep(t.values) });
  const compute = t.compute!;
  return Object.freeze({ kind: "treatment" as const, name: t.name, compute: (ctx: Parameters<typeof compute>[0]) => keep(compute(ctx)) });
}

function sourceFingerprint(source: Source<unknown> | undefined): unknown {
  if (!source) return null;
  if (isInputSource(source)) {
    return source.inputs.map((s: InputSpec) =>
      s.kind === "source"
        ? { alias: s.alias, source: fallbackStepHash(s.source.name, s.source.fetch as (...a: never[]) => unknown) }
        : { alias: s.alias, artifact: s.artifact.name, codec: s.artifact.codec.name ?? "custom" },
    );
  }
  return fallbackStepHash(source.name, source.fetch as (...a: never[]) => unknown);
}

/** Everything that defines a node's run; `stepHashes` are the ones the run itself uses (settings.stepHashes). */
function fingerprintOf(
  exp: AnyExperiment,
  run: { seed: number; replicates: number; perReplicateSeed: boolean; stepHashes: TaskSettings["stepHashes"] },
  treatments: readonly AnyTreatment[],
  sourceHash: string | undefined,
): string {
  return canonicalHash({
    schema: "crystallize.graph-node/1",
    steps: exp.pipeline.steps.map((s) => ({ name: s.name, hash: stepHashOf(s, run.stepHashes).hash, params: s.params })),
    treatments: treatments.map((t) => ({
      name: t.name,
      values: t.values ?? null,
      compute: t.compute ? fallbackStepHash(t.name, t.compute as (...a: never[]) => unknown) : null,
    })),
    seed: run.seed,
    perReplicateSeed: run.perReplicateSeed,
    replicates: run.replicates,
    // The compiler's source hash when the manifest gives one: the source's text differs between a
    // bundle (the CLI) and a TypeScript loader (a script), its structure does not.
    source: sourceHash ?? sourceFingerprint(exp.source),
  });
}

async function readState(path: string): Promise<NodeState | undefined> {
  // A damaged state file only means the experiment runs again.
  const fields = await readCheckedJson(path).catch(() => undefined);
  if (!fields || typeof fields.fingerprint !== "string" || typeof fields.inputs !== "object" || fields.inputs === null) return undefined;
  return fields as unknown as NodeState;
}

interface NodePlan {
  readonly exp: AnyExperiment;
  readonly parents: readonly string[];
  readonly children: readonly string[];
  /** alias → producer name, for artifact inputs. */
  readonly inputs: ReadonlyMap<string, string>;
  /** The treatments it runs, adapted to its own params when inherited. */
  readonly treatments: readonly AnyTreatment[];
  /** The same treatments as declared (for the resume fingerprint). */
  readonly declaredTreatments: readonly AnyTreatment[];
  readonly replicates: number;
}

export async function runGraph(g: Graph, options: GraphRunOptions, defaults: RuntimeDefaults): Promise<GraphResult> {
  if ((g as { kind?: unknown } | null)?.kind !== "graph") throw new ValidationError("graph run", ["expected a graph(name, [experiments])"]);
  // Checked again here (the node may not come from graph()): nothing runs before this passes.
  const analysis = analyseGraph(g.name, g.experiments);
  if (analysis.problems.length) throw new ValidationError(`graph "${g.name}"`, analysis.problems);
  if (analysis.cycle) throw new GraphCycleError(analysis.cycle);

  const problems: string[] = [];
  const limit = options.concurrency ?? Infinity;
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) {
    problems.push(`concurrency must be a positive integer, got ${JSON.stringify(options.concurrency)}`);
  }
  const experiments = new Map(g.experiments.map((e) => [e.name, e] as const));
  const parents = new Map<string, string[]>(g.experiments.map((e) => [e.name, []]));
  const children = new Map<string, string[]>(g.experiments.map((e) => [e.name, []]));
  const inputs = new Map<string, Map<string, string>>(g.experiments.map((e) => [e.name, new Map()]));
  for (const e of analysis.edges) {
    if (!parents.get(e.to)!.includes(e.from)) parents.get(e.to)!.push(e.from);
    if (!children.get(e.from)!.includes(e.to)) children.get(e.from)!.push(e.to);
    inputs.get(e.to)!.set(e.input, e.from);
  }
  const available = inheritedTreatments(analysis.order, experiments, parents);
  if (options.treatments !== undefined) {
    if (!Array.isArray(options.treatments)) problems.push("treatments must be an array of treatment names");
    else {
      const known = new Set([...available.values()].flat().map((t) => t.name));
      for (const t of options.treatments) {
        if (!known.has(t)) problems.push(`treatments names "${t}", which no experiment of the graph has (treatments: ${[...known].join(", ") || "none"})`);
      }
    }
  }
  const byExperiment = options.compiledHashes;
  if (byExperiment !== undefined) {
    const shape = "{ [experiment]: { stepHashes: { [step]: { hash: string, usesRandom?: boolean } }, sourceHash?: string } }";
    if (typeof byExperiment !== "object" || byExperiment === null || Array.isArray(byExperiment)) problems.push(`compiledHashes must be ${shape}`);
    else {
      for (const [name, c] of Object.entries(byExperiment)) {
        if (!experiments.has(name)) problems.push(`compiledHashes names "${name}", which is not an experiment of the graph`);
        if (typeof c !== "object" || c === null || (c.sourceHash !== undefined && typeof c.sourceHash !== "string")) problems.push(`compiledHashes["${name}"] must be { stepHashes, sourceHash?: string }; the whole option is ${shape}`);
        else problems.push(...stepHashesProblems(c.stepHashes ?? null).map((p) => p.replace("run option stepHashes", `compiledHashes["${name}"].stepHashes`)));
      }
    }
  }
  if (problems.length) throw new ValidationError(`run of graph "${g.name}"`, problems);

  const plans = new Map<string, NodePlan>();
  for (const name of analysis.order) {
    const exp = experiments.get(name)!;
    const declared = new Set(exp.pipeline.steps.flatMap((s) => Object.keys(s.params)));
    const own = new Set(exp.treatments.map((t) => t.name));
    let list = available.get(name)!;
    if (options.treatments) list = list.filter((t) => options.treatments!.includes(t.name));
    plans.set(name, {
      exp,
      parents: parents.get(name)!,
      children: children.get(name)!,
      inputs: inputs.get(name)!,
      treatments: list.map((t) => (own.has(t.name) ? t : adaptTreatment(t, declared))),
      declaredTreatments: list,
      replicates: options.replicates ?? exp.replicates,
    });
  }
  // Replicate counts must agree across each experiment's artifact inputs: checked before any work.
  for (const [name, plan] of plans) {
    const specs = new Map<string, string>();
    if (isInputSource(plan.exp.source)) for (const s of plan.exp.source.inputs) if (s.kind === "artifact") specs.set(s.alias, s.artifact.name);
    checkReplicateAgreement(
      name,
      [...plan.inputs].map(([alias, from]) => ({ alias, producer: from, artifact: specs.get(alias) ?? "?", replicates: plans.get(from)!.replicates })),
    );
  }

  const outDir = options.outDir ?? ".crystallize";
  let writeError: unknown;
  const writes: Promise<void>[] = [];

  const results = new Map<string, Result>();
  const producers = new Map<string, ProducerArtifacts>();
  const captures = new Map<string, CapturedArtifacts>();
  const changed = new Set<string>();
  const completed: string[] = [];
  const reused: string[] = [];
  const emit = (event: GraphEvent) => options.onEvent?.(event);

  const runNode = async (name: string): Promise<void> => {
    const plan = plans.get(name)!;
    const { exp } = plan;
    let source: Source<unknown> | undefined;
    if (isInputSource(exp.source)) {
      const bound = new Map<string, ProducerArtifacts>();
      for (const [alias, from] of plan.inputs) bound.set(alias, producers.get(from)!);
      source = boundInputSource(name, exp.source, bound);
    }
    const derived = deriveExperiment(exp, { ...(source ? { source } : {}), treatments: plan.treatments });
    const resolved = resolvePlugins(derived, options.plugins, defaults);
    const storage = resolved.find((p) => isStoragePlugin(p));
    const extra: Plugin[] = [...(options.plugins ?? [])];
    let capture: CapturedArtifacts | undefined;
    if (!storage && plan.children.length) {
      capture = new CapturedArtifacts();
      captures.set(name, capture);
      extra.push(capture.plugin());
    }
    let runOptions: RunOptions = {
      ...(options.replicates === undefined ? {} : { replicates: options.replicates }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      treatments: plan.treatments.map((t) => t.name),
      ...(options.execution ? { execution: options.execution } : {}),
      ...(options.cache === undefined ? {} : { cache: options.cache }),
      outDir,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.progress === undefined ? {} : { progress: options.progress }),
      plugins: extra,
      ...(options.addresses?.[name] ? { address: options.addresses[name] } : {}),
    };
    // The hashes are settled here, once, so that the run and the resume fingerprint use the same.
    const compiled =
      options.compiledHashes?.[name] ??
      (options.stepHashes ? { stepHashes: options.stepHashes } : manifestHashes(exp, loggerOf(resolved, defaults)));
    if (compiled) runOptions = { ...runOptions, stepHashes: compiled.stepHashes };
    // Only a stored run can be resumed, so only then is the fingerprint needed.
    const fingerprint = storage ? fingerprintOf(exp, settingsFor(derived, runOptions, resolved), plan.declaredTreatments, compiled?.sourceHash) : "";
    const inputVersions: Record<string, number | null> = {};
    for (const p of plan.parents) inputVersions[p] = producers.get(p)?.version ?? null;
    const artifactsRoot = artifactsRootOf(resolved, outDir);

    const statePath = graphStatePath(outDir, g.name, name);
    let resume = false;
    const prev = options.resume && storage ? await readState(statePath) : undefined;
    if (prev && prev.version !== null) {
      resume =
        prev.fingerprint === fingerprint &&
        plan.parents.every((p) => !changed.has(p) && inputVersions[p] !== null && prev.inputs[p] === inputVersions[p]) &&
        (await latestVersion(join(artifactsRoot, name))) === prev.version;
    }

    let result: Result;
    try {
      result = await runExperiment(derived, { ...runOptions, resume }, defaults);
    } catch (e) {
      // A cancelled run keeps its version: remember it, so that resume continues it.
      const partial = e instanceof CancelledError ? (e.partial as Result | undefined) : undefined;
      if (storage && partial?.run.version !== undefined) {
        const entry: NodeState = { version: partial.run.version, status: "cancelled", fingerprint, inputs: inputVersions };
        await writeCheckedJson(statePath, { ...entry }, { fsync: false }).catch(() => undefined);
      }
      throw e;
    }
    const total = result.replicates * result.conditions.length;
    const wasReused = resume && result.run.resumedTasks === total;
    if (!wasReused) changed.add(name);
    else reused.push(name);
    results.set(name, result);
    completed.push(name);
    producers.set(name, producerFromResult(result, { outDir, ...(capture ? { captured: capture } : {}), artifactsRoot }));
    // Written in the background (awaited before run() settles) and without fsync: the rename keeps
    // the file whole, and a lost update only makes resume rerun more.
    const unchanged =
      wasReused && prev !== undefined && prev.version === result.run.version && prev.status === "completed" && prev.fingerprint === fingerprint;
    if (result.run.version !== undefined && !unchanged) {
      const entry: NodeState = { version: result.run.version, status: result.run.status, fingerprint, inputs: inputVersions };
      writes.push(writeCheckedJson(statePath, { ...entry }, { fsync: false }).catch((e: unknown) => void (writeError ??= e)));
    } else if (result.run.version === undefined && prev) {
      writes.push(rm(statePath, { force: true }).catch((e: unknown) => void (writeError ??= e)));
    }
    emit({ type: "end", experiment: name, at: performance.now(), reused: wasReused });
  };

  // Scheduling: an experiment starts once all its producers finished; ties keep the graph's order.
  const position = new Map(analysis.order.map((n, i) => [n, i] as const));
  const waiting = new Map(analysis.order.map((n) => [n, plans.get(n)!.parents.length] as const));
  const ready = analysis.order.filter((n) => waiting.get(n) === 0);
  const remainingChildren = new Map(analysis.order.map((n) => [n, plans.get(n)!.children.length] as const));
  let running = 0;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;

  const start = (name: string) => {
    running++;
    emit({ type: "start", experiment: name, at: performance.now() });
    runNode(name).then(
      () => {
        for (const c of plans.get(name)!.children) {
          const left = waiting.get(c)! - 1;
          waiting.set(c, left);
          if (left === 0) {
            const at = ready.findIndex((r) => position.get(r)! > position.get(c)!);
            if (at < 0) ready.push(c);
            else ready.splice(at, 0, c);
          }
        }
        // Free captured bytes once every consumer of a producer has read them.
        for (const p of plans.get(name)!.parents) {
          const left = remainingChildren.get(p)! - 1;
          remainingChildren.set(p, left);
          if (left === 0) captures.get(p)?.clear();
        }
      },
      (error: unknown) => {
        emit({ type: "fail", experiment: name, at: performance.now(), error });
        failure ??= { error };
      },
    ).finally(() => {
      running--;
      wake?.();
    });
  };

  while (true) {
    while (ready.length && running < limit && !failure && !options.signal?.aborted) start(ready.shift()!);
    if (running === 0) break;
    await new Promise<void>((r) => (wake = r));
    wake = undefined;
  }

  await Promise.all(writes);
  const ordered = Object.freeze(
    Object.fromEntries(g.experiments.filter((e) => results.has(e.name)).map((e) => [e.name, results.get(e.name)!])),
  );
  const graphResult: GraphResult = Object.freeze({
    results: ordered,
    completed: Object.freeze([...completed]),
    reused: Object.freeze([...reused]),
  });
  const cancelled =
    options.signal?.aborted || (failure !== undefined && failure.error instanceof CancelledError);
  if (cancelled) {
    throw new CancelledError(
      `Run of graph "${g.name}" was cancelled after ${completed.length} of ${analysis.order.length} experiments; \`resume: true\` continues it.`,
      graphResult,
    );
  }
  if (failure) throw failure.error;
  if (writeError) throw writeError;
  return graphResult;
}
