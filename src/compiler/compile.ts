// One compile: load (project) → TypeScript diagnostics → discover → rules → hash → manifest → emit.
// Never runs user code; every failure is a diagnostic.
import { join, relative, resolve, sep } from "node:path";
import type * as TS from "typescript";
import ts from "./typescript.js";
import { diagnosticAt, diagnosticOf, hasErrors, sortDiagnostics, type Diagnostic } from "./diagnostics.js";
import { fromTs } from "./ts-diagnostics.js";
import { discover, Tracer, type AnalysisHost, type ConstructionCache, type Discovered, type Discovery, type ExperimentInfo } from "./discover.js";
import { Emitter, loadEsbuild, type PendingEmit, type RunnerPlan } from "./emit.js";
import { Hasher } from "./hash.js";
import { buildManifest, type Manifest, type ManifestExperiment } from "./manifest.js";
import { hostOf, loadProject, projectFiles, type LoadedProject, type ProjectOptions } from "./project.js";
import { runRules } from "./rules/index.js";

export interface CompileOptions extends ProjectOptions {
  /** Output folder (manifest.json, runners/). Default: `.crystallize` beside the tsconfig. */
  readonly outDir?: string;
  /** Write the manifest and runners (default true). Nothing is written when there are errors. */
  readonly emit?: boolean;
}

export interface Analysis {
  readonly loaded: LoadedProject;
  readonly host: AnalysisHost;
  readonly discovery: Discovery;
  readonly hasher: Hasher;
  readonly tracer: Tracer;
  readonly manifest: Manifest;
  /** TypeScript's diagnostics, then the rules', sorted. */
  readonly diagnostics: Diagnostic[];
}

export interface CompileResult {
  /** No error-severity diagnostic. */
  readonly ok: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly manifest: Manifest | undefined;
  readonly analysis: Analysis | undefined;
  readonly root: string | undefined;
  readonly tsconfig: string | undefined;
  readonly outDir: string | undefined;
  /** Files written by this compile (unchanged files are not rewritten). */
  readonly written: readonly string[];
}

function internalError(err: unknown, where: string | undefined): Diagnostic {
  const msg = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return diagnosticOf(where, "CRY0900", `internal compiler error: ${msg}; please report it (the other diagnostics are still valid)`);
}

/** TypeScript's diagnostics for the whole program (what `tsc --noEmit` reports), or for some files. */
export function typeScriptDiagnostics(program: TS.Program, files?: readonly TS.SourceFile[]): Diagnostic[] {
  if (!files) return ts.getPreEmitDiagnostics(program).map(fromTs);
  const out: TS.Diagnostic[] = [...program.getConfigFileParsingDiagnostics(), ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const sf of files) out.push(...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf));
  return out.map(fromTs);
}

/** Analyses a loaded project: diagnostics, discovery, rules, hashes and the manifest. Synchronous. */
export interface AnalyzeOptions {
  /** TypeScript's diagnostics when already known (watch mode computes them per changed file). */
  readonly tsDiagnostics?: Diagnostic[];
  /** A hasher to reuse (watch mode). */
  readonly hasher?: Hasher;
  /** A tracer and per-file discovery cache to reuse (watch mode). */
  readonly tracer?: Tracer;
  readonly constructions?: ConstructionCache;
  /** Computes a manifest entry, possibly from a cache (watch mode). */
  readonly entryOf?: (host: AnalysisHost, hasher: Hasher, d: Discovered<ExperimentInfo>) => ManifestExperiment | undefined;
}

