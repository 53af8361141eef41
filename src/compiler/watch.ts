// Watch mode: keeps the program, the per-file TypeScript diagnostics, the hasher's per-declaration
// facts and the manifest entries in memory; after an edit it refreshes the changed files only,
// starts rebuilding the runners of the affected modules, re-checks the changed files and the
// files that import them meanwhile, and re-emits.
import { watch as fsWatch, type FSWatcher } from "node:fs";
import { relative, resolve, sep } from "node:path";
import type * as TS from "typescript";
import ts from "./typescript.js";
import { analyze, defaultOutDir, runnerPlans, type CompileOptions } from "./compile.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "./diagnostics.js";
import { fromTs } from "./ts-diagnostics.js";
import { isProjectFile, Tracer, type AnalysisHost, type ConstructionCache, type Discovered, type ExperimentInfo } from "./discover.js";
import { Emitter, loadEsbuild, type RunnerPlan } from "./emit.js";
import { Hasher } from "./hash.js";
import { experimentEntry, type Manifest, type ManifestExperiment } from "./manifest.js";
import { loadProject, projectFiles, type LoadedProject } from "./project.js";

export interface WatchResult {
  readonly ok: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly manifest: Manifest | undefined;
  readonly written: readonly string[];
  /** Files that changed since the previous result (all files for the first one). */
  readonly changed: readonly string[];
  /** Files re-checked by TypeScript for this result. */
  readonly rechecked: number;
  readonly durationMs: number;
  /**
   * Where the time went (ms): program, affected, typecheck, analyze, emit. The runners' esbuild
   * build starts before the type check and runs beside it; "emit" is what is left to wait for,
   * plus writing the files.
   */
  readonly phases: Readonly<Record<string, number>>;
}

export interface WatchOptions extends CompileOptions {
  /** Wait this long after the last file event before recompiling (default 30 ms). */
  readonly debounceMs?: number;
}

const planKey = (p: RunnerPlan) => `${p.entry.name}\0${p.entry.file}\0${p.entry.export}\0${p.moduleFile}`;
const samePlan = (a: RunnerPlan, b: RunnerPlan) => planKey(a) === planKey(b);

/** The module specifiers of a file: the program's list (static and `import("…")` ones), else its import/export statements. */
function specifiersOf(sf: TS.SourceFile): readonly TS.Expression[] {
  const listed = (sf as unknown as { imports?: readonly TS.StringLiteralLike[] }).imports;
  if (listed) return listed;
  const out: TS.Expression[] = [];
  for (const stmt of sf.statements) if ((ts.isImportDeclaration(stmt) || ts.isExportDeclaration(stmt)) && stmt.moduleSpecifier) out.push(stmt.moduleSpecifier);
  return out;
}

/** Project files (re)checked when `changed` changed: them and every file that imports them (also by `import()`), transitively. */
function affectedFiles(host: AnalysisHost, changed: ReadonlySet<string>): Set<string> {
  const importers = new Map<string, Set<string>>();
  for (const sf of projectFiles(host)) {
    for (const spec of specifiersOf(sf)) {
      const target = host.checker.getSymbolAtLocation(spec)?.valueDeclaration;
      if (target && ts.isSourceFile(target)) {
        const set = importers.get(target.fileName) ?? new Set<string>();
        set.add(sf.fileName);
        importers.set(target.fileName, set);
      }
    }
  }
  const out = new Set<string>();
  const queue = [...changed];
  while (queue.length) {
    const f = queue.pop()!;
    if (out.has(f)) continue;
    out.add(f);
    for (const i of importers.get(f) ?? []) queue.push(i);
  }
  return out;
}

export class Watcher {
  /** Whether the first (full) compile has run. */
  private started = false;
  /** The runners of the last analysis (the analysis itself is not kept: it holds the old checker). */
  private plans: RunnerPlan[] = [];
  private readonly tsByFile = new Map<string, Diagnostic[]>();
  private readonly entries = new Map<TS.Node, { entry: ManifestExperiment | undefined; files: Set<string>; hashes: string }>();
  private hasher: Hasher | undefined;
  private tracer: Tracer | undefined;
  private readonly constructions: ConstructionCache = new Map();
  private readonly emitter: Emitter;
  readonly outDir: string;
  private fsWatcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending = new Set<string>();
  private running: Promise<unknown> = Promise.resolve();
  private lastFailed = false;
  private warming = false;
  /** Every file a step hash read (code, JSON data, the lockfile, linked packages' files): an edit to one recompiles. */
  private tracked = new Set<string>();

