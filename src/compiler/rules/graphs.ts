// CRY2xxx: graphs and artifacts. Experiments linked through `input({ a: exp.output(art) })` or a
// bare artifact inside `graph(name, [...])`; cycles, missing outputs and mismatched types.
import type * as TS from "typescript";
import ts from "../typescript.js";
import type { ArtifactInfo, ExperimentInfo, GraphInfo, InputInfo, Value } from "../discover.js";
import { resolveInput, type WiringProblem, type WiringView } from "../../dsl/graph-wiring.js";
import { quoteList } from "../suggest.js";
import type { Rule, RuleContext } from "./rule.js";

export interface Edge {
  readonly from: ExperimentInfo;
  readonly to: ExperimentInfo;
  /** The artifact's file name. */
  readonly artifact: string | undefined;
  /** The input key of the consumer. */
  readonly key: string;
  readonly node: TS.Node;
}

export interface InputLink {
  readonly consumer: ExperimentInfo;
  readonly key: string;
  readonly node: TS.Node;
  readonly producer: ExperimentInfo | undefined;
  readonly artifact: ArtifactInfo | undefined;
  readonly artifactNode: TS.Node;
  readonly via: "output" | "artifact";
  /** Why no member produces it (only when resolved among a graph's members). */
  readonly problem: WiringProblem<ExperimentInfo> | undefined;
}

function inputOf(e: ExperimentInfo): InputInfo | undefined {
  return e.source?.kind === "input" ? e.source : undefined;
}

function outputsOf(e: ExperimentInfo): ArtifactInfo[] {
  return (e.outputs ?? []).filter((o): o is ArtifactInfo => o.kind === "artifact");
}

// The wiring rule is graph()'s own (src/dsl/graph-wiring.ts, pure), so compile and graph() agree.
const wiringView: WiringView<ExperimentInfo, ArtifactInfo> = {
  outputs: outputsOf,
  name: (a) => a.name,
  same: (a, b) => a.node === b.node,
};

/**
 * Each artifact input of an experiment and who produces it. `members`: the graph's experiments,
 * which resolve bare artifacts and give each link its wiring problem; without them a bare artifact
 * has no producer and a `producer.output(art)` link is taken as written.
 */
export function inputLinks(e: ExperimentInfo, members?: readonly ExperimentInfo[]): InputLink[] {
  const input = inputOf(e);
  if (!input) return [];
  const links: InputLink[] = [];
  for (const entry of input.entries) {
    const v = entry.value;
    if (v.kind === "output-ref") {
      const producer = v.experiment.kind === "experiment" ? v.experiment : undefined;
      const artifact = v.artifact.kind === "artifact" ? v.artifact : undefined;
      const wiring = members && producer && artifact ? resolveInput(wiringView, members, { artifact, producer }) : undefined;
      links.push({
        consumer: e,
        key: entry.key,
        node: entry.node,
        producer,
        artifact,
        artifactNode: v.artifactNode,
        via: "output",
        problem: wiring && !wiring.ok ? wiring : undefined,
      });
    } else if (v.kind === "artifact") {
      const wiring = members ? resolveInput(wiringView, members, { artifact: v }) : undefined;
      links.push({
        consumer: e,
        key: entry.key,
        node: entry.node,
        producer: wiring?.ok ? wiring.producer : undefined,
        artifact: v,
        artifactNode: entry.node,
        via: "artifact",
        problem: wiring && !wiring.ok ? wiring : undefined,
      });
    }
  }
  return links;
}

export function graphMembers(g: GraphInfo): ExperimentInfo[] {
  return (g.members ?? []).filter((m): m is ExperimentInfo => m.kind === "experiment");
}

/** The edges among a set of experiments (producer → consumer). */
export function edgesOf(experiments: readonly ExperimentInfo[], members: readonly ExperimentInfo[] = experiments): Edge[] {
  const edges: Edge[] = [];
  for (const e of experiments) {
    for (const l of inputLinks(e, members)) {
      if (l.producer) edges.push({ from: l.producer, to: e, artifact: l.artifact?.name, key: l.key, node: l.node });
    }
  }
  return edges;
}

