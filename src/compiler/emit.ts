// Emit: .crystallize/manifest.json and one runner module per experiment, generated from
// templates/runner.mjs and bundled by esbuild with `crystallize-ts` and packages kept external (so
// the runtime is shared: instanceof and workers work). Files are rewritten only when they change.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BuildOptions } from "esbuild";
import { diagnosticOf, type Diagnostic } from "./diagnostics.js";
import { MANIFEST_VERSION, serializeManifest, stepHashesOf, type Manifest } from "./manifest.js";
import { HASH_SCHEMA_VERSION } from "./hash.js";
import { errorMessage } from "../errors.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The folder holding templates/ (the package root: two levels above src/compiler or dist/compiler). */
export function templatesDir(): string {
  return resolve(here, "..", "..", "templates");
}

let template: string | undefined;
function runnerTemplate(): string {
  template ??= readFileSync(join(templatesDir(), "runner.mjs"), "utf8");
  return template;
}

type Esbuild = typeof import("esbuild");
let loadedEsbuild: Esbuild | undefined;

/** Loads esbuild (once), so that Emitter.start() can hand it the build synchronously. */
export async function loadEsbuild(): Promise<Esbuild> {
  loadedEsbuild ??= await import("esbuild");
  return loadedEsbuild;
}

export const WORKER_ENTRY_SPECIFIER = "crystallize-ts/internal-worker-entry";

/** What a runner needs to know about its experiment (known after discovery, before hashing). */
export interface RunnerTarget {
  readonly name: string;
  /** Module file relative to the project, and its export. */
  readonly file: string;
  readonly export: string;
  /** Runner path relative to the output folder. */
  readonly runner: string;
}

/** Stands for the step hashes in a runner built before they are known; replaced in the output. */
export const HASHES_PLACEHOLDER = "@@CRYSTALLIZE_STEP_HASHES@@";

/** The source of a runner for one experiment (before bundling). Without `hashes`, a placeholder. */
export function runnerSource(
  target: RunnerTarget,
  moduleFile: string,
  options: { bundle?: boolean; hashes?: Readonly<Record<string, unknown>> } = {},
): string {
  const compiled = {
    name: target.name,
    file: target.file,
    export: target.export,
    runner: target.runner,
    manifestVersion: MANIFEST_VERSION,
    hashSchema: HASH_SCHEMA_VERSION,
  };
  const src = runnerTemplate();
  const a = "/* @crystallize:compiled */ {}";
  const b = '/* @crystallize:module */ "./experiment.js"';
  const c = "/* @crystallize:worker */ null";
  const d = '/* @crystallize:hashes */ "{}"';
  if (![a, b, c, d].every((p) => src.includes(p))) throw new Error("templates/runner.mjs lost its placeholders");
  return src
    .replace(a, () => JSON.stringify(compiled, null, 2))
    .replace(b, () => JSON.stringify(moduleFile.split("\\").join("/")))
    .replace(c, () => (options.bundle ? `() => import(${JSON.stringify(WORKER_ENTRY_SPECIFIER)})` : "null"))
    .replace(d, () => JSON.stringify(options.hashes ? JSON.stringify(options.hashes) : HASHES_PLACEHOLDER));
}

/** Puts the step hashes into a runner built with the placeholder. */
export function fillHashes(output: string, hashes: Readonly<Record<string, unknown>>): string {
  const literal = JSON.stringify(JSON.stringify(hashes));
  const out = output.replace(new RegExp(`(["'\`])${HASHES_PLACEHOLDER}\\1`), () => literal);
  if (out === output) throw new Error("a runner lost its step-hash placeholder");
  return out;
}

export interface RunnerPlan {
  readonly entry: RunnerTarget;
  /** Absolute path of the module that exports the experiment. */
  readonly moduleFile: string;
}

