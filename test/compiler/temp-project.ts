// Throwaway projects for compiler tests: source files written to a temporary folder, with a
// tsconfig that maps "crystallize-ts" to the DSL's sources, loaded once and re-analysed after edits.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { afterAll } from "vitest";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { analyze, loadProject, type Analysis, type Diagnostic, type LoadedProject } from "../../src/compiler/index.js";
import type { AnalyzeOptions } from "../../src/compiler/compile.js";

const dsl = fileURLToPath(new URL("../../src/dsl/index.ts", import.meta.url));
const typeRoots = [fileURLToPath(new URL("../../node_modules/@types", import.meta.url))];

/** Writes a tsconfig for `dir` that checks src/ with "crystallize-ts" mapped to the DSL's sources. */
export function writeTestTsconfig(dir: string, extra: Readonly<Record<string, unknown>>): void {
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true, noEmit: true, ...extra, paths: { "crystallize-ts": [dsl] } },
      include: ["src"],
    }),
  );
}

/** A temporary copy of a fixture project's src/ (named `prefix`…), with a test tsconfig; returns its folder. */
export function copyFixture(fixture: string, prefix: string, extra: Readonly<Record<string, unknown>> = { types: ["node"], typeRoots }): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(fixture, "src"), join(dir, "src"), { recursive: true });
  writeTestTsconfig(dir, extra);
  return dir;
}

export class TempProject {
  readonly dir: string;
  readonly loaded: LoadedProject;

  /** `files` maps paths relative to the project folder (e.g. "src/a.ts") to their text; `options` adds compiler options. */
  constructor(files: Readonly<Record<string, string>>, options: Readonly<Record<string, unknown>> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), "cry-compiler-"));
    writeTestTsconfig(this.dir, { lib: ["ES2023"], typeRoots, types: ["node"], ...options });
    for (const [f, text] of Object.entries(files)) this.put(f, text);
    const load = loadProject({ project: this.dir });
    if (!load.ok) throw new Error(load.diagnostics.map((d) => d.message).join("\n"));
    this.loaded = load.loaded;
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  /** Writes files and tells the loaded project; returns their absolute paths. */
  write(files: Readonly<Record<string, string>>): string[] {
    const paths = Object.entries(files).map(([f, text]) => this.put(f, text));
    this.loaded.refresh(paths);
    return paths;
  }

  /** The rules, hashes and manifest, without TypeScript's own diagnostics (see typeErrors). */
  analyze(options: AnalyzeOptions = {}): Analysis {
    return analyze(this.loaded, { tsDiagnostics: [], ...options });
  }

  /** TypeScript's errors, as `file(line,col) TSnnnn message` (a test's sources should have none). */
  typeErrors(): string[] {
    return analyze(this.loaded).diagnostics.filter((d) => d.code.startsWith("TS")).map((d) => `${d.file}(${d.line},${d.column}) ${d.code} ${d.message}`);
  }

  /** Diagnostics of some codes as `file:line:col CODE`, file relative to src/. */
  static where(diagnostics: readonly Diagnostic[], codes: readonly string[]): string[] {
    return diagnostics.filter((d) => codes.includes(d.code)).map((d) => `${d.file?.split(/[\\/]src[\\/]/).pop()}:${d.line}:${d.column} ${d.code}`);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private put(file: string, text: string): string {
    const p = join(this.dir, file);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    return p;
  }
}

/** A factory of temporary projects for one describe block, all removed after it. */
export function tempProjects(): (files: Readonly<Record<string, string>>, options?: Readonly<Record<string, unknown>>) => TempProject {
  const projects: TempProject[] = [];
  afterAll(() => projects.forEach((p) => p.close()));
  return (files, options) => {
    const p = new TempProject(files, options);
    projects.push(p);
    return p;
  };
}
