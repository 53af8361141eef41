// `crystallize run <experiment>` in a project where other files have errors: the experiment still
// runs when no error lies in its module or in a project file it imports (transitively). The
// broken files and the experiments defined in them are named; their runners are not built.
import { relative, resolve } from "node:path";
import type * as TS from "typescript";
import type { CompileResult } from "../compiler/compile.js";
import type { Diagnostic } from "../compiler/diagnostics.js";

/** Project files `file` imports, itself included (relative specifiers only: packages are not checked). */
export function localImportClosure(ts: typeof TS, program: TS.Program, file: string): Set<string> {
  const seen = new Set<string>();
  const todo = [resolve(file)];
  const options = program.getCompilerOptions();
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const sf = program.getSourceFile(f);
    if (!sf) continue;
    for (const st of sf.statements) {
      const spec = (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? st.moduleSpecifier.text : undefined;
      if (!spec || !spec.startsWith(".")) continue;
      const r = ts.resolveModuleName(spec, sf.fileName, options, ts.sys).resolvedModule;
      if (r && !r.isExternalLibraryImport) todo.push(resolve(r.resolvedFileName));
    }
  }
  return seen;
}

export interface PartialVerdict {
  /** Errors that stop this experiment (in its module or an import of it, or not in any file). */
  readonly blocking: readonly Diagnostic[];
  /** Project files with errors that the experiment does not depend on. */
  readonly brokenFiles: readonly string[];
  /** Experiments defined in those files (these cannot run now). */
  readonly brokenExperiments: readonly string[];
}

export async function partialVerdict(result: CompileResult, moduleFile: string): Promise<PartialVerdict> {
  const { default: ts } = await import("../compiler/typescript.js");
  const a = result.analysis!;
  const closure = localImportClosure(ts, a.host.program, moduleFile);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  const blocking = errors.filter((d) => d.file === undefined || closure.has(resolve(d.file)) || !resolve(d.file).startsWith(result.root!));
  const broken = [...new Set(errors.filter((d) => !blocking.includes(d)).map((d) => resolve(d.file!)))];
  const brokenSet = new Set(broken);
  const brokenExperiments = [
    ...a.discovery.experiments.filter((e) => brokenSet.has(resolve(e.addresses[0]!.file.fileName))).flatMap((e) => (e.info.name ? [e.info.name] : [])),
    ...a.discovery.unexported.flatMap((u) => (u.kind === "experiment" && u.name && brokenSet.has(resolve(u.file.fileName)) ? [`${u.name} (not exported)`] : [])),
  ];
  return { blocking, brokenFiles: broken.map((f) => relative(process.cwd(), f)), brokenExperiments };
}
