// Emit: .crystallize/manifest.json and one runner module per experiment, generated from
// templates/runner.mjs and bundled by esbuild with `crystallize` and packages kept external (so
// the runtime is shared: instanceof and workers work). Files are rewritten only when they change.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildOptions } from "esbuild";
import { diagnosticOf, type Diagnostic } from "./diagnostics.js";
import { MANIFEST_VERSION, serializeManifest, stepHashesOf, type Manifest, type ManifestExperiment } from "./manifest.js";
import { HASH_SCHEMA_VERSION } from "./hash.js";

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

/** The source of a runner for one experiment (before bundling). */
export const WORKER_ENTRY_SPECIFIER = "crystallize/internal-worker-entry";

export function runnerSource(entry: ManifestExperiment, moduleFile: string, options: { bundle?: boolean } = {}): string {
  const compiled = {
    name: entry.name,
    file: entry.file,
    export: entry.export,
    runner: entry.runner,
    manifestVersion: MANIFEST_VERSION,
    hashSchema: HASH_SCHEMA_VERSION,
    stepHashes: stepHashesOf(entry),
  };
  const src = runnerTemplate();
  const a = "/* @crystallize:compiled */ {}";
  const b = '/* @crystallize:module */ "./experiment.js"';
  const c = "/* @crystallize:worker */ null";
  if (!src.includes(a) || !src.includes(b) || !src.includes(c)) throw new Error("templates/runner.mjs lost its placeholders");
  return src
    .replace(a, () => JSON.stringify(compiled, null, 2))
    .replace(b, () => JSON.stringify(moduleFile.split("\\").join("/")))
    .replace(c, () => (options.bundle ? `() => import(${JSON.stringify(WORKER_ENTRY_SPECIFIER)})` : "null"));
}

export interface RunnerPlan {
  readonly entry: ManifestExperiment;
  /** Absolute path of the module that exports the experiment. */
  readonly moduleFile: string;
}

export function runnerBuildOptions(root: string, tsconfig: string, outFile: string, source: string, name: string): BuildOptions {
  return {
    // stdin, not a plugin: the build then needs no JavaScript callbacks and runs in esbuild's own
    // process while this thread type-checks.
    stdin: { contents: source, resolveDir: root, sourcefile: `crystallize-runner-${name}.mjs`, loader: "js" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: outFile,
    external: ["crystallize", "crystallize/*"],
    packages: "external",
    tsconfig,
    absWorkingDir: root,
    write: false,
    logLevel: "silent",
    legalComments: "none",
  };
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
  /** Writes the manifest and the runners built (call only when the compile has no errors). */
  finish(): Promise<EmitResult>;
  /** Drops the builds' results without writing anything. */
  discard(): Promise<void>;
}

type Built = { name: string; file: string; bytes: Uint8Array } | { name: string; diagnostics: Diagnostic[] };

/** Writes the manifest and the runners. */
export class Emitter {
  constructor(
    private readonly root: string,
    private readonly tsconfig: string,
    private readonly outDir: string,
  ) {}

  /** `only`: names of the experiments whose runners must be rebuilt (default: all). */
  async emit(manifest: Manifest, plans: readonly RunnerPlan[], only?: ReadonlySet<string>): Promise<EmitResult> {
    return this.start(manifest, plans, only).finish();
  }

  /** Starts building the runners (in esbuild's process) and returns a handle to write them later. */
  start(manifest: Manifest, plans: readonly RunnerPlan[], only?: ReadonlySet<string>): PendingEmit {
    const runnersDir = join(this.outDir, "runners");
    const todo = plans.filter((p) => !only || only.has(p.entry.name) || !existsSync(join(runnersDir, `${p.entry.name}.mjs`)));
    const builds: Promise<Built[]> = todo.length
      ? import("esbuild").then((esbuild) =>
          Promise.all(
            todo.map(async (p): Promise<Built> => {
              const file = join(runnersDir, `${p.entry.name}.mjs`);
              try {
                const r = await esbuild.build(runnerBuildOptions(this.root, this.tsconfig, file, runnerSource(p.entry, p.moduleFile), p.entry.name));
                return { name: p.entry.name, file, bytes: r.outputFiles![0]!.contents };
              } catch (err) {
                return { name: p.entry.name, diagnostics: this.buildErrors(err) };
              }
            }),
          ),
        )
      : Promise.resolve([]);
    builds.catch(() => undefined);
    return {
      finish: async () => {
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
        for (const b of await builds) {
          if ("diagnostics" in b) diagnostics.push(...b.diagnostics);
          else if (writeIfChanged(b.file, b.bytes)) written.push(b.file);
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
    if (!errors?.length) return [diagnosticOf(undefined, "CRY4006", `a runner could not be built: ${err instanceof Error ? err.message : String(err)}`)];
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
