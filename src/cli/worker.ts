// crystallize worker [--project tsconfig.json | --module file.mjs] [--connection redis://…] [--queue name] [--concurrency n]
// Serves queue() runs: takes (condition, replicate) tasks from Redis until SIGINT/SIGTERM.
// With --project it compiles the project once and runs its experiments from their compiled
// runners (each machine imports its own copy of the code); otherwise it imports the module the
// main process names (the same path must exist on this machine).
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import type { AnyExperiment } from "../dsl/experiment.js";
import { CliError, paint } from "./output.js";

interface Options {
  project?: string;
  module?: string;
  out?: string;
  connection: string;
  queue: string;
  concurrency: string;
  cacheRoot?: string;
  lockMs: string;
  maxStalled: string;
  quiet?: boolean;
}

function positive(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} needs a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("run tasks of queue() runs from Redis (BullMQ) until stopped (SIGINT/SIGTERM)")
    .option("-p, --project <tsconfig>", "compile this project and run its experiments from their runners")
    .option("--module <file>", "import experiments from this module (instead of --project)")
    .option("--out <dir>", "with --project: output folder of the compiled runners (default: .crystallize beside the tsconfig)")
    .option("--connection <url>", "Redis URL", process.env.CRYSTALLIZE_REDIS ?? "redis://127.0.0.1:6379")
    .option("--queue <name>", "queue name (as in queue({ queueName }))", "crystallize")
    .option("--concurrency <n>", "tasks this worker runs at once", "1")
    .option("--cache-root <dir>", "a step cache of this worker's own (default: the run's cache root)")
    .option("--lock-ms <n>", "task lock duration: a dead worker's task is retried after about this long", "30000")
    .option("--max-stalled <n>", "times a task may lose its worker before it is recorded as failed", "1")
    .option("--quiet", "no start/stop lines on stderr")
    .action(async (opts: Options) => {
      const { startQueueWorker } = await import("../plugins/execution/queue-worker.js");
      const experiments = await ownExperiments(opts);
      const worker = await startQueueWorker({
        connection: opts.connection,
        queueName: opts.queue,
        concurrency: positive("--concurrency", opts.concurrency),
        lockDurationMs: positive("--lock-ms", opts.lockMs),
        maxStalledCount: positive("--max-stalled", opts.maxStalled),
        ...(opts.cacheRoot ? { cacheRoot: opts.cacheRoot } : {}),
        ...(experiments ? { experiments } : {}),
        log: console,
      });
      const c = paint(process.stderr);
      if (!opts.quiet) process.stderr.write(`${c.green("worker")} ${process.pid} listening on queue "${opts.queue}"\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          // A second signal while running tasks finish: stop at once (their jobs are retried elsewhere).
          process.once("SIGINT", () => process.exit(130));
          process.once("SIGTERM", () => process.exit(143));
          resolve();
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await worker.close();
      // A step's leaked handle (timer, socket) must not keep a stopped worker alive.
      setTimeout(() => process.exit(), 5000).unref();
      if (!opts.quiet) process.stderr.write(`worker ${process.pid} stopped after ${worker.processed()} tasks\n`);
    });
}

type Source = (name: string) => Promise<AnyExperiment | undefined>;

async function ownExperiments(opts: Options): Promise<Source | undefined> {
  if (opts.project && opts.module) throw new CliError("give --project or --module, not both");
  if (opts.module) {
    const { importExperiment } = await import("../plugins/execution/queue-loader.js");
    const href = pathToFileURL(opts.module).href;
    return async (name) => importExperiment(href, name);
  }
  if (!opts.project) return undefined;
  const { compiledOrFail } = await import("./project-options.js");
  const result = await compiledOrFail(opts.project, opts.out, true);
  const { findExperiment } = await import("../compiler/lookup.js");
  return async (name) => {
    const found = findExperiment(result.analysis!, name);
    if (!found.ok) return undefined;
    const runner = (await import(pathToFileURL(join(result.outDir!, found.entry.runner)).href)) as { load(): Promise<AnyExperiment> };
    return runner.load();
  };
}
