// One step hash wherever a run starts: an experiment run from a script (tsx, vitest, plain node)
// finds the project's compiled manifest (.crystallize/manifest.json, in the folder of the module
// that defined the experiment or above) and uses its structural step hashes, as `crystallize run`
// does, while the manifest is fresh: every file the hashes depend on (its `dependsOn`, content
// hashes recorded by the compiler) still has the content the compiler saw. Otherwise the run
// keeps the runtime's fallback hashes (`rt1:…`, so its cache entries stay apart) and says once
// why, with the fix. Reads files only; no compiler import (the runtime must not load TypeScript).
import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Logger } from "../dsl/context.js";
import { originOf } from "../dsl/origin.js";
import type { CompiledHashes, StepHashInfo } from "../dsl/plugin.js";

/** The default output folder the compiler writes beside the tsconfig. */
const OUT_DIR = ".crystallize";

/** What the runtime reads of a manifest (src/compiler/manifest.ts writes it; version 1). */
export interface ManifestView {
  readonly version: number;
  readonly dependsOn?: Readonly<Record<string, string>>;
  readonly experiments: readonly ManifestExperimentView[];
}

export interface ManifestExperimentView {
  readonly name: string;
  readonly file: string;
  readonly runner: string;
  readonly sourceHash?: string | null;
  readonly steps: readonly { readonly name: string | null; readonly hash: string | null; readonly usesRandom: boolean }[];
  readonly dependsOn?: Readonly<Record<string, string>>;
}

export interface ProjectManifest {
  /** Absolute path of manifest.json. */
  readonly path: string;
  /** The project folder (the output folder's parent), which the manifest's paths are relative to. */
  readonly root: string;
  readonly manifest: ManifestView;
}

/** What the manifest says about one experiment being run. */
export type CompiledExperiment =
  | { readonly status: "none" }
  | { readonly status: "stale"; readonly manifest: string; readonly reason: string }
  | {
      readonly status: "fresh";
      readonly manifest: string;
      readonly hashes: CompiledHashes;
      /** The compiled runner module (absolute path), which exports the experiment as `experiment`. */
      readonly runner: string;
    };

// Small caches keyed by the file's identity on disk (a write changes ctime), so that many runs in
// one process do not re-read unchanged files.
const manifests = new Map<string, { stamp: string; value: ManifestView | undefined }>();
const contents = new Map<string, { stamp: string; hash: string | undefined }>();

function stampOf(file: string): string | undefined {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

function toPath(file: string | URL): string {
  if (file instanceof URL) return fileURLToPath(file);
  return file.startsWith("file:") ? fileURLToPath(file) : resolve(file);
}

function isManifest(v: unknown): v is ManifestView {
  const m = v as Partial<ManifestView> | null;
  return typeof m === "object" && m !== null && typeof m.version === "number" && Array.isArray(m.experiments);
}

function readManifest(path: string): ManifestView | undefined {
  const stamp = stampOf(path);
  if (stamp === undefined) return undefined;
  const hit = manifests.get(path);
  if (hit?.stamp === stamp) return hit.value;
  let value: ManifestView | undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    value = isManifest(parsed) ? parsed : undefined;
  } catch {
    value = undefined;
  }
  manifests.set(path, { stamp, value });
  return value;
}

/**
 * The compiled manifest of the project holding `fromFile` (a path or file: URL): the first
 * `.crystallize/manifest.json` in the file's folder or above. Undefined when there is none (or it
 * cannot be read as a manifest).
 */