export function runnerBuildOptions(root: string, tsconfig: string, outDir: string, entries: readonly string[]): BuildOptions {
  return {
    // Entry files on disk, not a plugin: the build then needs no JavaScript callbacks and runs in
    // esbuild's own process while this thread type-checks.
    entryPoints: [...entries],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outdir: join(outDir, "runners"),
    outExtension: { ".js": ".mjs" },
    external: ["crystallize-ts", "crystallize-ts/*"],
    packages: "external",
    tsconfig,
    absWorkingDir: root,
    write: false,
    logLevel: "silent",
    legalComments: "none",
    // So that a failing step's stack names the user's file:line (the runner enables source maps).
    sourcemap: "inline",
    sourcesContent: false,
    // Each module's import.meta.url becomes its own file's URL afterwards (sourceMetaUrls).
    define: { "import.meta.url": META_URL },
  };
}

/** What runner builds put for `import.meta.url`, until sourceMetaUrls() rewrites it per module. */
export const META_URL = "__crystallizeImportMetaUrl__";

/** esbuild's module header in an unminified bundle: `// path/relative/to/absWorkingDir.ts`. */
const MODULE_HEADER = /^\/\/ (\S.*\.(?:[cm]?[jt]sx?|json))$/;

/**
 * Gives each bundled module of a runner its own `import.meta.url` again: project code that reads
 * `new URL("./data.json", import.meta.url)` must find the file beside its source, not inside
 * `<out>/runners/`. esbuild has no per-module define, so runner builds define import.meta.url as
 * META_URL and this rewrites each occurrence by the module header esbuild writes above each
 * module's code: the URL of that source file, relative to the runner (so a moved project keeps
 * working). The runner's own code (a source under `runnersDir`) keeps the runner's URL.
 */
export function sourceMetaUrls(code: string, root: string, runnersDir: string, outputFile: string): string {
  if (!code.includes(META_URL)) return code;
  const lines = code.split("\n");
  let current: string | undefined;
  const runners = resolve(runnersDir) + sep;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = MODULE_HEADER.exec(line);
    if (header) {
      const file = resolve(root, header[1]!);
      current = file.startsWith(runners) ? undefined : file;
      continue;
    }
    if (!line.includes(META_URL)) continue;
    const replacement = current === undefined
      ? "import.meta.url"
      : `new URL(${JSON.stringify(relative(dirname(outputFile), current).split(sep).join("/"))}, import.meta.url).href`;
    lines[i] = line.split(META_URL).join(replacement);
  }
  return lines.join("\n");
}

function resolveFrom(dir: string, specifier: string): string | undefined {
  try {
    return createRequire(join(dir, "noop.js")).resolve(specifier);
  } catch {
    return undefined;
  }
}