/** A cycle among the experiments, as a list that starts and ends with the same experiment. */
export function findCycle(nodes: readonly ExperimentInfo[], edges: readonly Edge[]): ExperimentInfo[] | undefined {
  const next = new Map<ExperimentInfo, ExperimentInfo[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<ExperimentInfo, 1 | 2>();
  const stack: ExperimentInfo[] = [];
  const dfs = (n: ExperimentInfo): ExperimentInfo[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const m of next.get(n) ?? []) {
      if (state.get(m) === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (!state.has(m)) {
        const c = dfs(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of nodes) {
    if (!state.has(n)) {
      const c = dfs(n);
      if (c) return c;
    }
  }
  return undefined;
}

function artifactType(ctx: RuleContext, a: ArtifactInfo): string | undefined {
  try {
    const t = ctx.host.checker.getTypeAtLocation(a.node);
    const args = (t as TS.TypeReference).target ? ctx.host.checker.getTypeArguments(t as TS.TypeReference) : undefined;
    const inner = args?.[0];
    return inner ? ctx.host.checker.typeToString(inner, undefined, ts.TypeFormatFlags.NoTruncation) : undefined;
  } catch {
    return undefined;
  }
}

function label(e: ExperimentInfo | undefined): string {
  return e?.name !== undefined ? `"${e.name}"` : "the experiment";
}

function allExperiments(ctx: RuleContext): ExperimentInfo[] {
  return [...ctx.discovery.experiments.map((e) => e.info), ...ctx.discovery.unexported.filter((u): u is ExperimentInfo => u.kind === "experiment")];
}

function graphs(ctx: RuleContext): GraphInfo[] {
  return [...ctx.discovery.graphs.map((g) => g.info), ...ctx.discovery.unexported.filter((u): u is GraphInfo => u.kind === "graph")];
}

export const graphRules: Rule[] = [
  {
    code: "CRY2001",
    name: "graph-cycle",
    severity: "error",
    summary: "The experiments of a graph depend on each other in a cycle.",
    fix: "Break the cycle: one of the experiments must not read an artifact that (transitively) depends on its own output.",
    check(ctx, report) {
      for (const g of graphs(ctx)) {
        const members = graphMembers(g);
        const cycle = findCycle(members, edgesOf(members));
        if (cycle) {
          report(g.nameNode, `graph "${g.name ?? "?"}" has a cycle: ${cycle.map((e) => e.name ?? "?").join(" → ")}; a graph must be acyclic, so one of these experiments must stop reading the other's artifact`);
        }
      }
    },
  },
  {
    code: "CRY2002",
    name: "artifact-not-output",
    severity: "error",
    summary: "An input reads exp.output(art), but exp does not list art in its outputs.",
    fix: "Add the artifact to the producer's outputs, or read one it lists.",
    check(ctx, report) {
      const seen = new Set<TS.Node>();
      for (const e of allExperiments(ctx)) {
        for (const l of inputLinks(e)) {
          if (l.via !== "output" || !l.producer || !l.producer.outputs || seen.has(l.artifactNode)) continue;
          seen.add(l.artifactNode);
          const outs = outputsOf(l.producer);
          const name = l.artifact?.name;
          if (name !== undefined && !outs.some((o) => o.name === name)) {
            report(l.artifactNode, `experiment ${label(l.producer)} does not output "${name}" (its outputs: ${quoteList(outs.flatMap((o) => (o.name !== undefined ? [o.name] : [])))}); add the artifact to its outputs or read one it lists`);
          }
        }
      }
    },
  },
  {
    code: "CRY2003",
    name: "artifact-type-mismatch",
    severity: "error",
    summary: "A consumer reads an artifact with another type than its producer writes.",
    fix: "Use the producer's artifact declaration (import it) so that both sides share one type.",
    check(ctx, report) {
      const check = (l: InputLink) => {
        if (!l.producer || !l.artifact) return;
        const out = outputsOf(l.producer).find((o) => o.node === l.artifact!.node || (o.name !== undefined && o.name === l.artifact!.name));
        if (!out || out.node === l.artifact.node) return;
        const produced = artifactType(ctx, out);
        const consumed = artifactType(ctx, l.artifact);
        if (produced && consumed && produced !== consumed) {
          report(l.artifactNode, `artifact "${l.artifact.name ?? "?"}" is written by ${label(l.producer)} as ${produced} but read here as ${consumed}; import the producer's artifact declaration so both sides share one type`);
        }
      };
      // Links inside graphs first (their producers are the graph's members), then any others.
      const links = [
        ...graphs(ctx).flatMap((g) => {
          const members = graphMembers(g);
          return members.flatMap((m) => inputLinks(m, members));
        }),
        ...allExperiments(ctx).flatMap((e) => inputLinks(e)),
      ];
      const seen = new Set<TS.Node>();
      for (const l of links) {
        if (seen.has(l.artifactNode)) continue;
        seen.add(l.artifactNode);
        check(l);
      }
    },
  },
  {
    code: "CRY2004",
    name: "unproduced-input",
    severity: "error",
    summary: "Inside a graph, an input reads a bare artifact that no experiment of the graph outputs, or producer.output(art) from an experiment outside the graph.",
    fix: "Add the producing experiment to the graph, or list the artifact in its outputs.",
    check(ctx, report) {
      for (const g of graphs(ctx)) {
        const members = graphMembers(g);
        for (const m of members) {
          for (const l of inputLinks(m, members)) {
            if (l.problem?.kind === "no-lister") {
              report(l.node, `no experiment of graph "${g.name ?? "?"}" outputs "${l.artifact?.name ?? "?"}", which ${label(m)} reads as input "${l.key}"; add the producing experiment to the graph or list the artifact in its outputs`);
            } else if (l.problem?.kind === "unknown-producer") {
              report(l.node, `${label(m)} reads "${l.artifact?.name ?? "?"}" as input "${l.key}" from ${label(l.producer)}, which is not in graph "${g.name ?? "?"}"; add the producing experiment to the graph`);
            }
          }
        }
      }
    },
  },
  {
    code: "CRY2008",
    name: "ambiguous-input",
    severity: "error",
    summary: "Inside a graph, an input reads a bare artifact that several experiments of the graph list (the same declaration, or else the same file name).",
    fix: "Name the producer with producer.output(artifact), or let only one experiment of the graph list the artifact.",
    check(ctx, report) {
      for (const g of graphs(ctx)) {
        const members = graphMembers(g);
        for (const m of members) {
          for (const l of inputLinks(m, members)) {
            if (l.problem?.kind !== "ambiguous") continue;
            const names = quoteList(l.problem.candidates.map((c) => c.name ?? "?"));
            report(l.node, `several experiments of graph "${g.name ?? "?"}" list "${l.artifact?.name ?? "?"}" in their outputs${l.problem.by === "name" ? " under that name" : ""} (${names}), which ${label(m)} reads as input "${l.key}"; name one with producer.output(artifact)`);
          }
        }
      }
    },
  },
  {
    code: "CRY2005",
    name: "duplicate-output",
    severity: "error",
    summary: "An experiment lists the same artifact name twice in its outputs.",
    fix: "List each artifact once.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        const names = new Set<string>();
        (e.outputs ?? []).forEach((o: Value, i) => {
          if (o.kind !== "artifact" || o.name === undefined) return;
          if (names.has(o.name)) report(e.outputUses[i] ?? o.node, `${label(e)} lists output "${o.name}" twice; list each artifact once`);
          names.add(o.name);
        });
      }
    },
  },
  {
    code: "CRY2006",
    name: "duplicate-graph-member",
    severity: "error",
    summary: "A graph lists the same experiment twice, or two experiments with the same name.",
    fix: "List each experiment once.",
    check(ctx, report) {
      for (const g of graphs(ctx)) {
        const seen = new Set<string>();
        const nodes = new Set<TS.Node>();
        (g.members ?? []).forEach((m, i) => {
          if (m.kind !== "experiment") return;
          const use = g.memberUses[i] ?? m.node;
          if (nodes.has(m.node) || (m.name !== undefined && seen.has(m.name))) {
            report(use, `graph "${g.name ?? "?"}" lists experiment ${label(m)} twice; list each experiment once`);
          }
          nodes.add(m.node);
          if (m.name !== undefined) seen.add(m.name);
        });
      }
    },
  },
  {
    code: "CRY2007",
    name: "duplicate-graph-name",
    severity: "error",
    summary: "Two graphs of the project have the same name.",
    fix: "Give each graph its own name.",
    check(ctx, report) {
      const seen = new Set<string>();
      for (const { info } of ctx.discovery.graphs) {
        if (info.name === undefined) continue;
        if (seen.has(info.name)) report(info.nameNode, `graph name "${info.name}" is already used; give each graph its own name`);
        seen.add(info.name);
      }
    },
  },
];
