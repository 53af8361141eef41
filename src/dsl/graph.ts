// graph(name, [exp, ...]): a DAG of experiments whose edges are typed artifacts. An edge runs
// from the producer of an artifact to every experiment whose `input({...})` reads it, either
// through `producer.output(artifact)` or through the bare artifact() declaration (resolved by
// graph-wiring.ts, the rule the compiler shares: the member listing that very declaration, else
// the one member listing an artifact of the same name). The node is pure data plus `run()`,
// which delegates to the runtime's graph runner.
import { GraphCycleError, ValidationError } from "../errors.js";
import { requireEngineFeature } from "./engine.js";
import type { AnyExperiment, Experiment } from "./experiment.js";
import type { Artifact } from "./artifact.js";
import { resolveInput, type WiringProblem, type WiringView } from "./graph-wiring.js";
import { artifactInputs } from "./input.js";
import { nameProblem } from "./names.js";
import type { CompiledHashes, ExperimentAddress } from "./plugin.js";
import type { Result } from "./result.js";
import type { RunOptions } from "./run-options.js";

/** One artifact link: `to`'s input `input` reads `artifact` written by `from`. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly artifact: string;
  readonly input: string;
}

/** What happened to an experiment during `graph.run()`, in the order it happened. */
export interface GraphEvent {
  readonly type: "start" | "end" | "fail";
  readonly experiment: string;
  /** performance.now() when the event happened. */
  readonly at: number;
  /** On "end": true when resume reused the stored run and no task ran. */
  readonly reused?: boolean;
  /** On "fail": the error that rejected the experiment's run. */
  readonly error?: unknown;
}

export interface GraphRunOptions
  extends Omit<RunOptions, "treatments" | "address" | "resume"> {
  /**
   * Runs exactly these treatments in every experiment that has them (own or inherited), instead of
   * each experiment's own plus inherited treatments. Each name must belong to some experiment.
   */
  readonly treatments?: readonly string[];
  /**
   * Skip experiments whose stored run completed with the same step hashes, settings and inputs;
   * rerun every experiment downstream of one that ran. Needs a storage plugin (artifacts()).
   */
  readonly resume?: boolean;
  /** At most this many experiments run at once (default: all whose inputs are ready). */
  readonly concurrency?: number;
  /** Module addresses by experiment name, for worker-based execution. */
  readonly addresses?: Readonly<Record<string, ExperimentAddress>>;
  /**
   * The manifest's hashes by experiment name (what `crystallize run <graph>` passes: step names
   * need not be unique across a graph's experiments). For the experiments it names, it wins over
   * `stepHashes`; otherwise each experiment uses `stepHashes`, else its project's manifest when
   * fresh, else the runtime fallback. The resume fingerprint uses the same hashes.
   */
  readonly compiledHashes?: Readonly<Record<string, CompiledHashes>>;
  /** Called as experiments start and end (for progress displays and tests). */
  readonly onEvent?: (event: GraphEvent) => void;
}

export interface GraphResult<N extends string = string> {
  /** Every experiment's Result, keyed by experiment name. */
  readonly results: Readonly<Record<N, Result>>;
  /** Names in the order their runs finished. */
  readonly completed: readonly N[];
  /** Experiments resume reused without running any task. */
  readonly reused: readonly N[];
}

export interface Graph {
  readonly kind: "graph";
  readonly name: string;
  readonly experiments: readonly AnyExperiment[];
  /** Artifact links, in experiment then input order. */
  readonly edges: readonly GraphEdge[];
  /** Experiment names in a topological order (producers first; ties keep the listing order). */
  readonly order: readonly string[];
  /** Runs every experiment, producers before consumers, independent ones concurrently. */
  run(options?: GraphRunOptions): Promise<GraphResult>;
  /** Throws ValidationError (or GraphCycleError) describing what is wrong. */
  validate(): void;
}

/**
 * Any experiment, whatever its types: `Experiment` is invariant in its input type (its source
 * produces it, its pipeline consumes it), so no narrower type accepts them all.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SomeExperiment = Experiment<any, any, any, any, any, any>;

export interface GraphAnalysis {
  readonly edges: readonly GraphEdge[];
  /** Topological order; holds every name only when there is no cycle. */
  readonly order: readonly string[];
  /** Definition problems (duplicate names, unknown producers, ...). */
  readonly problems: readonly string[];
  /** A cycle as names, first repeated last (["a", "b", "a"]), when there is one. */
  readonly cycle: readonly string[] | undefined;
}

