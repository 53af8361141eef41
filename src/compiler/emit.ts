// Emit: .crystallize/manifest.json and one runner module per experiment, generated from
// templates/runner.mjs and bundled by esbuild with `crystallize` and packages kept external (so
// the runtime is shared: instanceof and workers work). Files are rewritten only when they change.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildOptions, Plugin } from "esbuild";
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

const RUNNER_NS = "crystallize-runner";

function runnerPlugin(sources: Map<string, string>, root: string): Plugin {
  return {
    name: "crystallize-runners",
    setup(build) {
      build.onResolve({ filter: /^crystallize-runner:/ }, (args) => ({ path: args.path.slice(RUNNER_NS.length + 1), namespace: RUNNER_NS }));
      build.onLoad({ filter: /.*/, namespace: RUNNER_NS }, (args) => ({ contents: sources.get(args.path) ?? "", loader: "js", resolveDir: root }));
    },
  };
}

export function runnerBuildOptions(root: string, tsconfig: string, outDir: string, sources: Map<string, string>): BuildOptions {
  return {
    entryPoints: Object.fromEntries([...sources.keys()].map((name) => [name, `${RUNNER_NS}:${name}`])),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outdir: join(outDir, "runners"),
    outExtension: { ".js": ".mjs" },
    external: ["crystallize", "crystallize/*"],
    packages: "external",
    tsconfig,
    absWorkingDir: root,
    write: false,
    logLevel: "silent",
    legalComments: "none",
    plugins: [runnerPlugin(sources, root)],
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

/** Writes the manifest and the runners. */
export class Emitter {
  constructor(
    private readonly root: string,
    private readonly tsconfig: string,
    private readonly outDir: string,
  ) {}

  /** `only`: names of the experiments whose runners must be rebuilt (default: all). */
  async emit(manifest: Manifest, plans: readonly RunnerPlan[], only?: ReadonlySet<string>): Promise<EmitResult> {
    const written: string[] = [];
    const diagnostics: Diagnostic[] = [];
    const manifestFile = join(this.outDir, "manifest.json");
    if (writeIfChanged(manifestFile, serializeManifest(manifest))) written.push(manifestFile);
    const all = new Set(plans.map((p) => p.entry.name));
    const runnersDir = join(this.outDir, "runners");
    // Runners of experiments that no longer exist.
    if (existsSync(runnersDir)) {
      for (const f of readdirSync(runnersDir)) {
        if (f.endsWith(".mjs") && !all.has(f.slice(0, -4))) rmSync(join(runnersDir, f), { force: true });
      }
    }
    const sources = new Map<string, string>();
    for (const p of plans) {
      if (!only || only.has(p.entry.name) || !existsSync(join(runnersDir, `${p.entry.name}.mjs`))) sources.set(p.entry.name, runnerSource(p.entry, p.moduleFile));
    }
    if (sources.size === 0) return { written, diagnostics };
    const esbuild = await import("esbuild");
    try {
      const result = await esbuild.build(runnerBuildOptions(this.root, this.tsconfig, this.outDir, sources));
      for (const out of result.outputFiles ?? []) {
        if (writeIfChanged(out.path, out.contents)) written.push(out.path);
      }
    } catch (err) {
      const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
      if (errors?.length) {
        for (const e of errors) {
          diagnostics.push({
            file: e.location ? resolve(this.root, e.location.file) : undefined,
            line: e.location?.line ?? 1,
            column: (e.location?.column ?? 0) + 1,
            code: "CRY4006",
            severity: "error",
            message: `a runner could not be built: ${e.text}; fix the import (runners bundle the project's code and keep packages external)`,
          });
        }
      } else {
        diagnostics.push(diagnosticOf(undefined, "CRY4006", `the runners could not be built: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
    return { written, diagnostics };
  }
}
