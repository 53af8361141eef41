// The manifest (.crystallize/manifest.json): what the compiler learned, for runners, the CLI and
// tools. Versioned; documented in docs/compiler.md. Deterministic: the same code gives the same bytes.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { relative, sep } from "node:path";
import type * as TS from "typescript";
import ts from "./typescript.js";
import { createRequire } from "node:module";
import { toPlainJson } from "./evaluate.js";
import type { AnalysisHost, Discovered, ExperimentInfo, GraphInfo, StepInfo } from "./discover.js";
import { HASH_SCHEMA_VERSION, type Hasher, type StepHash } from "./hash.js";
import { edgesOf, graphMembers, inputLinks } from "./rules/index.js";

/** Bump on any incompatible change of the shape below. */
export const MANIFEST_VERSION = 1;

export interface ManifestStep {
  readonly name: string | null;
  /** The structural hash (sha256 hex), or null when the step could not be followed. */
  readonly hash: string | null;
  /** Whether the step's code may call ctx.random() (transitively). */
  readonly usesRandom: boolean;
  readonly in: string | null;
  readonly out: string | null;
  /** Default params (null where a value is not statically known). */
  readonly params: Record<string, unknown> | null;
  readonly metrics: readonly string[];
  readonly cacheable: boolean;
  /** Packages the step's code reaches, as name@version. */
  readonly packages: readonly string[];
  readonly file: string | null;
  readonly line: number | null;
}

export interface ManifestExperiment {
  readonly name: string;
  /** The module that exports it, relative to the project folder. */
  readonly file: string;
  readonly export: string;
  /** The runner module, relative to the output folder. */
  readonly runner: string;
  readonly in: string | null;
  readonly out: string | null;
  readonly source: string | null;
  /**
   * The structural hash of the source (its name and its fetch function's code, followed like a
   * step's), or null (no source, an input() source, or not followed). The graph runner's resume
   * fingerprint uses it, so a run from the CLI and one from a script agree.
   */
  readonly sourceHash: string | null;
  readonly replicates: number | null;
  readonly seed: number | null;
  readonly steps: readonly ManifestStep[];
  readonly treatments: readonly { readonly name: string | null; readonly values: Record<string, unknown> | null }[];
  readonly hypotheses: readonly { readonly name: string | null; readonly metrics: readonly string[] | null }[];
  readonly outputs: readonly { readonly name: string | null; readonly type: string | null }[];
  readonly inputs: readonly { readonly key: string; readonly from: string | null; readonly artifact: string | null }[];
  /**
   * Every file the steps' hashes depend on (project code, JSON, the lockfile, linked packages'
   * files; paths relative to the project folder) → the sha256 of its content (contentHash). The
   * runtime uses the step hashes only while these match the files on disk (src/runtime/manifest-lookup.ts).
   */
  readonly dependsOn: Readonly<Record<string, string>>;
}

export interface ManifestEdge {
  readonly from: string;
  readonly to: string;
  readonly artifact: string | null;
  readonly input: string;
}

export interface ManifestGraph {
  readonly name: string;
  readonly file: string;
  readonly export: string;
  readonly experiments: readonly string[];
  readonly edges: readonly ManifestEdge[];
}

export interface Manifest {
  readonly version: typeof MANIFEST_VERSION;
  readonly generator: { readonly crystallize: string; readonly typescript: string; readonly hashSchema: number };
  /** The tsconfig, relative to the project folder. */
  readonly project: string;
  /** Project-wide files every step hash depends on (the tsconfig and the configs it extends), as in ManifestExperiment.dependsOn. */
  readonly dependsOn: Readonly<Record<string, string>>;
  readonly experiments: readonly ManifestExperiment[];
  readonly graphs: readonly ManifestGraph[];
  /** Artifact edges between experiments (producer → consumer), graph or not. */
  readonly edges: readonly ManifestEdge[];
}

let ownVersion: string | undefined;
export function crystallizeVersion(): string {
  if (ownVersion === undefined) {
    try {
      ownVersion = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
    } catch {
      ownVersion = "unknown";
    }
  }
  return ownVersion;
}

/**
 * The sha256 (hex) of a file's text: UTF-8, without a leading byte-order mark. The runtime computes
 * the same from the file on disk to tell whether the manifest is fresh for the code being run.
 */
export function contentHash(text: string): string {
  return createHash("sha256").update(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).digest("hex");
}

/** A file's content hash: the text the compiler analysed when it is in the program, else the disk's. */
// Per source file version (a program's SourceFile is replaced when its file changes): experiments
// share most of their files.
const sourceHashes = new WeakMap<TS.SourceFile, string>();