/** Pure analysis of a graph's experiments: edges, problems, a topological order or a cycle. */
export function analyseGraph(graphName: string, experiments: readonly unknown[]): GraphAnalysis {
  const problems: string[] = [];
  const bad = nameProblem("graph", graphName);
  if (bad) problems.push(bad);
  if (!Array.isArray(experiments)) {
    return { edges: [], order: [], problems: [...problems, "experiments must be an array of experiments"], cycle: undefined };
  }
  const nodes: AnyExperiment[] = [];
  const byName = new Map<string, AnyExperiment>();
  experiments.forEach((e, i) => {
    if ((e as { kind?: unknown } | null)?.kind !== "experiment") {
      problems.push(`item ${i + 1} of the experiments is not an experiment (create experiments with experiment(name, {...}))`);
      return;
    }
    const exp = e as AnyExperiment;
    if (byName.has(exp.name)) {
      problems.push(
        `experiment name "${exp.name}" is used twice; names key storage and results, so every experiment in a graph needs its own`,
      );
      return;
    }
    byName.set(exp.name, exp);
    nodes.push(exp);
  });

  const view: WiringView<AnyExperiment, Artifact<unknown>> = { outputs: (e) => e.outputs, name: (a) => a.name };
  const edges: GraphEdge[] = [];
  for (const exp of nodes) {
    for (const spec of artifactInputs(exp.source)) {
      const where = `input "${spec.alias}" of experiment "${exp.name}"`;
      // Members are keyed by name, so a producer is unknown only when no member has its name.
      const named = spec.producer ? (byName.get(spec.producer.name) ?? spec.producer) : undefined;
      const wiring = resolveInput(view, nodes, { artifact: spec.artifact, producer: named });
      if (!wiring.ok) {
        problems.push(wiringProblem(where, graphName, spec.artifact.name, wiring));
        continue;
      }
      const from = wiring.producer.name;
      edges.push(Object.freeze({ from, to: exp.name, artifact: spec.artifact.name, input: spec.alias }));
    }
  }

  const { order, cycle } = topologicalOrder(
    nodes.map((n) => n.name),
    edges,
  );
  return { edges, order, problems, cycle };
}

/** graph()'s wording of a wiring problem (the compiler words the same problems as diagnostics). */
function wiringProblem(where: string, graphName: string, artifact: string, p: WiringProblem<AnyExperiment>): string {
  switch (p.kind) {
    case "unknown-producer":
      return `${where} reads "${artifact}" from experiment "${p.producer.name}", which is not in graph "${graphName}"; add it to the graph's experiments`;
    case "not-listed":
      return `${where} reads "${artifact}" from experiment "${p.producer.name}", whose outputs do not list it (outputs: ${p.producer.outputs.map((a) => a.name).join(", ") || "none"})`;
    case "no-lister":
      return `${where} reads artifact "${artifact}", which no experiment in graph "${graphName}" lists in its outputs`;
    case "ambiguous":
      return `${where} reads artifact "${artifact}", which several experiments list in their outputs${p.by === "name" ? " under that name" : ""} (${p.candidates.map((c) => c.name).join(", ")}); name one with producer.output(artifact)`;
  }
}

/** Kahn's algorithm, ties broken by listing order; on a cycle, one cycle found by depth-first search. */
export function topologicalOrder(
  names: readonly string[],
  edges: readonly { readonly from: string; readonly to: string }[],
): { order: string[]; cycle: string[] | undefined } {
  const index = new Map(names.map((n, i) => [n, i] as const));
  const children = new Map<string, string[]>(names.map((n) => [n, []]));
  const indegree = new Map<string, number>(names.map((n) => [n, 0]));
  const seen = new Set<string>();
  for (const e of edges) {
    const key = `${e.from}\u0000${e.to}`;
    if (seen.has(key) || !index.has(e.from) || !index.has(e.to)) continue;
    seen.add(key);
    children.get(e.from)!.push(e.to);
    indegree.set(e.to, indegree.get(e.to)! + 1);
  }
  // A binary heap would be O(n log n); ready sets here are small, so a sorted insert is enough.
  const ready = names.filter((n) => indegree.get(n) === 0);
  const order: string[] = [];
  while (ready.length) {
    const n = ready.shift()!;
    order.push(n);
    for (const c of children.get(n)!) {
      const d = indegree.get(c)! - 1;
      indegree.set(c, d);
      if (d === 0) {
        const at = ready.findIndex((r) => index.get(r)! > index.get(c)!);
        if (at < 0) ready.push(c);
        else ready.splice(at, 0, c);
      }
    }
  }
  if (order.length === names.length) return { order, cycle: undefined };
  return { order, cycle: findCycle(names.filter((n) => indegree.get(n)! > 0), children) };
}

function findCycle(candidates: readonly string[], children: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    path.push(n);
    for (const c of children.get(n) ?? []) {
      const s = state.get(c);
      if (s === 1) return [...path.slice(path.indexOf(c)), c];
      if (s === undefined) {
        const found = visit(c);
        if (found) return found;
      }
    }
    path.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of candidates) {
    if (state.has(n)) continue;
    const found = visit(n);
    if (found) return found;
  }
  return [...candidates];
}

function check(name: string, analysis: GraphAnalysis): void {
  if (analysis.problems.length) throw new ValidationError(`graph "${String(name)}"`, analysis.problems);
  if (analysis.cycle) throw new GraphCycleError(analysis.cycle);
}

export function graph(name: string, experiments: readonly SomeExperiment[]): Graph {
  const list = (Array.isArray(experiments) ? Object.freeze([...experiments]) : experiments) as readonly AnyExperiment[];
  const analysis = analyseGraph(name, list);
  check(name, analysis);
  const node: Graph = Object.freeze({
    kind: "graph" as const,
    name,
    experiments: list,
    edges: Object.freeze([...analysis.edges]),
    order: Object.freeze([...analysis.order]),
    run(options?: GraphRunOptions) {
      return requireEngineFeature("runGraph")(node, options ?? {});
    },
    validate() {
      check(name, analyseGraph(name, list));
    },
  });
  return node;
}
