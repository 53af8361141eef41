// Resolves an input() source's artifact inputs to bytes written by producer runs, and binds the
// source to them: the experiment that runs is a shallow copy whose source fetches each input.
//
// Rules (BEHAVIOUR.md items 17-18, fixed):
// - consumer replicate r of condition c reads producer replicate r mod N (N: the producer run's
//   replicate count), condition c;
// - when the producer did not run condition c at all, it reads the producer's baseline instead and
//   logs one warning per input and condition;
// - a producer task that failed, or wrote nothing under that name, is a MissingArtifactError naming
//   the producer, artifact, condition and replicate (never a silent fallback);
// - all artifact inputs must come from runs with the same replicate count, else InputError naming
//   each input and its count.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import type { Artifact } from "../dsl/artifact.js";
import type { Logger, SourceContext } from "../dsl/context.js";
import type { AnyExperiment } from "../dsl/experiment.js";
import { isInputSource, type InputSource, type InputSpec } from "../dsl/input.js";
import { originOf, withOrigin } from "../dsl/origin.js";
import type { Plugin } from "../dsl/plugin.js";
import type { ArtifactRecord, TaskOutcome } from "../dsl/records.js";
import type { Result } from "../dsl/result.js";
import type { Source } from "../dsl/source.js";
import type { AnyTreatment } from "../dsl/treatment.js";
import { ArtifactError, errorMessage, InputError, MissingArtifactError } from "../errors.js";
import { resolvePlugins, type RuntimeDefaults } from "./experiment-runner.js";
import { createRandom, streamSeed } from "./seeds.js";
import { isStoragePlugin } from "./services.js";
import { readCheckedJson } from "./storage/checked-json.js";
import { COMPLETE_MARKER } from "./storage/run-store.js";
import { listVersions } from "./storage/versions.js";

/** The artifacts one producer run wrote, addressable by (artifact, condition, replicate). */
export interface ProducerArtifacts {
  readonly producer: string;
  /** The producer run's replicate count (N in "replicate r reads r mod N"). */
  readonly replicates: number;
  /** Conditions the producer ran ("baseline" and its treatments). */
  readonly conditions: ReadonlySet<string>;
  /** The stored version read from, when the producer run was stored. */
  readonly version: number | undefined;
  /** The encoded bytes, or undefined when the task failed or wrote no such artifact. */
  read(artifact: string, condition: string, replicate: number): Promise<Uint8Array | undefined>;
  /** Where the file would be (for error messages), when known. */
  describe(artifact: string, condition: string, replicate: number): string | undefined;
}

const keyOf = (artifact: string, condition: string, replicate: number) => `${artifact}\u0000${condition}\u0000${replicate}`;

/** Artifact bytes of successful tasks, kept in memory (runs without a storage plugin). */
export class CapturedArtifacts {
  private readonly bytes = new Map<string, Uint8Array>();

  /** A run-only plugin that keeps what each successful task wrote. */
  plugin(): Plugin {
    return {
      name: "crystallize:graph-capture",
      afterReplicate: (_ctx, outcome: TaskOutcome) => {
        if (outcome.status !== "ok") return;
        for (const a of outcome.artifacts) this.bytes.set(keyOf(a.artifact, outcome.condition, outcome.replicate), a.bytes);
      },
    };
  }

  get(artifact: string, condition: string, replicate: number): Uint8Array | undefined {
    return this.bytes.get(keyOf(artifact, condition, replicate));
  }

  get size(): number {
    return this.bytes.size;
  }

  clear(): void {
    this.bytes.clear();
  }
}

/**
 * The artifacts of a finished run: captured bytes first, then the files its Result lists, then (for
 * tasks a resumed run did not re-run, which its Result does not list) the stored version's
 * completion markers.
 */
export function producerFromResult(
  result: Result,
  options: { outDir: string; captured?: CapturedArtifacts; artifactsRoot?: string },
): ProducerArtifacts {
  const failed = new Set(result.errors.map((e) => `${e.condition}\u0000${e.replicate}`));
  const records = new Map<string, ArtifactRecord>();
  for (const r of result.artifacts) records.set(keyOf(r.artifact, r.condition, r.replicate), r);
  const version = result.run.version;
  const root = options.artifactsRoot ?? join(options.outDir, "artifacts");
  const stored = version === undefined ? undefined : storedVersion(join(root, result.experiment, `v${version}`));
  const fileOf = (artifact: string, condition: string, replicate: number) => {
    const rec = records.get(keyOf(artifact, condition, replicate));
    if (rec) return isAbsolute(rec.path) ? rec.path : resolve(options.outDir, rec.path);
    return undefined;
  };
  return {
    producer: result.experiment,
    replicates: result.replicates,
    conditions: new Set(result.conditions),
    version,
    async read(artifact, condition, replicate) {
      if (failed.has(`${condition}\u0000${replicate}`)) return undefined;
      const held = options.captured?.get(artifact, condition, replicate);
      if (held) return held;
      const file = fileOf(artifact, condition, replicate);
      if (file) return readIfExists(file);
      return stored?.read(artifact, condition, replicate);
    },
    describe(artifact, condition, replicate) {
      return fileOf(artifact, condition, replicate) ?? stored?.describe(artifact, condition, replicate);
    },
  };
}

