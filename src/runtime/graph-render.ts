// Renders a graph of experiments as Mermaid or Graphviz DOT text (for `crystallize graph`).
// Works from a plain description, so a graph node and a compiled manifest's edges render alike.
import type { Graph, GraphEdge } from "../dsl/graph.js";

export interface GraphDescription {
  readonly name: string;
  /** Experiment names, in listing order. */
  readonly nodes: readonly string[];
  readonly edges: readonly Pick<GraphEdge, "from" | "to" | "artifact">[];
}

export type GraphFormat = "mermaid" | "dot";

export function describeGraph(g: Graph): GraphDescription {
  return { name: g.name, nodes: g.experiments.map((e) => e.name), edges: g.edges };
}

/** One edge per (producer, consumer) pair, its label the artifact names in first-seen order. */
function mergedEdges(edges: GraphDescription["edges"]): { from: string; to: string; label: string }[] {
  const byPair = new Map<string, { from: string; to: string; artifacts: string[] }>();
  for (const e of edges) {
    const key = `${e.from}\u0000${e.to}`;
    const entry = byPair.get(key) ?? { from: e.from, to: e.to, artifacts: [] };
    if (!entry.artifacts.includes(e.artifact)) entry.artifacts.push(e.artifact);
    byPair.set(key, entry);
  }
  return [...byPair.values()].map((e) => ({ from: e.from, to: e.to, label: e.artifacts.join(", ") }));
}

const mermaidText = (s: string) => s.replace(/"/g, "#quot;");
const dotText = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

export function renderGraph(graph: GraphDescription | Graph, format: GraphFormat = "mermaid"): string {
  const d = (graph as Graph).kind === "graph" ? describeGraph(graph as Graph) : (graph as GraphDescription);
  const edges = mergedEdges(d.edges);
  if (format === "dot") {
    const lines = [`digraph "${dotText(d.name)}" {`, "  rankdir=LR;", "  node [shape=box];"];
    for (const n of d.nodes) lines.push(`  "${dotText(n)}";`);
    for (const e of edges) lines.push(`  "${dotText(e.from)}" -> "${dotText(e.to)}" [label="${dotText(e.label)}"];`);
    lines.push("}");
    return lines.join("\n") + "\n";
  }
  if (format !== "mermaid") throw new TypeError(`unknown graph format ${JSON.stringify(format)}; use "mermaid" or "dot"`);
  // Mermaid ids must be plain; names go in labels.
  const id = new Map(d.nodes.map((n, i) => [n, `n${i}`] as const));
  const idOf = (n: string) => {
    let v = id.get(n);
    if (v === undefined) {
      v = `n${id.size}`;
      id.set(n, v);
    }
    return v;
  };
  const lines = [`---`, `title: ${d.name}`, `---`, "flowchart LR"];
  for (const n of d.nodes) lines.push(`  ${idOf(n)}["${mermaidText(n)}"]`);
  for (const e of edges) lines.push(`  ${idOf(e.from)} -- "${mermaidText(e.label)}" --> ${idOf(e.to)}`);
  return lines.join("\n") + "\n";
}
