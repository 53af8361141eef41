// The `crystallize-ts` command line: thin commands over the programmatic compiler and runners.
// Errors are messages (exit code 1), never stack traces (set CRYSTALLIZE_DEBUG=1 to see them).
import { Command, CommanderError } from "commander";
import { createRequire } from "node:module";
import { registerBundle } from "./bundle.js";
import { registerCache } from "./cache.js";
import { registerCompile } from "./compile.js";
import { registerExec } from "./exec.js";
import { registerGraph } from "./graph.js";
import { registerInit } from "./init.js";
import { registerList } from "./list.js";
import { CliError, paint } from "./output.js";
import { registerOptimize } from "./optimize.js";
import { registerRun } from "./run.js";
import { registerWorker } from "./worker.js";
import { registerDiff } from "./diff.js";
import { registerGc } from "./gc.js";
import { registerReport } from "./report.js";
import { registerRuns } from "./runs.js";
import { registerShow } from "./show.js";

export function createProgram(): Command {
  const program = new Command("crystallize")
    .description("Compile, check, run and bundle Crystallize experiments")
    .version((createRequire(import.meta.url)("../../package.json") as { version: string }).version, "-v, --version")
    .showHelpAfterError("(add --help for usage)")
    .showSuggestionAfterError(true)
    // So that `crystallize exec script.ts --flag` hands --flag to the script.
    .enablePositionalOptions()
    .exitOverride();
  registerInit(program);
  registerCompile(program);
  registerRun(program);
  registerOptimize(program);
  registerBundle(program);
  registerList(program);
  registerGraph(program);
  registerCache(program);
  registerExec(program);
  registerWorker(program);
  registerRuns(program);
  registerShow(program);
  registerDiff(program);
  registerReport(program);
  registerGc(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return program;
}

/** `crystallize list | head`: once the reader has gone, stop quietly instead of crashing with EPIPE. */
export function exitOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed the message (or the help/version) already.
      return err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help" ? 0 : 1;
    }
    const c = paint(process.stderr);
    const message = err instanceof Error ? err.message : String(err);
    const code = err && typeof (err as { code?: unknown }).code === "string" && !(err instanceof CliError) ? ` ${(err as { code: string }).code}` : "";
    process.stderr.write(`${c.red(`error${code}`)}: ${message}\n`);
    if (process.env.CRYSTALLIZE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

exitOnBrokenPipe();
process.exitCode = await main();
