// The rules in an editor: CRY diagnostics for one file of a TypeScript language service's program,
// and a language-service decorator in the shape of a tsserver plugin (`create(info)`). The same
// rules module as the CLI; only the file filter differs. tsserver-plugin.ts packages it for
// tsserver (dist/tsserver-plugin.cjs).
import { dirname } from "node:path";
import type * as TS from "typescript";
import ts from "./typescript.js";
import { discover, isProjectFile, Tracer, type AnalysisHost } from "./discover.js";
import { Hasher } from "./hash.js";
import { runRules } from "./rules/index.js";

/** CRY diagnostics of one file, as TypeScript diagnostics (code = the number, source "crystallize"). */
export function crystallizeDiagnostics(program: TS.Program, fileName: string, root: string): TS.Diagnostic[] {
  const sf = program.getSourceFile(fileName);
  if (!sf) return [];
  const host: AnalysisHost = { program, checker: program.getTypeChecker(), root };
  try {
    const files = program.getSourceFiles().filter((f) => isProjectFile(host, f));
    const tracer = new Tracer(host);
    const discovery = discover(host, files, tracer);
    const list = runRules({ host, discovery, tracer, hasher: new Hasher(host), onlyFiles: new Set([sf.fileName]) });
    return list.map((d) => ({
      file: sf,
      start: d.start ?? 0,
      length: d.length ?? 0,
      code: Number(d.code.slice(3)),
      source: "crystallize",
      category: d.severity === "error" ? ts.DiagnosticCategory.Error : ts.DiagnosticCategory.Warning,
      messageText: `${d.code}: ${d.message}`,
    }));
  } catch {
    return [];
  }
}

/** Wraps a language service so that getSemanticDiagnostics also returns the CRY rules' findings. */
export function withCrystallizeRules(ls: TS.LanguageService, root: string): TS.LanguageService {
  return new Proxy(ls, {
    get(target, prop, receiver) {
      if (prop === "getSemanticDiagnostics") {
        return (fileName: string) => {
          const own = target.getSemanticDiagnostics(fileName);
          const program = target.getProgram();
          return program ? [...own, ...crystallizeDiagnostics(program, fileName, root)] : own;
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

/** What a tsserver plugin's create() is given (the part this plugin uses). */
export interface EditorPluginInfo {
  readonly languageService: TS.LanguageService;
  readonly project: { getProjectName(): string };
}

/** A tsserver plugin factory: `{ create(info) }` returning the decorated language service. */
export function editorPlugin(): { create(info: EditorPluginInfo): TS.LanguageService } {
  return {
    create(info) {
      const name = info.project.getProjectName();
      const root = name.endsWith(".json") ? dirname(name) : name;
      return withCrystallizeRules(info.languageService, root);
    },
  };
}
