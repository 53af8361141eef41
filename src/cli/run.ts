// crystallize run <experiment | graph> [--replicates N] [--seed S] [--treatments a,b] [--workers N] [--no-cache] [--json]
// Compiles (so the runner and hashes are current), then runs the experiment's runner in this process.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import { compiledOrFail } from "./project-options.js";
import { CliError } from "./output.js";
import type { GraphRunOptions } from "./run-graph.js";

interface Options extends GraphRunOptions {
  project?: string;
  out?: string;
}

interface RunnerModule {
  main(argv: string[], io?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number>;
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("compile, then run an experiment (with its structural step hashes) or a graph of experiments")
    .argument("<experiment>", "the name of an experiment or of a graph")
    .option("-p, --project <tsconfig>", "the project's tsconfig.json (or its folder)", "tsconfig.json")
    .option("--out <dir>", "output and storage folder (default: .crystallize beside the tsconfig)")
    .option("--replicates <n>", "replicates per condition")
    .option("--seed <n>", "master seed")
    .option("--treatments <names>", "comma-separated treatments to run (the baseline always runs)")
    .option("--workers <n>", "run replicates on n worker threads")
    .option("--no-cache", "do not read or write the step cache")
    .option("--json", "print result.toJSON() on stdout; logs and progress go to stderr")
    .action(async (name: string, opts: Options) => {
      const result = await compiledOrFail(opts.project, opts.out, true);
      const graph = result.analysis!.manifest.graphs.find((g) => g.name === name);
      if (graph) {
        const { runGraph } = await import("./run-graph.js");
        process.exitCode = await runGraph(result, graph, opts);
        return;
      }
      const { findExperiment } = await import("../compiler/lookup.js");
      const found = findExperiment(result.analysis!, name);
      if (!found.ok) throw new CliError(found.message);
      const runnerFile = join(result.outDir!, found.entry.runner);
      const runner = (await import(pathToFileURL(runnerFile).href)) as RunnerModule;
      const argv: string[] = ["--out", result.outDir!];
      if (opts.replicates !== undefined) argv.push("--replicates", opts.replicates);
      if (opts.seed !== undefined) argv.push("--seed", opts.seed);
      if (opts.treatments !== undefined) argv.push("--treatments", opts.treatments);
      if (opts.workers !== undefined) argv.push("--workers", opts.workers);
      if (!opts.cache) argv.push("--no-cache");
      if (opts.json) argv.push("--json");
      process.exitCode = await runner.main(argv);
    });
}