// `from "crystallize-ts"`, `import("crystallize-ts/stats")`, `import "crystallize-ts"`: the import
// specifiers esbuild leaves in a runner for the external crystallize package.
const CRYSTALLIZE_IMPORT = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s*)(["'])(crystallize-ts(?:\/[\w./-]+)?)\2/g;

/**
 * How a runner in `runnersDir` imports the crystallize package. Runners keep it external (one
 * runtime shared with the caller and the workers), so they import it by name; that resolves only
 * where the project's copy is reachable. A runner written elsewhere (`--out` outside the project)
 * imports the project's copy by file URL instead.
 */
export function runnerImports(root: string, runnersDir: string): (runner: string) => string {
  const project = resolveFrom(root, "crystallize-ts/package.json");
  if (!project || resolveFrom(runnersDir, "crystallize-ts/package.json") === project) return (runner) => runner;
  return (runner) =>
    runner.replace(CRYSTALLIZE_IMPORT, (whole, before: string, quote: string, specifier: string) => {
      const file = resolveFrom(root, specifier);
      return file ? `${before}${quote}${pathToFileURL(file).href}${quote}` : whole;
    });
}

/** Writes a file atomically, and only when its content changes. Returns whether it wrote. */
export function writeIfChanged(file: string, content: string | Uint8Array): boolean {
  const bytes = typeof content === "string" ? Buffer.from(content) : Buffer.from(content);
  if (existsSync(file)) {
    try {
      if (readFileSync(file).equals(bytes)) return false;
    } catch {
      // rewrite
    }
  }
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  return true;
}

export interface EmitResult {
  readonly written: string[];
  readonly diagnostics: Diagnostic[];
}

export interface PendingEmit {
  /** Writes the manifest and the runners built, with the manifest's hashes (only when the compile is clean). */
  finish(manifest: Manifest): Promise<EmitResult>;
  /** Drops the builds' results without writing anything. */
  discard(): Promise<void>;
}

type Built = { name: string; file: string; bytes: Uint8Array } | { name: string; diagnostics: Diagnostic[] };

/** Writes the manifest and the runners. */
export class Emitter {
  private readonly importsFromHere: (runner: string) => string;

  constructor(
    private readonly root: string,
    private readonly tsconfig: string,
    private readonly outDir: string,
  ) {
    this.importsFromHere = runnerImports(root, join(outDir, "runners"));
  }

  /** `only`: names of the experiments whose runners must be rebuilt (default: all). */
  async emit(manifest: Manifest, plans: readonly RunnerPlan[], only?: ReadonlySet<string>): Promise<EmitResult> {
    return this.start(plans, only).finish(manifest);
  }

  /**
   * Starts building the runners (in esbuild's process; the step hashes are filled in later) and
   * returns a handle that writes the manifest and the runners once the compile is known clean.
   * The generated runner sources live in <out>/runners/.src/.
   */
  start(plans: readonly RunnerPlan[], only?: ReadonlySet<string>): PendingEmit {
    const runnersDir = join(this.outDir, "runners");
    const srcDir = join(runnersDir, ".src");
    const todo = plans.filter((p) => !only || only.has(p.entry.name) || !existsSync(join(runnersDir, `${p.entry.name}.mjs`)));
    let builds: Promise<Built[]> = Promise.resolve([]);
    if (todo.length) {
      const entries = todo.map((p) => {
        const file = join(srcDir, `${p.entry.name}.mjs`);
        writeIfChanged(file, runnerSource(p.entry, p.moduleFile));
        return file;
      });
      const build = async (esbuild: Esbuild): Promise<Built[]> => {
        try {
          const r = await esbuild.build(runnerBuildOptions(this.root, this.tsconfig, this.outDir, entries));
          return r.outputFiles!.map((f) => ({ name: basename(f.path, ".mjs"), file: f.path, bytes: f.contents }));
        } catch (err) {
          return [{ name: "", diagnostics: this.buildErrors(err) }];
        }
      };
      // With esbuild already loaded, the request goes to its process now, before the caller's
      // synchronous type check; a dynamic import would only resolve after it.
      builds = loadedEsbuild ? build(loadedEsbuild) : loadEsbuild().then(build);
      builds.catch(() => undefined);
    }
    return {
      finish: async (manifest: Manifest) => {
        const written: string[] = [];
        const diagnostics: Diagnostic[] = [];
        const manifestFile = join(this.outDir, "manifest.json");
        if (writeIfChanged(manifestFile, serializeManifest(manifest))) written.push(manifestFile);
        const all = new Set(plans.map((p) => p.entry.name));
        if (existsSync(runnersDir)) {
          for (const f of readdirSync(runnersDir)) {
            if (f.endsWith(".mjs") && !all.has(f.slice(0, -4))) rmSync(join(runnersDir, f), { force: true });
          }
        }
        const byName = new Map(manifest.experiments.map((e) => [e.name, e]));
        for (const b of await builds) {
          if ("diagnostics" in b) {
            diagnostics.push(...b.diagnostics);
            continue;
          }
          const entry = byName.get(b.name);
          if (!entry) continue;
          const code = sourceMetaUrls(Buffer.from(b.bytes).toString("utf8"), this.root, runnersDir, b.file);
          const text = this.importsFromHere(fillHashes(code, stepHashesOf(entry)));
          if (writeIfChanged(b.file, text)) written.push(b.file);
        }
        return { written, diagnostics };
      },
      discard: async () => {
        await builds.catch(() => undefined);
      },
    };
  }

  private buildErrors(err: unknown): Diagnostic[] {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
    if (!errors?.length) return [diagnosticOf(undefined, "CRY4006", `a runner could not be built: ${errorMessage(err)}`)];
    return errors.map((e) => ({
      file: e.location ? resolve(this.root, e.location.file) : undefined,
      line: e.location?.line ?? 1,
      column: (e.location?.column ?? 0) + 1,
      code: "CRY4006",
      severity: "error" as const,
      message: `a runner could not be built: ${e.text}; fix the import (runners bundle the project's code and keep packages external)`,
    }));
  }
}
