// crystallize list [--json]: the project's experiments, their steps (with hashes) and graphs.
import type { Command } from "commander";
import { paint, printDiagnostics } from "./output.js";
import { findProject } from "./project-options.js";

export function registerList(program: Command): void {
  program
    .command("list")
    .description("list the experiments (steps, hashes, params, metrics, treatments, hypotheses) and graphs")
    .option("-p, --project <tsconfig>", "the project's tsconfig.json, or a folder to search upward from for one (default: the current folder)")
    .option("--json", "print the manifest's experiments and graphs as JSON")
    .action(async (opts: { project?: string; json?: boolean }) => {
      const { compile } = await import("../compiler/compile.js");
      const r = await compile({ project: findProject(opts.project), emit: false });
      if (r.diagnostics.length) printDiagnostics(process.stderr, r.diagnostics);
      if (!r.ok) process.exitCode = 1;
      const m = r.manifest;
      if (!m) return;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ experiments: m.experiments, graphs: m.graphs }, null, 2)}\n`);
        return;
      }
      const c = paint(process.stdout);
      if (m.experiments.length === 0) process.stdout.write("no experiments found (export one with `export const x = experiment(...)`)\n");
      for (const e of m.experiments) {
        process.stdout.write(`${c.bold(e.name)}  ${c.dim(`${e.file} (export ${e.export}), ${e.replicates ?? "?"} replicate(s)`)}\n`);
        for (const s of e.steps) {
          const flags = [s.cacheable ? "cacheable" : "", s.usesRandom ? "random" : ""].filter(Boolean).join(", ");
          process.stdout.write(`  step ${s.name ?? "?"}  ${c.dim(s.hash ? s.hash.slice(0, 12) : "no hash")}  ${s.in ?? "?"} → ${s.out ?? "?"}${flags ? `  [${flags}]` : ""}\n`);
          if (s.params && Object.keys(s.params).length) process.stdout.write(`    params ${JSON.stringify(s.params)}\n`);
          if (s.metrics.length) process.stdout.write(`    metrics ${s.metrics.join(", ")}\n`);
        }
        for (const t of e.treatments) process.stdout.write(`  treatment ${t.name ?? "?"} ${t.values ? JSON.stringify(t.values) : "(computed)"}\n`);
        for (const h of e.hypotheses) process.stdout.write(`  hypothesis ${h.name ?? "?"} on ${(h.metrics ?? ["?"]).join(", ")}\n`);
      }
      for (const g of m.graphs) process.stdout.write(`${c.bold(`graph ${g.name}`)}  ${c.dim(g.file)}: ${g.experiments.join(", ")}\n`);
    });
}
