// Shared by the commands that need a compiled project: compile (no emit or emit), print problems.
import type { CompileResult } from "../compiler/compile.js";
import { printDiagnostics, summary, CliError } from "./output.js";

/** Compiles; on errors prints the diagnostics and throws a CliError. Warnings are printed too. */
export async function compiledOrFail(project: string | undefined, outDir: string | undefined, emit: boolean): Promise<CompileResult> {
  const { compile } = await import("../compiler/compile.js");
  const result = await compile({ project, ...(outDir ? { outDir } : {}), emit });
  if (result.diagnostics.length) printDiagnostics(process.stderr, result.diagnostics);
  if (!result.ok) throw new CliError(`the project does not compile (${summary(result.diagnostics)}); fix the errors above`);
  return result;
}
