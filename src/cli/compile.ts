// crystallize compile [--project tsconfig.json] [--out .crystallize] [--watch] [--json]
import type { Command } from "commander";
import { diagnosticsJSON, paint, printDiagnostics, summary } from "./output.js";
import { findProject } from "./project-options.js";

interface Options {
  project?: string;
  out?: string;
  watch?: boolean;
  json?: boolean;
}

export function registerCompile(program: Command): void {
  program
    .command("compile")
    .description("type-check, run the DSL rules, hash the steps, and write .crystallize/manifest.json and a runner per experiment")
    .option("-p, --project <tsconfig>", "the project's tsconfig.json, or a folder to search upward from for one (default: the current folder)")
    .option("--out <dir>", "output folder (default: .crystallize beside the tsconfig)")
    .option("-w, --watch", "recompile when a file changes")
    .option("--json", "print diagnostics as a JSON array of { file, line, column, code, severity, message }")
    .action(async (opts: Options) => {
      if (opts.watch) return watchMode(opts);
      const { compile } = await import("../compiler/compile.js");
      const result = await compile({ project: findProject(opts.project), ...(opts.out ? { outDir: opts.out } : {}) });
      if (opts.json) {
        process.stdout.write(`${diagnosticsJSON(result.diagnostics)}\n`);
      } else {
        printDiagnostics(process.stderr, result.diagnostics);
        const c = paint(process.stderr);
        const n = result.manifest?.experiments.length ?? 0;
        const line = result.ok
          ? c.green(`compiled ${n} experiment${n === 1 ? "" : "s"}`) + (result.diagnostics.length ? ` (${summary(result.diagnostics)})` : "")
          : c.red(`compile failed: ${summary(result.diagnostics)}`);
        process.stderr.write(`${line}\n`);
      }
      if (!result.ok) process.exitCode = 1;
    });
}

async function watchMode(opts: Options): Promise<void> {
  const { Watcher } = await import("../compiler/watch.js");
  const { hasErrors } = await import("../compiler/diagnostics.js");
  const w = Watcher.create({ project: findProject(opts.project), ...(opts.out ? { outDir: opts.out } : {}) });
  if (!(w instanceof Watcher)) {
    if (opts.json) process.stdout.write(`${diagnosticsJSON(w.diagnostics)}\n`);
    else printDiagnostics(process.stderr, w.diagnostics);
    process.exitCode = 1;
    return;
  }
  const c = paint(process.stderr);
  await w.start((r) => {
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ok: r.ok, durationMs: Math.round(r.durationMs), diagnostics: JSON.parse(diagnosticsJSON(r.diagnostics)) })}\n`);
      return;
    }
    if (process.stderr.isTTY) process.stderr.write("\x1bc");
    printDiagnostics(process.stderr, r.diagnostics);
    const n = r.manifest?.experiments.length ?? 0;
    const status = hasErrors(r.diagnostics) ? c.red(`${summary(r.diagnostics)}`) : c.green(`compiled ${n} experiment${n === 1 ? "" : "s"}`);
    process.stderr.write(`${status} in ${Math.round(r.durationMs)} ms; watching for changes (Ctrl-C to stop)\n`);
  });
  await new Promise<void>((done) => {
    const stop = () => {
      void w.close().then(done);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
