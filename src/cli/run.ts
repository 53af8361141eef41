// crystallize run <experiment | graph> [--replicates N] [--seed S] [--treatments a,b] [--workers N]
//   [--no-cache] [--resume] [--assert h[:t]] [--log-level L] [--verbose] [--json]
// Compiles (so the runner and hashes are current), then runs the experiment's runner in this
// process. Flag values are checked here, so mistakes get this command's usage, not the runner's.
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError, type Command } from "commander";
import type { CompileResult } from "../compiler/compile.js";
import { CliError, paint, printDiagnostics, summary } from "./output.js";
import { findProject } from "./project-options.js";
import type { GraphRunOptions } from "./run-graph.js";

interface Options extends GraphRunOptions {
  project?: string;
  out?: string;
  resume?: boolean;
  assert?: string[];
  sweep?: string[];
  logLevel?: string;
  verbose?: boolean;
}

interface RunnerModule {
  main(
    argv: string[],
    io?: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; resumeCommand?: string; usageError?: (message: string) => number },
  ): Promise<number>;
}

const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"];

/** commander argParsers: a bad value fails here with `crystallize run`'s usage. */
const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => (raw: string) => {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`needs an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}.`);
  return raw;
};
const level = (raw: string) => {
  if (!LOG_LEVELS.includes(raw)) throw new InvalidArgumentError(`must be one of ${LOG_LEVELS.join(", ")}.`);
  return raw;
};
const collect = (raw: string, list: string[] = []) => {
  if (!raw || raw.startsWith(":")) throw new InvalidArgumentError("needs <hypothesis>[:treatment].");
  return [...list, raw];
};

const collectSweep = (raw: string, list: string[] = []) => {
  if (!/^[^=]+=.+$/.test(raw)) throw new InvalidArgumentError("needs <param>=<values>, as k=1,3,9 or lr=0.1:1:0.1.");
  return [...list, raw];
};

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("compile, then run an experiment (with its structural step hashes) or a graph of experiments")
    .argument("<experiment>", "the name of an experiment or of a graph")
    .option("-p, --project <tsconfig>", "the project's tsconfig.json, or a folder to search upward from for one (default: the current folder)")
    .option("--out <dir>", "output and storage folder (default: .crystallize beside the tsconfig)")
    .option("--replicates <n>", "replicates per condition", integer(1))
    .option("--seed <n>", "master seed", integer(0, 0xffffffff))
    .option("--treatments <names>", "comma-separated treatments to run (the baseline always runs)")
    .option("--workers <n>", "run replicates on n worker threads", integer(1))
    .option("--no-cache", "do not read or write the step cache")
    .option("--sweep <param=values>", "run a grid of treatments instead of the declared ones: k=1,3,9 or lr=0.1:1:0.1 (start:stop:step); repeatable", collectSweep)
    .option("--resume", "continue the latest stored version: completed tasks are not run again")
    .option("--assert <hypothesis[:treatment]>", "exit 1 unless the hypothesis is significant (for that treatment, else for every treatment); repeatable", collect)
    .option("--log-level <level>", `log level: ${LOG_LEVELS.join(", ")} (default: $CRYSTALLIZE_LOG, else info)`, level)
    .option("--verbose", "print failing steps' stacks")
    .option("--json", "print result.toJSON() on stdout; logs and progress go to stderr")
    .addHelpText("after", "\nCtrl-C (or SIGTERM) cancels the run: completed tasks are kept, and --resume continues them; a second Ctrl-C exits at once.")
    .action(async (name: string, opts: Options, command: Command) => {
      const envLevel = process.env.CRYSTALLIZE_LOG;
      if (opts.logLevel === undefined && envLevel !== undefined && !LOG_LEVELS.includes(envLevel)) {
        command.error(`error: CRYSTALLIZE_LOG must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(envLevel)}`);
      }
      const result = await compiled(name, opts);
      const graph = result.analysis!.manifest.graphs.find((g) => g.name === name);
      if (graph) {
        const { runGraph } = await import("./run-graph.js");
        process.exitCode = await runGraph(result, graph, { ...opts, resumeCommand: resumeCommand(name, process.argv.slice(3)) });
        return;
      }
      const { findExperiment } = await import("../compiler/lookup.js");
      const found = findExperiment(result.analysis!, name);
      if (!found.ok) throw new CliError(found.message);
      const runnerFile = join(result.outDir!, found.entry.runner);
      // Runners carry an inline source map; enabled before the import, failing steps' stacks name
      // the project's own files and lines.
      process.setSourceMapsEnabled(true);
      const runner = (await import(pathToFileURL(runnerFile).href)) as RunnerModule;
      const argv: string[] = ["--out", result.outDir!];
      if (opts.replicates !== undefined) argv.push("--replicates", opts.replicates);
      if (opts.seed !== undefined) argv.push("--seed", opts.seed);
      if (opts.treatments !== undefined) argv.push("--treatments", opts.treatments);
      if (opts.workers !== undefined) argv.push("--workers", opts.workers);
      if (!opts.cache) argv.push("--no-cache");
      if (opts.resume) argv.push("--resume");
      for (const sw of opts.sweep ?? []) argv.push("--sweep", sw);
      for (const a of opts.assert ?? []) argv.push("--assert", a);
      if (opts.logLevel !== undefined) argv.push("--log-level", opts.logLevel);
      if (opts.verbose) argv.push("--verbose");
      if (opts.json) argv.push("--json");
      process.exitCode = await runner.main(argv, {
        resumeCommand: resumeCommand(name, process.argv.slice(3)),
        usageError: (message) => command.error(`error: ${message}`),
      });
    });
}