async function readIfExists(file: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOENT") return undefined;
    throw e;
  }
}

interface MarkerArtifact {
  readonly artifact: string;
  readonly step: string;
  readonly path: string;
  readonly sha256?: string;
}

/**
 * Reads artifacts of a stored version through its tasks' completion markers
 * (`replicate_<r>/<condition>/.complete.json`, see storage/run-store.ts): a task without a marker
 * did not complete; a file whose sha256 differs from the marker's is refused.
 */
export function storedVersion(versionDir: string): Pick<ProducerArtifacts, "read" | "describe"> {
  const markerOf = (condition: string, replicate: number) => join(versionDir, `replicate_${replicate}`, condition, COMPLETE_MARKER);
  const entryOf = async (artifact: string, condition: string, replicate: number) => {
    const marker = await readCheckedJson(markerOf(condition, replicate));
    if (!marker || marker.status !== "ok" || !Array.isArray(marker.artifacts)) return undefined;
    const entries = (marker.artifacts as MarkerArtifact[]).filter((a) => a?.artifact === artifact);
    // The last step that wrote it: a later write of the same name is the newer value.
    return entries[entries.length - 1];
  };
  return {
    async read(artifact, condition, replicate) {
      const entry = await entryOf(artifact, condition, replicate);
      if (!entry || typeof entry.path !== "string") return undefined;
      const file = join(versionDir, ...entry.path.split("/"));
      const bytes = await readIfExists(file);
      if (bytes && typeof entry.sha256 === "string" && createHash("sha256").update(bytes).digest("hex") !== entry.sha256) {
        throw new ArtifactError(artifact, `Artifact file ${file} does not match the checksum its completion marker recorded; it was changed or damaged after the run. Rerun the producer.`);
      }
      return bytes;
    },
    describe(artifact, condition, replicate) {
      return join(versionDir, `replicate_${replicate}`, condition, "<step>", artifact);
    },
  };
}

/** The latest completed stored run of `producer` under `artifactsRoot`, as a producer of artifacts. */
export async function producerFromStorage(artifactsRoot: string, producer: string, wanted: string): Promise<ProducerArtifacts> {
  const dir = join(artifactsRoot, producer);
  const versions = await listVersions(dir);
  for (let i = versions.length - 1; i >= 0; i--) {
    const version = versions[i]!;
    const versionDir = join(dir, `v${version}`);
    const meta = await readCheckedJson(join(versionDir, "metadata.json")).catch(() => undefined);
    if (meta?.status !== "completed" || typeof meta.replicates !== "number" || !Array.isArray(meta.conditions)) continue;
    const reader = storedVersion(versionDir);
    return {
      producer,
      replicates: meta.replicates,
      conditions: new Set(meta.conditions as string[]),
      version,
      read: reader.read,
      describe: reader.describe,
    };
  }
  throw new MissingArtifactError(
    `No completed run of experiment "${producer}" is stored under ${dir}, so its artifact "${wanted}" cannot be read. ` +
      `Run "${producer}" first (with the artifacts() plugin), or run both in a graph(...).`,
    { producer, artifact: wanted },
  );
}

/** Where each artifact input of an input source comes from, by alias. */
export type ProducerMap = ReadonlyMap<string, ProducerArtifacts>;

/** Throws InputError when the artifact inputs come from runs with different replicate counts. */
export function checkReplicateAgreement(
  consumer: string,
  inputs: readonly { readonly alias: string; readonly producer: string; readonly artifact: string; readonly replicates: number }[],
): void {
  const counts = new Set(inputs.map((i) => i.replicates));
  if (counts.size <= 1) return;
  const list = inputs.map((i) => `"${i.alias}" (${i.producer}/${i.artifact}) has ${i.replicates}`).join(", ");
  throw new InputError(
    `The artifact inputs of experiment "${consumer}" disagree on replicate counts: ${list}. ` +
      `Replicate r of the consumer reads replicate r mod N of its producers, so every producer must run the same number of replicates; make their replicates agree (or pass replicates to graph.run()).`,
    inputs.map((i) => i.alias),
  );
}