  private constructor(
    readonly loaded: LoadedProject,
    private readonly options: WatchOptions,
  ) {
    this.outDir = defaultOutDir(loaded.root, options.outDir, options.cwd);
    this.emitter = new Emitter(loaded.root, loaded.tsconfig, this.outDir);
  }

  /** Loads the project; a missing or broken tsconfig gives diagnostics instead of a watcher. */
  static create(options: WatchOptions = {}): Watcher | { diagnostics: Diagnostic[] } {
    const load = loadProject(options);
    if (!load.ok) return { diagnostics: load.diagnostics };
    return new Watcher(load.loaded, options);
  }

  /** Compiles after changes to `changed` (or whatever changed on disk); the first call compiles everything. */
  async update(changed?: readonly string[]): Promise<WatchResult> {
    if (this.options.emit !== false) await loadEsbuild();
    const t0 = performance.now();
    const first = !this.started;
    this.started = true;
    const changedFiles = first ? [] : this.loaded.refresh(changed);
    const phases: Record<string, number> = {};
    let mark = t0;
    const phase = (name: string) => {
      const now = performance.now();
      phases[name] = Math.round(now - mark);
      mark = now;
    };
    const host = this.loaded.host();
    phase("program");
    const program = host.program;
    const files = projectFiles(host);
    const changedSet = new Set(changedFiles.map((f) => resolve(f)));
    const affected = first ? new Set(program.getSourceFiles().map((f) => f.fileName)) : affectedFiles(host, new Set(files.filter((f) => changedSet.has(resolve(f.fileName))).map((f) => f.fileName)));
    const outsideCode = (f: string) => !/\.(c|m)?tsx?$/.test(f) || !isProjectFile(host, { fileName: f, isDeclarationFile: /\.d\.(c|m)?ts$/.test(f) } as TS.SourceFile);
    if (first || changedFiles.some(outsideCode)) {
      // A change outside the project's code (a declaration file, the lockfile): start over.
      this.tsByFile.clear();
      this.entries.clear();
      this.hasher = new Hasher(host);
      this.tracer = new Tracer(host);
      this.constructions.clear();
      for (const sf of program.getSourceFiles()) affected.add(sf.fileName);
    } else {
      this.hasher!.retarget(host, affected);
      this.tracer!.retarget(host, affected);
      for (const f of affected) this.constructions.delete(f);
    }
    phase("affected");
    // Runners bundle their experiment's module and what it imports: start rebuilding those of the
    // affected modules now, in esbuild's process, while this thread type-checks. (The hashes are
    // filled in once the analysis has them; if the set of experiments changed, they are rebuilt.)
    const emitting = this.options.emit !== false && !this.warming;
    const earlyPlans = this.plans;
    const fullRebuild = first || this.lastFailed;
    const early = emitting && !first ? this.emitter.start(earlyPlans, fullRebuild ? undefined : new Set(earlyPlans.filter((p) => affected.has(p.moduleFile)).map((p) => p.entry.name))) : undefined;
    // TypeScript: re-check the affected files, reuse the rest.
    const tsDiagnostics: Diagnostic[] = [...program.getConfigFileParsingDiagnostics(), ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map(fromTs);
    const live = new Set<string>();
    let rechecked = 0;
    for (const sf of program.getSourceFiles()) {
      live.add(sf.fileName);
      let list = this.tsByFile.get(sf.fileName);
      if (!list || affected.has(sf.fileName)) {
        list = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map(fromTs);
        this.tsByFile.set(sf.fileName, list);
        rechecked++;
      }
      tsDiagnostics.push(...list);
    }
    for (const f of [...this.tsByFile.keys()]) if (!live.has(f)) this.tsByFile.delete(f);
    phase("typecheck");
    for (const [node, e] of [...this.entries]) {
      if ([...e.files].some((f) => affected.has(f))) this.entries.delete(node);
    }
    // A step hash also covers mutations of what it reads, which can be added in any file: an entry
    // is reused only while its steps' hashes (cheap to ask again) are unchanged.
    const hashesOf = (hasher: Hasher, d: Discovered<ExperimentInfo>) => (d.info.steps ?? []).map((s) => (s.kind === "step" ? hasher.hashStep(s)?.hash ?? "-" : "-")).join(",");
    const entryOf = (h: AnalysisHost, hasher: Hasher, d: Discovered<ExperimentInfo>) => {
      const hit = this.entries.get(d.info.node);
      if (hit && hit.hashes === hashesOf(hasher, d)) return hit.entry;
      const entry = experimentEntry(h, hasher, d);
      const deps = new Set<string>([d.info.file.fileName, ...d.addresses.map((a) => a.file.fileName)]);
      for (const s of d.info.steps ?? []) {
        deps.add(s.node.getSourceFile().fileName);
        if (s.kind !== "step") continue;
        const h = hasher.hashStep(s);
        for (const f of h?.files ?? []) deps.add(f);
        for (const x of h?.externals ?? []) {
          const at = x.lastIndexOf("@");
          if (!x.startsWith("node:") && at > 0) for (const f of hasher.versions.filesOf(x.slice(0, at))) deps.add(f);
        }
      }
      this.entries.set(d.info.node, { entry, files: deps, hashes: hashesOf(hasher, d) });
      return entry;
    };
    const analysis = analyze(this.loaded, { tsDiagnostics, hasher: this.hasher!, tracer: this.tracer!, constructions: this.constructions, entryOf });
    const diagnostics = [...analysis.diagnostics];
    const plans = runnerPlans(analysis);
    phase("analyze");
    let written: string[] = [];
    if (emitting && !hasErrors(diagnostics)) {
      const samePlans = !!early && plans.length === earlyPlans.length && plans.every((p, i) => samePlan(p, earlyPlans[i]!));
      let r;
      if (samePlans) r = await early.finish(analysis.manifest);
      else {
        await early?.discard();
        const known = new Set(earlyPlans.map(planKey));
        r = await this.emitter.emit(analysis.manifest, plans, fullRebuild ? undefined : new Set(plans.filter((p) => affected.has(p.moduleFile) || !known.has(planKey(p))).map((p) => p.entry.name)));
      }
      written = r.written;
      diagnostics.push(...r.diagnostics);
    } else await early?.discard();
    phase("emit");
    this.tracked = new Set([...this.entries.values()].flatMap((e) => [...e.files].map((f) => resolve(f))));
    if (this.hasher?.versions.lockfile) this.tracked.add(resolve(this.hasher.versions.lockfile));
    this.plans = plans;
    this.lastFailed = hasErrors(diagnostics);
    return {
      ok: !hasErrors(diagnostics),
      diagnostics: sortDiagnostics(diagnostics),
      manifest: analysis.manifest,
      written,
      changed: first ? files.map((f) => f.fileName) : changedFiles,
      rechecked,
      durationMs: performance.now() - t0,
      phases,
    };
  }

  /**
   * Readies the edit path after the first compile: recompiles one experiment file as if it had
   * been edited (same text, nothing written), `rounds` times. V8 optimises the functions of an
   * incremental compile (a new program and checker, one file re-checked) only after it has run
   * them a few times; without this, the first edits take about twice as long as later ones.
   * `start()` does it after the first compile, before reporting it.
   */
  async warmUp(rounds = 3): Promise<void> {
    const file = this.plans[0]?.moduleFile;
    if (!this.started || !file || rounds <= 0) return;
    this.warming = true;
    try {
      for (let i = 0; i < rounds; i++) await this.update([file]);
    } finally {
      this.warming = false;
    }
  }

  /** Watches the project folder and calls `onResult` after the first compile and after each change. */
  async start(onResult: (r: WatchResult) => void): Promise<void> {
    // Watch before the first compile, so that an edit made while it runs (or right after its
    // result is reported) is queued behind it rather than missed.
    // The warm-up goes before the first report, so that an edit made as soon as the watcher
    // reports is already fast (rather than queued behind the warm-up).
    this.running = this.running.then(async () => {
      const first = await this.update();
      await this.warmUp();
      onResult(first);
    });
    this.fsWatcher = fsWatch(this.loaded.root, { recursive: true }, (_event, name) => {
      if (!name) return;
      const abs = resolve(this.loaded.root, name.toString());
      if (!this.watches(abs)) return;
      this.pending.add(abs);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        const batch = [...this.pending];
        this.pending.clear();
        this.running = this.running.then(async () => onResult(await this.update(batch)));
      }, this.options.debounceMs ?? 30);
    });
    await this.running;
  }

  /**
   * Whether an edit of `file` recompiles: the project's code, tsconfigs and lockfile, and every
   * file the last compile's step hashes read (JSON and other data modules, dynamically imported
   * modules, linked packages' files), wherever it is; not the output folder or node_modules.
   */
  watches(file: string): boolean {
    const abs = resolve(file);
    if (this.tracked.has(abs)) return true;
    const rel = relative(this.loaded.root, abs);
    const outRel = relative(this.loaded.root, this.outDir);
    if (rel.startsWith("..") || rel.split(sep).includes("node_modules") || (outRel && !outRel.startsWith("..") && (rel === outRel || rel.startsWith(outRel + sep)))) return false;
    return /\.(c|m)?tsx?$|tsconfig.*\.json$|package-lock\.json$/.test(rel);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.fsWatcher?.close();
    await this.running.catch(() => undefined);
  }
}