/** The command line that resumes this run: the same arguments, with --resume. */
function resumeCommand(name: string, rest: readonly string[]): string {
  const args = rest.filter((a) => a !== "--resume" && a !== name);
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ["crystallize", "run", name, ...args, "--resume"].map(quote).join(" ");
}

/**
 * Compiles and emits. When other files have errors, the experiment still runs if none lies in its
 * module or in a project file it imports; the broken files and their experiments are named.
 */
async function compiled(name: string, opts: Options): Promise<CompileResult> {
  const { compile } = await import("../compiler/compile.js");
  const result = await compile({ project: findProject(opts.project), ...(opts.out ? { outDir: opts.out } : {}) });
  if (result.diagnostics.length) printDiagnostics(process.stderr, result.diagnostics);
  if (result.ok) return result;
  const fail = () => new CliError(`the project does not compile (${summary(result.diagnostics)}); fix the errors above`);
  if (!result.analysis || result.analysis.manifest.graphs.some((g) => g.name === name)) throw fail();
  const { findExperiment } = await import("../compiler/lookup.js");
  const found = findExperiment(result.analysis, name);
  if (!found.ok) throw fail();
  const { partialVerdict } = await import("./partial-build.js");
  const verdict = await partialVerdict(result, found.moduleFile);
  if (verdict.blocking.length) {
    const files = [...new Set(verdict.blocking.flatMap((d) => (d.file ? [relative(process.cwd(), d.file)] : [])))];
    const where = files.length ? `; experiment "${name}" depends on ${files.join(", ")}, which ${files.length === 1 ? "has" : "have"} errors` : "";
    throw new CliError(`the project does not compile (${summary(result.diagnostics)})${where}; fix the errors above`);
  }
  const { plansOf } = await import("../compiler/compile.js");
  const { Emitter } = await import("../compiler/emit.js");
  const plan = plansOf(result.analysis.discovery, result.root!).filter((p) => p.entry.name === name);
  const emitted = await new Emitter(result.root!, result.tsconfig!, result.outDir!).emit(result.analysis.manifest, plan);
  if (emitted.diagnostics.length) {
    printDiagnostics(process.stderr, emitted.diagnostics);
    throw fail();
  }
  const c = paint(process.stderr);
  const names = verdict.brokenExperiments.length ? `; not runnable until fixed: ${verdict.brokenExperiments.map((n) => `"${n}"`).join(", ")}` : "";
  process.stderr.write(`${c.yellow("warning")}: errors in ${verdict.brokenFiles.join(", ")}${names}; running "${name}", which does not depend on them\n`);
  return result;
}