/** A context for a plain source inside input(): its own random stream, as if it were the experiment's source. */
function sourceContext(ctx: SourceContext, name: string): SourceContext {
  let rng: (() => number) | undefined;
  return Object.freeze({
    get replicate() {
      return ctx.replicate;
    },
    get condition() {
      return ctx.condition;
    },
    get seed() {
      return ctx.seed;
    },
    random: () => (rng ??= createRandom(streamSeed(ctx.seed, `source:${name}`)))(),
    get: <T>(key: string) => ctx.get<T>(key),
    has: (key: string) => ctx.has(key),
    add: (key: string, value: unknown) => ctx.add(key, value),
    params: ctx.params,
    record: (metric: never, value: number) => ctx.record(metric, value),
    artifacts: ctx.artifacts,
    get log() {
      return ctx.log;
    },
    get signal() {
      return ctx.signal;
    },
    use: ctx.use.bind(ctx),
  }) as SourceContext;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The source that runs in place of an input() source: plain inputs are fetched with their own
 * random streams, artifact inputs are read from their producers and decoded with their codecs.
 */
const BINDING = Symbol.for("crystallize.inputBinding");

/** What a bound input() source was made from: parallel() workers bind the module's own source the same way. */
export interface InputBinding {
  readonly input: InputSource<unknown>;
  readonly producers: ProducerMap;
}

/** The binding of a source boundInputSource() made, else undefined. */
export function inputBindingOf(source: unknown): InputBinding | undefined {
  return (source as { [BINDING]?: InputBinding } | null | undefined)?.[BINDING];
}

/** What a remote read answers: the bytes, or (none) where the file would be, for the error. */
export type RemoteRead = { readonly bytes: Uint8Array } | { readonly bytes?: undefined; readonly path?: string };

/**
 * A producer whose bytes come from elsewhere (a parallel() worker asks the main thread). A missing
 * artifact's path comes with the answer, so the worker's MissingArtifactError is the main thread's.
 */
export function remoteProducer(
  info: { readonly producer: string; readonly replicates: number; readonly conditions: readonly string[]; readonly version?: number },
  read: (artifact: string, condition: string, replicate: number) => Promise<RemoteRead>,
): ProducerArtifacts {
  const paths = new Map<string, string>();
  return {
    producer: info.producer,
    replicates: info.replicates,
    conditions: new Set(info.conditions),
    version: info.version,
    async read(artifact, condition, replicate) {
      const r = await read(artifact, condition, replicate);
      if (r.bytes === undefined && r.path !== undefined) paths.set(keyOf(artifact, condition, replicate), r.path);
      return r.bytes;
    },
    describe: (artifact, condition, replicate) => paths.get(keyOf(artifact, condition, replicate)),
  };
}

/** The main thread's side of a remote read. */
export async function readForRemote(p: ProducerArtifacts, artifact: string, condition: string, replicate: number): Promise<RemoteRead> {
  const bytes = await p.read(artifact, condition, replicate);
  if (bytes !== undefined) return { bytes };
  const path = p.describe(artifact, condition, replicate);
  return path === undefined ? {} : { path };
}

export function boundInputSource(consumer: string, source: InputSource<unknown>, producers: ProducerMap): Source<unknown> {
  const artifactSpecs = source.inputs.filter((s): s is Extract<InputSpec, { kind: "artifact" }> => s.kind === "artifact");
  const missing = artifactSpecs.filter((s) => !producers.has(s.alias)).map((s) => s.alias);
  if (missing.length) {
    throw new InputError(`Experiment "${consumer}": no producer run for input(s) ${missing.map((m) => `"${m}"`).join(", ")}.`, missing);
  }
  checkReplicateAgreement(
    consumer,
    artifactSpecs.map((s) => {
      const p = producers.get(s.alias)!;
      return { alias: s.alias, producer: p.producer, artifact: s.artifact.name, replicates: p.replicates };
    }),
  );
  const warned = new Set<string>();
  const readArtifact = async (spec: Extract<InputSpec, { kind: "artifact" }>, ctx: SourceContext, log: Logger) => {
    const p = producers.get(spec.alias)!;
    const art = spec.artifact as Artifact<unknown>;
    const replicate = ctx.replicate % p.replicates;
    let condition = ctx.condition;
    if (!p.conditions.has(condition)) {
      const once = `${spec.alias}\u0000${condition}`;
      if (!warned.has(once)) {
        warned.add(once);
        log.warn(
          `input "${spec.alias}" of "${consumer}": "${p.producer}" did not run condition "${condition}", so ${condition} reads its baseline "${art.name}"`,
        );
      }
      condition = "baseline";
    }
    const bytes = await p.read(art.name, condition, replicate);
    if (bytes === undefined) {
      const path = p.describe(art.name, condition, replicate);
      throw new MissingArtifactError(
        `Artifact "${art.name}" of experiment "${p.producer}" is missing for condition "${condition}", replicate ${replicate} ` +
          `(read by input "${spec.alias}" of "${consumer}", ${ctx.condition} replicate ${ctx.replicate}); ` +
          `the producer's task failed or did not write it: see the producer's result.errors.`,
        { producer: p.producer, artifact: art.name, condition, replicate, ...(path ? { path } : {}) },
      );
    }
    try {
      return art.codec.decode(bytes);
    } catch (cause) {
      const why = errorMessage(cause);
      throw new ArtifactError(
        art.name,
        `Artifact "${art.name}" of experiment "${p.producer}" (${condition} replicate ${replicate}) could not be decoded by its codec: ${why}`,
        cause,
      );
    }
  };
  const binding: InputBinding = Object.freeze({ input: source, producers });
  return Object.freeze({
    kind: "source" as const,
    name: source.name,
    [BINDING]: binding,
    async fetch(ctx: SourceContext) {
      const value: Record<string, unknown> = {};
      for (const spec of source.inputs) {
        if (spec.kind === "source") {
          let v = spec.source.fetch(sourceContext(ctx, spec.source.name));
          if (v !== null && typeof (v as { then?: unknown } | undefined)?.then === "function") v = await v;
          setOwn(value, spec.alias, v);
        } else {
          setOwn(value, spec.alias, await readArtifact(spec, ctx, ctx.log));
        }
      }
      return value;
    },
  });
}

/** A shallow copy of an experiment with another source and/or treatments (origin kept for workers). */
export function deriveExperiment(
  exp: AnyExperiment,
  patch: { readonly source?: Source<unknown>; readonly treatments?: readonly AnyTreatment[] },
): AnyExperiment {
  const copy = { ...exp } as Record<string | symbol, unknown>;
  if (patch.source) copy.source = patch.source;
  if (patch.treatments) copy.treatments = Object.freeze([...patch.treatments]);
  return Object.freeze(withOrigin(copy, originOf(exp))) as unknown as AnyExperiment;
}

/** Where a producer's storage plugin keeps versions: its `root` option, else `<outDir>/artifacts`. */
export function artifactsRootOf(plugins: readonly Plugin[], outDir: string): string {
  const storage = plugins.find((p) => isStoragePlugin(p)) as { options?: { root?: unknown } } | undefined;
  const root = storage?.options?.root;
  return typeof root === "string" ? root : join(outDir, "artifacts");
}

/**
 * Outside a graph, an input() source reads each producer's latest completed stored run. Returns
 * the experiment itself when its source is not an input() source.
 */
export async function bindFromStorage(
  exp: AnyExperiment,
  options: { readonly outDir?: string; readonly plugins?: readonly Plugin[] },
  defaults: RuntimeDefaults,
): Promise<AnyExperiment> {
  const source = exp?.source;
  if (!isInputSource(source)) return exp;
  const outDir = options.outDir ?? ".crystallize";
  const producers = new Map<string, ProducerArtifacts>();
  const byProducer = new Map<string, Promise<ProducerArtifacts>>();
  for (const spec of source.inputs) {
    if (spec.kind !== "artifact") continue;
    if (!spec.producer) {
      throw new InputError(
        `Input "${spec.alias}" of experiment "${exp.name}" reads the artifact declaration "${spec.artifact.name}" without naming its producer; ` +
          `outside a graph, write producer.output(artifact) so the stored run can be found, or run it inside graph(...).`,
        [spec.alias],
      );
    }
    const producer = spec.producer;
    let p = byProducer.get(producer.name);
    if (!p) {
      const root = artifactsRootOf(resolvePlugins(producer, options.plugins, defaults), outDir);
      p = producerFromStorage(root, producer.name, spec.artifact.name);
      byProducer.set(producer.name, p);
    }
    producers.set(spec.alias, await p);
  }
  return deriveExperiment(exp, { source: boundInputSource(exp.name, source, producers) });
}
