// Loading a project: a tsconfig, and from it one ts.Program and TypeChecker that diagnostics,
// discovery, rules and hashing all share. It uses the TypeScript compiler API of the `typescript`
// package (the same version as the project's tsc) with TypeScript's own compiler host. (A ts-morph
// Project was the first choice, but its host creates source files without their module format, so
// under NodeNext every file was checked as CommonJS: false errors on import.meta and top-level
// await; it also bundles an older TypeScript than tsc.) Source files are cached by path and
// modification time, and each new program reuses the old one, so watch mode re-parses only what
// changed.
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type * as TS from "typescript";
import ts from "./typescript.js";
import { diagnosticOf, displayPath, type Diagnostic } from "./diagnostics.js";
import { isProjectFile, type AnalysisHost } from "./discover.js";

export interface ProjectOptions {
  /** Path of the tsconfig (or of a folder holding tsconfig.json). Default: ./tsconfig.json. */
  readonly project?: string;
  /** Working directory for relative paths. Default: process.cwd(). */
  readonly cwd?: string;
}

export type LoadResult = { readonly ok: true; readonly loaded: LoadedProject } | { readonly ok: false; readonly diagnostics: Diagnostic[] };

export function resolveTsconfig(options: ProjectOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  let p = resolve(cwd, options.project ?? "tsconfig.json");
  if (existsSync(p) && statSync(p).isDirectory()) p = join(p, "tsconfig.json");
  return p;
}

interface CachedFile {
  readonly sf: TS.SourceFile;
  readonly mtimeMs: number;
  readonly format: TS.ResolutionMode;
}

export class LoadedProject {
  /** The project's directory (the tsconfig's). */
  readonly root: string;
  options!: TS.CompilerOptions;
  fileNames!: string[];
  configErrors!: readonly TS.Diagnostic[];
  private readonly files = new Map<string, CachedFile>();
  private readonly compilerHost: TS.CompilerHost;
  private program: TS.Program | undefined;
  private stale = true;

  constructor(
    /** Absolute path of the tsconfig. */
    readonly tsconfig: string,
    parsed: TS.ParsedCommandLine,
  ) {
    this.root = dirname(tsconfig);
    this.applyConfig(parsed);
    const base = ts.createCompilerHost(this.options);
    this.compilerHost = {
      ...base,
      getSourceFile: (fileName, languageVersionOrOptions, onError) => {
        const format = typeof languageVersionOrOptions === "object" ? languageVersionOrOptions.impliedNodeFormat : undefined;
        const hit = this.files.get(fileName);
        if (hit && hit.format === format) return hit.sf;
        let mtimeMs = 0;
        try {
          mtimeMs = statSync(fileName).mtimeMs;
        } catch {
          // a lib file served from memory, or a file that vanished
        }
        const sf = base.getSourceFile(fileName, languageVersionOrOptions, onError);
        if (sf) this.files.set(fileName, { sf, mtimeMs, format });
        return sf;
      },
    };
  }

  private applyConfig(parsed: TS.ParsedCommandLine): void {
    this.options = { ...parsed.options, noEmit: true };
    // TypeScript keeps the parsed config (with the configs it extends) as a non-enumerable field,
    // which the spread drops; the manifest needs it to list a base config in dependsOn.
    if (parsed.options.configFile) Object.defineProperty(this.options, "configFile", { value: parsed.options.configFile, enumerable: false });
    this.fileNames = parsed.fileNames;
    this.configErrors = parsed.errors;
  }

  /** The current program (created on first use and after changes, reusing the previous one). */
  getProgram(): TS.Program {
    if (!this.program || this.stale) {
      this.program = ts.createProgram({
        rootNames: this.fileNames,
        options: this.options,
        host: this.compilerHost,
        ...(this.program ? { oldProgram: this.program } : {}),
        configFileParsingDiagnostics: this.configErrors,
      });
      this.stale = false;
    }
    return this.program;
  }

