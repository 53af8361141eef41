// crystallize bundle <experiment> [-o file.mjs]
import type { Command } from "commander";
import { displayPath } from "../compiler/diagnostics.js";
import { CliError, paint, printDiagnostics, summary } from "./output.js";
import { findProject } from "./project-options.js";

export function registerBundle(program: Command): void {
  program
    .command("bundle")
    .description("build one self-contained ES module that runs the experiment with node and no node_modules")
    .argument("<experiment>", "the experiment's name")
    .option("-o, --out-file <file>", "output file (default: <experiment>.mjs)")
    .option("-p, --project <tsconfig>", "the project's tsconfig.json, or a folder to search upward from for one (default: the current folder)")
    .option("--no-minify", "keep the bundle readable")
    .option("--with-queue", "include the BullMQ/Redis client, for --queue and --worker (adds about 1.3 MB)")
    .action(async (name: string, opts: { outFile?: string; project?: string; minify: boolean; withQueue?: boolean }) => {
      const { bundle } = await import("../compiler/bundle.js");
      const r = await bundle({ experiment: name, project: findProject(opts.project), minify: opts.minify, withQueue: opts.withQueue === true, ...(opts.outFile ? { outFile: opts.outFile } : {}) });
      if (r.diagnostics.length) printDiagnostics(process.stderr, r.diagnostics);
      if (r.message) throw new CliError(r.message);
      if (!r.ok) throw new CliError(`the bundle was not built (${summary(r.diagnostics)})`);
      const c = paint(process.stderr);
      process.stderr.write(`${c.green("bundled")} ${name} → ${displayPath(r.outFile!)} (${Math.round((r.bytes ?? 0) / 1024)} KiB); run it with: node ${displayPath(r.outFile!)} --help\n`);
    });
}
