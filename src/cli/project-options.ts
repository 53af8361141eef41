// Shared by the commands that need a compiled project: find the tsconfig, compile (no emit or
// emit), print problems.
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { CompileResult } from "../compiler/compile.js";
import { printDiagnostics, summary, CliError } from "./output.js";

/**
 * The tsconfig a command uses, found as `tsc` finds it: a file given is used as is; from a folder
 * (the given one, else the current one) the nearest tsconfig.json in it or a parent folder.
 * When none is found, the path asked for is returned, so the compiler names it in its error.
 */
export function findProject(project: string | undefined, cwd: string = process.cwd()): string {
  const start = resolve(cwd, project ?? ".");
  if (existsSync(start) && !statSync(start).isDirectory()) return start;
  if (!existsSync(start)) return project ?? join(start, "tsconfig.json");
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, "tsconfig.json");
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    if (dirname(dir) === dir) return project ?? "tsconfig.json";
  }
}

/** Compiles; on errors prints the diagnostics and throws a CliError. Warnings are printed too. */
export async function compiledOrFail(project: string | undefined, outDir: string | undefined, emit: boolean): Promise<CompileResult> {
  const { compile } = await import("../compiler/compile.js");
  const result = await compile({ project: findProject(project), ...(outDir ? { outDir } : {}), emit });
  if (result.diagnostics.length) printDiagnostics(process.stderr, result.diagnostics);
  if (!result.ok) throw new CliError(`the project does not compile (${summary(result.diagnostics)}); fix the errors above`);
  return result;
}