function fileHash(host: AnalysisHost, file: string): string | undefined {
  const sf = host.program.getSourceFile(file);
  if (sf) {
    let h = sourceHashes.get(sf);
    if (h === undefined) sourceHashes.set(sf, (h = contentHash(sf.text)));
    return h;
  }
  try {
    return contentHash(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

function dependsOnOf(host: AnalysisHost, files: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of [...new Set(files)].sort()) {
    // A file that cannot be read gets an impossible hash, so the runtime never takes the manifest as fresh.
    out[rel(host.root, f)] = fileHash(host, f) ?? "unreadable";
  }
  return out;
}

/** The configs the tsconfig extends (a base config's `target` is in every hash too), as TypeScript read them. */
function extendedConfigs(host: AnalysisHost): readonly string[] {
  const config = host.program.getCompilerOptions().configFile as { extendedSourceFiles?: readonly string[] } | undefined;
  return config?.extendedSourceFiles ?? [];
}

/** The files a hash depends on: the code it follows and the packages' files (lockfile, linked code). */
function hashFiles(hasher: Hasher, h: StepHash | undefined): string[] {
  if (!h) return [];
  const files = [...h.files];
  for (const pkg of h.externals) {
    const at = pkg.lastIndexOf("@");
    if (!pkg.startsWith("node:") && at > 0) files.push(...hasher.versions.filesOf(pkg.slice(0, at)));
  }
  return files;
}

/** The files an experiment's hashes depend on: its module, each step's (and the source's) files. */
function experimentFiles(hasher: Hasher, d: Discovered<ExperimentInfo>, source: StepHash | undefined): string[] {
  const files = [d.info.file.fileName, ...d.addresses.map((a) => a.file.fileName), ...hashFiles(hasher, source)];
  for (const s of d.info.steps ?? []) {
    files.push(s.node.getSourceFile().fileName);
    if (s.kind === "step") files.push(...hashFiles(hasher, hasher.hashStep(s)));
  }
  return files;
}

/** A source's fetch function, hashed the way a step's run function is (the hasher follows it the same way). */
function sourceHashOf(hasher: Hasher, e: ExperimentInfo): { hash: string; facts: StepHash } | undefined {
  const src = e.source?.kind === "source" ? e.source : undefined;
  if (!src?.fetch || src.name === undefined) return undefined;
  const asStep: StepInfo = {
    kind: "step", node: src.node, name: src.name, nameNode: src.nameNode, options: undefined, paramsNode: undefined, params: {},
    metrics: [], metricsNode: undefined, metricsKnown: true, cacheable: false, run: src.fetch,
  };
  const facts = hasher.hashStep(asStep);
  if (!facts) return undefined;
  return { hash: createHash("sha256").update(`crystallize.source\0${src.name}\0${facts.hash}`).digest("hex"), facts };
}

function rel(root: string, file: string): string {
  return relative(root, file).split(sep).join("/");
}

// Types are interned by the checker (many steps share number[]), so their text is cached per type.
const typeTexts = new WeakMap<TS.TypeChecker, WeakMap<TS.Type, string>>();

function typeArgs(host: AnalysisHost, node: TS.Node): (string | null)[] {
  try {
    const t = host.checker.getTypeAtLocation(node);
    if (!(t.flags & ts.TypeFlags.Object) || !((t as TS.ObjectType).objectFlags & ts.ObjectFlags.Reference)) return [];
    let cache = typeTexts.get(host.checker);
    if (!cache) typeTexts.set(host.checker, (cache = new WeakMap()));
    return host.checker.getTypeArguments(t as TS.TypeReference).map((a) => {
      let text = cache!.get(a);
      if (text === undefined) cache!.set(a, (text = host.checker.typeToString(a, undefined, ts.TypeFormatFlags.NoTruncation)));
      return text;
    });
  } catch {
    return [];
  }
}

function stepEntry(host: AnalysisHost, hasher: Hasher, s: StepInfo): ManifestStep {
  const h = hasher.hashStep(s);
  const [inT, outT] = typeArgs(host, s.node);
  const sf = s.node.getSourceFile();
  const params = toPlainJson(s.params);
  return {
    name: s.name ?? null,
    hash: h?.hash ?? null,
    usesRandom: h?.usesRandom ?? true,
    in: inT ?? null,
    out: outT ?? null,
    params: params && typeof params === "object" && !Array.isArray(params) ? (params as Record<string, unknown>) : null,
    metrics: s.metrics.map((m) => m.name),
    cacheable: s.cacheable,
    packages: h?.externals ?? [],
    file: rel(host.root, sf.fileName),
    line: sf.getLineAndCharacterOfPosition(s.node.getStart(sf)).line + 1,
  };
}

function numberOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function experimentEntry(host: AnalysisHost, hasher: Hasher, d: Discovered<ExperimentInfo>): ManifestExperiment | undefined {
  const e = d.info;
  if (e.name === undefined) return undefined;
  const a = d.addresses[0]!;
  const [inT, outT] = typeArgs(host, e.node);
  const source = sourceHashOf(hasher, e);
  return {
    name: e.name,
    file: rel(host.root, a.file.fileName),
    export: a.exportName,
    runner: `runners/${e.name}.mjs`,
    in: inT ?? null,
    out: outT ?? null,
    source: e.source && "name" in e.source ? (e.source.name ?? null) : e.source?.kind === "input" ? "input" : null,
    sourceHash: source?.hash ?? null,
    replicates: e.replicates ? numberOrNull(e.replicates.value) : 1,
    seed: e.seed ? numberOrNull(e.seed.value) : null,
    steps: (e.steps ?? []).map((s) =>
      s.kind === "step"
        ? stepEntry(host, hasher, s)
        : { name: null, hash: null, usesRandom: true, in: null, out: null, params: null, metrics: [], cacheable: false, packages: [], file: null, line: null },
    ),
    treatments: (e.treatments ?? []).map((t) =>
      t.kind === "treatment"
        ? { name: t.name ?? null, values: t.keys ? Object.fromEntries(t.keys.map((k) => [k.key, toPlainJson(k.value)])) : null }
        : { name: null, values: null },
    ),
    hypotheses: (e.hypotheses ?? []).map((h) => (h.kind === "hypothesis" ? { name: h.name ?? null, metrics: h.metrics?.map((m) => m.name) ?? null } : { name: null, metrics: null })),
    outputs: (e.outputs ?? []).map((o) => (o.kind === "artifact" ? { name: o.name ?? null, type: typeArgs(host, o.node)[0] ?? null } : { name: null, type: null })),
    inputs: inputLinks(e).map((l) => ({ key: l.key, from: l.producer?.name ?? null, artifact: l.artifact?.name ?? null })),
    dependsOn: dependsOnOf(host, experimentFiles(hasher, d, source?.facts)),
  };
}

function edgeEntries(edges: ReturnType<typeof edgesOf>): ManifestEdge[] {
  return edges
    .filter((e) => e.from.name !== undefined && e.to.name !== undefined)
    .map((e) => ({ from: e.from.name!, to: e.to.name!, artifact: e.artifact ?? null, input: e.key }))
    .sort((x, y) => x.from.localeCompare(y.from) || x.to.localeCompare(y.to) || x.input.localeCompare(y.input));
}

export function graphEntry(host: AnalysisHost, d: Discovered<GraphInfo>): ManifestGraph | undefined {
  const g = d.info;
  if (g.name === undefined) return undefined;
  const members = graphMembers(g);
  return {
    name: g.name,
    file: rel(host.root, d.addresses[0]!.file.fileName),
    export: d.addresses[0]!.exportName,
    experiments: members.flatMap((m) => (m.name !== undefined ? [m.name] : [])),
    edges: edgeEntries(edgesOf(members)),
  };
}

export function buildManifest(
  host: AnalysisHost,
  hasher: Hasher,
  tsconfig: string,
  experiments: readonly Discovered<ExperimentInfo>[],
  graphs: readonly Discovered<GraphInfo>[],
  entryOf: (d: Discovered<ExperimentInfo>) => ManifestExperiment | undefined = (d) => experimentEntry(host, hasher, d),
): Manifest {
  const exps = experiments.flatMap((d) => {
    const m = entryOf(d);
    return m ? [m] : [];
  });
  const allInfos = experiments.map((d) => d.info);
  return {
    version: MANIFEST_VERSION,
    generator: { crystallize: crystallizeVersion(), typescript: ts.version, hashSchema: HASH_SCHEMA_VERSION },
    project: rel(host.root, tsconfig),
    dependsOn: dependsOnOf(host, [tsconfig, ...extendedConfigs(host)]),
    experiments: exps,
    graphs: graphs.flatMap((d) => {
      const g = graphEntry(host, d);
      return g ? [g] : [];
    }),
    edges: edgeEntries(edgesOf(allInfos)),
  };
}

/** The manifest as it is written: 2-space JSON with a final newline. */
export function serializeManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** Step hashes of one experiment, as RunOptions.stepHashes wants them. */
export function stepHashesOf(e: ManifestExperiment): Record<string, { hash: string; usesRandom: boolean }> {
  const out: Record<string, { hash: string; usesRandom: boolean }> = {};
  for (const s of e.steps) if (s.name !== null && s.hash !== null) out[s.name] = { hash: s.hash, usesRandom: s.usesRandom };
  return out;
}