  /**
   * Forgets files that changed on disk (or the given ones) and re-reads the tsconfig's file list,
   * so the next getProgram() re-parses only them. Returns the changed paths.
   */
  refresh(changed?: readonly string[]): string[] {
    const out: string[] = [];
    if (changed) {
      for (const f of changed) {
        const key = [...this.files.keys()].find((k) => resolve(k) === resolve(f));
        if (key) this.files.delete(key);
        out.push(resolve(f));
      }
    } else {
      for (const [f, c] of this.files) {
        let m = -1;
        try {
          m = statSync(f).mtimeMs;
        } catch {
          m = -1;
        }
        if (c.mtimeMs !== 0 && m !== c.mtimeMs) {
          this.files.delete(f);
          out.push(resolve(f));
        }
      }
    }
    // Re-read the tsconfig (and its file list) unless every change is an edit of a file it lists.
    const listed = new Set(this.fileNames.map((f) => resolve(f)));
    if (!changed || out.some((f) => !listed.has(f) || !existsSync(f))) {
      const parsed = parseConfig(this.tsconfig);
      if (parsed.ok) this.applyConfig(parsed.parsed);
    }
    this.stale = true;
    return out;
  }

  /** The analysis host of the current program. */
  host(): AnalysisHost {
    const program = this.getProgram();
    return { program, checker: program.getTypeChecker(), root: this.root };
  }
}

type ParseResult = { ok: true; parsed: TS.ParsedCommandLine } | { ok: false; diagnostics: Diagnostic[] };

function parseConfig(tsconfig: string): ParseResult {
  // A syntax error in the JSON is fatal here (TypeScript would carry on with what it could read).
  const read = ts.readConfigFile(tsconfig, ts.sys.readFile);
  if (read.error) return { ok: false, diagnostics: [fromConfigError(read.error, tsconfig)] };
  let fatal: TS.Diagnostic | undefined;
  const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, { noEmit: true }, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      fatal = d;
    },
  });
  if (fatal || !parsed) return { ok: false, diagnostics: [fromConfigError(fatal, tsconfig)] };
  const hard = parsed.errors.find((e) => e.code === 5083 || e.code === 18003 || e.code === 1005 || e.code === 1136 || e.code === 1327);
  if (hard && hard.code !== 18003) return { ok: false, diagnostics: [fromConfigError(hard, tsconfig)] };
  return { ok: true, parsed };
}

export function loadProject(options: ProjectOptions = {}): LoadResult {
  const tsconfig = resolveTsconfig(options);
  const cwd = options.cwd ?? process.cwd();
  if (!existsSync(tsconfig)) {
    return {
      ok: false,
      diagnostics: [
        diagnosticOf(
          tsconfig,
          "CRY0001",
          `tsconfig not found: ${displayPath(tsconfig, cwd)}; pass --project path/to/tsconfig.json, or create a project with \`crystallize init\``,
        ),
      ],
    };
  }
  const parsed = parseConfig(tsconfig);
  if (!parsed.ok) return parsed;
  return { ok: true, loaded: new LoadedProject(tsconfig, parsed.parsed) };
}

function fromConfigError(d: TS.Diagnostic | undefined, tsconfig: string): Diagnostic {
  if (!d) return diagnosticOf(tsconfig, "CRY0002", "the tsconfig cannot be read; fix it");
  const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  if (d.file && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return { file: tsconfig, line: line + 1, column: character + 1, code: "CRY0002", severity: "error", message: `the tsconfig cannot be read: ${message}` };
  }
  return diagnosticOf(tsconfig, "CRY0002", `the tsconfig cannot be read: ${message}`);
}

/** The analysis host of the project's current program. */
export function hostOf(loaded: LoadedProject): AnalysisHost {
  return loaded.host();
}

/** The project's own source files (not declarations, not packages, under the tsconfig's folder). */
export function projectFiles(host: AnalysisHost): TS.SourceFile[] {
  return host.program.getSourceFiles().filter((sf) => isProjectFile(host, sf));
}