export function analyze(loaded: LoadedProject, options: AnalyzeOptions = {}): Analysis {
  const host = hostOf(loaded);
  const diagnostics: Diagnostic[] = [];
  try {
    diagnostics.push(...(options.tsDiagnostics ?? typeScriptDiagnostics(host.program)));
  } catch (err) {
    diagnostics.push(internalError(err, loaded.tsconfig));
  }
  const files = projectFiles(host);
  if (files.length === 0) {
    diagnostics.push(diagnosticOf(loaded.tsconfig, "CRY0003", "the project has no TypeScript files; check the tsconfig's include and files"));
  }
  const tracer = options.tracer ?? new Tracer(host);
  const hasher = options.hasher ?? new Hasher(host);
  let discovery: Discovery = { experiments: [], graphs: [], unexported: [], opaque: [], otherExports: [] };
  try {
    discovery = discover(host, files, tracer, options.constructions);
  } catch (err) {
    diagnostics.push(internalError(err, loaded.tsconfig));
  }
  diagnostics.push(...runRules({ host, discovery, tracer, hasher }));
  let manifest: Manifest;
  try {
    const entryOf = options.entryOf;
    manifest = buildManifest(host, hasher, loaded.tsconfig, discovery.experiments, discovery.graphs, entryOf ? (d) => entryOf(host, hasher, d) : undefined);
  } catch (err) {
    diagnostics.push(internalError(err, loaded.tsconfig));
    manifest = buildManifest(host, hasher, loaded.tsconfig, [], []);
  }
  for (const [node, err] of hasher.failures()) {
    const msg = err instanceof Error ? err.message.split("\n")[0] : String(err);
    diagnostics.push(diagnosticAt(node, "CRY0900", `internal compiler error while hashing this step: ${msg}; its cache key would fall back to the runtime's hash; please report it (the other diagnostics are still valid)`));
  }
  return { loaded, host, discovery, hasher, tracer, manifest, diagnostics: sortDiagnostics(dedupe(diagnostics)) };
}

function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const k = `${d.file}|${d.line}|${d.column}|${d.code}|${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function runnerPlans(a: Analysis): RunnerPlan[] {
  return plansOf(a.discovery, a.loaded.root);
}

/** The runners to build for the discovered experiments (those with a static name). */
export function plansOf(discovery: Discovery, root: string): RunnerPlan[] {
  return discovery.experiments.flatMap((d) => {
    const name = d.info.name;
    if (name === undefined) return [];
    const a = d.addresses[0]!;
    return [{ entry: { name, file: relative(root, a.file.fileName).split(sep).join("/"), export: a.exportName, runner: `runners/${name}.mjs` }, moduleFile: a.file.fileName }];
  });
}

export function defaultOutDir(root: string, outDir?: string, cwd: string = process.cwd()): string {
  return outDir ? resolve(cwd, outDir) : join(root, ".crystallize");
}

/** Type-checks, runs the DSL rules, hashes, and writes the manifest and runners. */
export async function compile(options: CompileOptions = {}): Promise<CompileResult> {
  const load = loadProject(options);
  if (!load.ok) {
    return { ok: false, diagnostics: load.diagnostics, manifest: undefined, analysis: undefined, root: undefined, tsconfig: undefined, outDir: undefined, written: [] };
  }
  const { loaded } = load;
  const outDir = defaultOutDir(loaded.root, options.outDir, options.cwd);
  if (options.emit !== false) await loadEsbuild();
  // Discovery first (cheap, and it tells which runners to build), so that esbuild builds them in
  // its own process while this thread type-checks. TypeScript's check goes before the rules and
  // hashes: checking whole files in order is faster than answering the analysis's type queries
  // one by one first (about 12% of the compile on the bench project), and the analysis then
  // finds its answers cached.
  let analysis: Analysis;
  let pending: PendingEmit | undefined;
  try {
    const host = loaded.host();
    const tracer = new Tracer(host);
    const constructions: ConstructionCache = new Map();
    if (options.emit !== false) {
      // Hashes are filled in later.
      const early = discover(host, projectFiles(host), tracer, constructions);
      pending = new Emitter(loaded.root, loaded.tsconfig, outDir).start(plansOf(early, loaded.root));
    }
    let tsDiagnostics: Diagnostic[];
    try {
      tsDiagnostics = typeScriptDiagnostics(host.program);
    } catch (err) {
      tsDiagnostics = [internalError(err, loaded.tsconfig)];
    }
    analysis = analyze(loaded, { tsDiagnostics, tracer, constructions });
  } catch (err) {
    await pending?.discard();
    return { ok: false, diagnostics: [internalError(err, loaded.tsconfig)], manifest: undefined, analysis: undefined, root: loaded.root, tsconfig: loaded.tsconfig, outDir, written: [] };
  }
  const diagnostics = [...analysis.diagnostics];
  let written: string[] = [];
  if (pending && !hasErrors(diagnostics)) {
    try {
      const r = await pending.finish(analysis.manifest);
      written = r.written;
      diagnostics.push(...r.diagnostics);
    } catch (err) {
      diagnostics.push(internalError(err, loaded.tsconfig));
    }
  } else await pending?.discard();
  return {
    ok: !hasErrors(diagnostics),
    diagnostics: sortDiagnostics(diagnostics),
    manifest: analysis.manifest,
    analysis,
    root: loaded.root,
    tsconfig: loaded.tsconfig,
    outDir,
    written,
  };
}
