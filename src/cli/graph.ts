// crystallize graph [--format mermaid|dot]: experiments and the artifacts between them.
import type { Command } from "commander";
import type { Manifest } from "../compiler/manifest.js";
import { CliError, printDiagnostics } from "./output.js";
import { findProject } from "./project-options.js";

const id = (name: string) => name.replace(/[^A-Za-z0-9_]/g, "_");
const q = (s: string) => JSON.stringify(s);

export function mermaid(m: Manifest): string {
  const lines = ["flowchart LR"];
  const inGraph = new Set<string>();
  for (const g of m.graphs) {
    lines.push(`  subgraph ${id(`graph_${g.name}`)}[${q(g.name)}]`);
    for (const e of g.experiments) {
      lines.push(`    ${id(e)}[${q(e)}]`);
      inGraph.add(e);
    }
    lines.push("  end");
  }
  for (const e of m.experiments) if (!inGraph.has(e.name)) lines.push(`  ${id(e.name)}[${q(e.name)}]`);
  for (const e of m.edges) lines.push(`  ${id(e.from)} -->|${q(e.artifact ?? e.input)}| ${id(e.to)}`);
  return `${lines.join("\n")}\n`;
}

export function dot(m: Manifest): string {
  const lines = ["digraph crystallize {", "  rankdir=LR;", "  node [shape=box];"];
  const inGraph = new Set<string>();
  for (const g of m.graphs) {
    lines.push(`  subgraph ${q(`cluster_${g.name}`)} {`, `    label=${q(g.name)};`);
    for (const e of g.experiments) {
      lines.push(`    ${q(e)};`);
      inGraph.add(e);
    }
    lines.push("  }");
  }
  for (const e of m.experiments) if (!inGraph.has(e.name)) lines.push(`  ${q(e.name)};`);
  for (const e of m.edges) lines.push(`  ${q(e.from)} -> ${q(e.to)} [label=${q(e.artifact ?? e.input)}];`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

export function registerGraph(program: Command): void {
  program
    .command("graph")
    .description("print the experiments and the artifacts that link them, as Mermaid or Graphviz dot")
    .option("-p, --project <tsconfig>", "the project's tsconfig.json, or a folder to search upward from for one (default: the current folder)")
    .option("--format <format>", "mermaid or dot", "mermaid")
    .action(async (opts: { project?: string; format: string }) => {
      if (opts.format !== "mermaid" && opts.format !== "dot") throw new CliError(`unknown format "${opts.format}"; use --format mermaid or --format dot`);
      const { compile } = await import("../compiler/compile.js");
      const r = await compile({ project: findProject(opts.project), emit: false });
      if (r.diagnostics.length) printDiagnostics(process.stderr, r.diagnostics);
      if (!r.ok) process.exitCode = 1;
      if (r.manifest) process.stdout.write(opts.format === "dot" ? dot(r.manifest) : mermaid(r.manifest));
    });
}