export function findProjectManifest(fromFile: string | URL): ProjectManifest | undefined {
  let dir = dirname(toPath(fromFile));
  for (;;) {
    const path = join(dir, OUT_DIR, "manifest.json");
    if (existsSync(path)) {
      const manifest = readManifest(path);
      return manifest ? { path, root: dir, manifest } : undefined;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The same content hash as the compiler's (sha256 of the UTF-8 text without a leading BOM). */
function contentHashOf(file: string): string | undefined {
  const stamp = stampOf(file);
  if (stamp === undefined) return undefined;
  const hit = contents.get(file);
  if (hit?.stamp === stamp) return hit.hash;
  let hash: string | undefined;
  try {
    const text = readFileSync(file, "utf8");
    hash = createHash("sha256").update(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).digest("hex");
  } catch {
    hash = undefined;
  }
  contents.set(file, { stamp, hash });
  return hash;
}

function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Why the recorded files do not prove the manifest fresh, or undefined when they all match. */
function staleness(root: string, dependsOn: Readonly<Record<string, string>>): string | undefined {
  for (const [rel, recorded] of Object.entries(dependsOn)) {
    const now = contentHashOf(resolve(root, rel));
    if (now === undefined) return `${rel} is missing or unreadable`;
    if (now !== recorded) return `${rel} changed since it was compiled`;
  }
  return undefined;
}

/** The manifest's step hashes of one experiment, as RunOptions.stepHashes wants them. */
function stepHashesOf(e: ManifestExperimentView): Record<string, StepHashInfo> | undefined {
  if (!Array.isArray(e.steps)) return undefined;
  const out: Record<string, StepHashInfo> = {};
  for (const s of e.steps) {
    if (typeof s?.name !== "string" || typeof s.hash !== "string" || s.hash === "") continue;
    out[s.name] = { hash: s.hash, usesRandom: s.usesRandom !== false };
  }
  return out;
}

/**
 * What the project's manifest says about this experiment: "fresh" (use its step hashes and
 * runner), "stale" (with why), or "none" (no manifest, the experiment is not in it, or it was
 * defined in another module than the one the manifest describes, e.g. a build output).
 */
export function compiledExperiment(exp: { readonly name: string }): CompiledExperiment {
  const origin = originOf(exp);
  if (origin === undefined || !origin.startsWith("file:")) return { status: "none" };
  const file = fileURLToPath(origin);
  const found = findProjectManifest(file);
  if (!found) return { status: "none" };
  const { manifest, root, path } = found;
  const entry = manifest.experiments.find((e) => e?.name === exp.name && typeof e.file === "string" && samePath(resolve(root, e.file), file));
  if (!entry) return { status: "none" };
  if (manifest.version !== 1) return { status: "stale", manifest: path, reason: `it has version ${manifest.version}, which this crystallize-ts does not read` };
  if (typeof entry.dependsOn !== "object" || entry.dependsOn === null || typeof manifest.dependsOn !== "object" || manifest.dependsOn === null) {
    return { status: "stale", manifest: path, reason: "it was written by an older crystallize-ts, without the file hashes that prove it fresh" };
  }
  const why = staleness(root, manifest.dependsOn) ?? staleness(root, entry.dependsOn);
  if (why) return { status: "stale", manifest: path, reason: why };
  const stepHashes = stepHashesOf(entry);
  if (!stepHashes || typeof entry.runner !== "string") return { status: "stale", manifest: path, reason: "its entry for the experiment is damaged" };
  const hashes: CompiledHashes = typeof entry.sourceHash === "string" ? { stepHashes, sourceHash: entry.sourceHash } : { stepHashes };
  return { status: "fresh", manifest: path, hashes, runner: resolve(dirname(path), entry.runner) };
}

const warned = new Set<string>();

/**
 * The hashes a run without the stepHashes option uses: the manifest's when it is fresh for this
 * experiment, else undefined (the runtime fallback). A stale manifest is reported once per
 * experiment (and manifest version) in a process, with the fix.
 */
export function manifestHashes(exp: { readonly name: string }, log: Logger): CompiledHashes | undefined {
  const found = compiledExperiment(exp);
  if (found.status === "fresh") return found.hashes;
  if (found.status === "stale") {
    // Once per experiment and manifest version: a recompile and a new edit warn again.
    const key = `${found.manifest}\0${stampOf(found.manifest) ?? ""}\0${exp.name}`;
    if (!warned.has(key)) {
      warned.add(key);
      log.warn(
        `The compiled manifest ${found.manifest} is stale for experiment "${exp.name}" (${found.reason}), so this run uses the runtime's fallback step hashes (rt1:…): ` +
          `its cache entries are kept apart from the compiled ones, and resume treats the steps as changed. Run \`crystallize compile\` (or keep \`crystallize compile --watch\` running) to use the compiled hashes.`,
      );
    }
  }
  return undefined;
}

/** The file: URL of a fresh compiled runner for this experiment, for worker threads to import. */
export function compiledRunnerOf(exp: { readonly name: string }): { readonly url: string } | { readonly why: string } {
  const found = compiledExperiment(exp);
  if (found.status === "fresh") {
    return existsSync(found.runner) ? { url: pathToFileURL(found.runner).href } : { why: `its runner ${found.runner} is missing; run \`crystallize compile\`` };
  }
  if (found.status === "stale") return { why: `the compiled manifest ${found.manifest} is stale (${found.reason}); run \`crystallize compile\` again` };
  return { why: "no compiled manifest describes it; run `crystallize compile` in the project" };
}
