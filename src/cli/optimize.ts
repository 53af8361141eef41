// crystallize optimize <experiment> (--grid p=values... | --random p=values... --trials n)
//   --objective <metric> --direction <minimize|maximize>: searches the params from the command
// line. Compiles (for current hashes), then hands the flags to the runner's optimizeMain.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import { compiledOrFail } from "./project-options.js";
import { CliError } from "./output.js";

interface RunnerModule {
  optimizeMain?(argv: string[], io?: { usageError?: (message: string) => number }): Promise<number>;
}

const collect = (raw: string, list: string[] = []) => [...list, raw];

export function registerOptimize(program: Command): void {
  program
    .command("optimize")
    .description("search an experiment's params (a grid or seeded random samples) for the best objective; trials are stored like runs")
    .argument("<experiment>", "the experiment's name")
    .option("-p, --project <tsconfig>", "the project's tsconfig.json, or a folder to search upward from for one (default: the current folder)")
    .option("--out <dir>", "output and storage folder (default: .crystallize beside the tsconfig)")
    .option("--grid <param=values>", "every combination: k=1,3,9 or lr=0.1:1:0.1 (start:stop:step); repeatable", collect)
    .option("--random <param=values>", "seeded samples: k=1,3,9 (choices), lr=0.001:0.3 (uniform) or lr=0.001:0.3:log; repeatable", collect)
    .option("--trials <n>", "settings to try (required with --random; default: the whole grid)")
    .option("--objective <metric>", "the metric to optimize (mean over replicates)")
    .option("--direction <direction>", "minimize or maximize")
    .option("--replicates <n>", "replicates per trial and for the baseline")
    .option("--seed <n>", "master seed (also seeds --random)")
    .option("--no-cache", "do not read or write the step cache")
    .option("--log-level <level>", "debug, info, warn, error or silent")
    .option("--json", "print the search's result as JSON")
    .action(async (name: string, opts: Record<string, string | string[] | boolean | undefined>, command: Command) => {
      const result = await compiledOrFail(opts.project as string | undefined, opts.out as string | undefined, true);
      const { findExperiment } = await import("../compiler/lookup.js");
      const found = findExperiment(result.analysis!, name);
      if (!found.ok) throw new CliError(found.message);
      process.setSourceMapsEnabled(true);
      const runner = (await import(pathToFileURL(join(result.outDir!, found.entry.runner)).href)) as RunnerModule;
      if (!runner.optimizeMain) throw new CliError(`the runner of "${name}" is out of date; run crystallize compile again`);
      const argv = ["--out", result.outDir!];
      for (const g of (opts.grid as string[] | undefined) ?? []) argv.push("--grid", g);
      for (const r of (opts.random as string[] | undefined) ?? []) argv.push("--random", r);
      for (const k of ["trials", "objective", "direction", "replicates", "seed", "logLevel"] as const) {
        const v = opts[k];
        if (typeof v === "string") argv.push(`--${k === "logLevel" ? "log-level" : k}`, v);
      }
      if (opts.cache === false) argv.push("--no-cache");
      if (opts.json) argv.push("--json");
      process.exitCode = await runner.optimizeMain(argv, { usageError: (message) => command.error(`error: ${message}`) });
    });
}
