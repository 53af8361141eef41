// The artifact store of one run: a version folder per run under the experiment's folder,
//
//   <root>/<experiment>/v<N>/
//     metadata.json                                   the version's facts and status (checked JSON)
//     result.json                                     the run's result.toJSON() (checked JSON)
//     <condition>/results.json                        per condition: metrics and hypotheses
//     replicate_<r>/<condition>/<step>/<artifact>     what a step wrote (the codec's bytes)
//     replicate_<r>/<condition>/.complete.json        completion marker (checked JSON), written last
//
// A task is complete when its marker exists: the marker holds the task's whole outcome (metrics,
// provenance, seed, and each artifact's size and sha256), so a resumed run rebuilds its result
// from markers without running those tasks again. Markers are written after the task's
// artifacts; every file is written atomically, so a crash leaves whole files only.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { unsafeSegmentReason } from "../../dsl/artifact.js";
import { ArtifactError, StorageError } from "../../errors.js";
import type { ArtifactRecord, RunInfo, TaskOutcome } from "../records.js";
import type { RunStorage, RunSummary, StoredTask } from "../services.js";
import { removeStaleTempFiles, storageError, writeFileAtomic } from "./atomic-write.js";
import { readCheckedJson, writeCheckedJson } from "./checked-json.js";
import { claimVersion, latestVersion, versionDirName } from "./versions.js";

export const STORE_SCHEMA = 1;
export const COMPLETE_MARKER = ".complete.json";

export type { StoredTask } from "../services.js";

export interface RunStoreOptions {
  /** The artifacts root (absolute or relative to the cwd). */
  readonly root: string;
  /** Paths in ArtifactRecords are relative to this folder (the run's outDir). */
  readonly outDir: string;
  /** A new version per run (default true); false reuses v0, clearing it unless resuming. */
  readonly versioned?: boolean;
  readonly resume?: boolean;
  readonly log?: { warn(message: string): void };
  /** Flush files to disk before renaming them into place (default true). */
  readonly fsync?: boolean;
}

interface MarkerArtifact {
  readonly artifact: string;
  readonly step: string;
  readonly codec: string;
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

interface Session {
  readonly runId: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly status: string;
  readonly resumed: boolean;
  readonly tasksRun?: number;
}

let packageVersion: string | undefined;
function crystallizeVersion(): string {
  if (packageVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { name?: string; version?: string };
      packageVersion = pkg.name === "crystallize" && typeof pkg.version === "string" ? pkg.version : "unknown";
    } catch {
      packageVersion = "unknown";
    }
  }
  return packageVersion;
}

const RESERVED_CONDITION = /^(replicate_\d+|metadata\.json|result\.json)$/;

function checkSegment(kind: string, name: string, path: string): void {
  const why = unsafeSegmentReason(name);
  if (why !== undefined) throw new StorageError(path, `The ${kind} name "${name}" cannot be used as a folder name: ${why}.`);
}

function toPosix(p: string): string {
  return sep === "/" ? p : p.split(sep).join("/");
}

export class RunStore implements RunStorage {
  private readonly saved = new Map<string, StoredTask>();
  private previous = new Map<string, StoredTask>();
  private tasksRun = 0;

  private constructor(
    private readonly run: RunInfo,
    private readonly options: RunStoreOptions,
    readonly version: number,
    /** The version folder (absolute). */
    readonly dir: string,
    private readonly outDir: string,
    private readonly resumed: boolean,
    private readonly sessions: readonly Session[],
    private readonly firstStartedAt: string,
  ) {}

  static async open(run: RunInfo, options: RunStoreOptions): Promise<RunStore> {
    const root = resolve(options.root);
    const outDir = resolve(options.outDir);
    checkSegment("experiment", run.experiment, root);
    const expDir = join(root, run.experiment);
    for (const c of run.conditions) {
      checkSegment("condition", c, expDir);
      if (RESERVED_CONDITION.test(c)) {
        throw new StorageError(expDir, `The condition name "${c}" is reserved by the artifact layout; rename the treatment.`);
      }
    }
    const log = options.log;
    let version: number | undefined;
    let sessions: Session[] = [];
    let firstStartedAt = run.startedAt;
    let resumed = false;

    if (options.resume) {
      const latest = await latestVersion(expDir);
      if (latest !== undefined) {
        const dir = join(expDir, versionDirName(latest));
        const why = await incompatibility(run, dir);
        if (why === undefined) {
          version = latest;
          resumed = true;
          const meta = await readCheckedJson(join(dir, "metadata.json"));
          sessions = Array.isArray(meta?.sessions) ? (meta.sessions as Session[]) : [];
          if (typeof meta?.startedAt === "string") firstStartedAt = meta.startedAt;
          await removeStaleTempFiles(dir);
        } else {
          log?.warn(`Not resuming ${dir}: ${why}. Starting a new version.`);
        }
      }
    }
    if (version === undefined) {
      if (options.versioned === false) {
        version = 0;
        const dir = join(expDir, versionDirName(0));
        if (options.resume) {
          resumed = true;
        } else {
          await fsp.rm(dir, { recursive: true, force: true }).catch((e: unknown) => {
            throw storageError(dir, "clear", e);
          });
        }
        await fsp.mkdir(dir, { recursive: true }).catch((e: unknown) => {
          throw storageError(dir, "create", e);
        });
      } else {
        version = await claimVersion(expDir);
      }
    }
    const dir = join(expDir, versionDirName(version));
    const store = new RunStore(run, options, version, dir, outDir, resumed, sessions, firstStartedAt);
    await store.writeMetadata("running");
    return store;
  }

  private taskDir(condition: string, replicate: number): string {
    return join(this.dir, `replicate_${replicate}`, condition);
  }

  private record(
    a: { artifact: string; step: string },
    condition: string,
    replicate: number,
    abs: string,
    bytes: number,
  ): ArtifactRecord {
    return {
      artifact: a.artifact,
      step: a.step,
      condition,
      replicate,
      version: this.version,
      path: toPosix(relative(this.outDir, abs)),
      bytes,
    };
  }

  async completed(): Promise<readonly StoredTask[]> {
    if (!this.resumed) return [];
    const out: StoredTask[] = [];
    for (let r = 0; r < this.run.replicates; r++) {
      for (const condition of this.run.conditions) {
        const task = await this.readMarker(condition, r);
        if (task !== undefined) {
          out.push(task);
          this.previous.set(`${r}\u0000${condition}`, task);
        }
      }
    }
    return out;
  }

  private async readMarker(condition: string, replicate: number): Promise<StoredTask | undefined> {
    const path = join(this.taskDir(condition, replicate), COMPLETE_MARKER);
    let m: Record<string, unknown> | undefined;
    try {
      m = await readCheckedJson(path);
    } catch (e) {
      this.options.log?.warn(`${(e as Error).message} The task (${condition}, replicate ${replicate}) runs again.`);
      await fsp.rm(path, { force: true }).catch(() => undefined);
      return undefined;
    }
    if (m === undefined) return undefined;
    if (m.condition !== condition || m.replicate !== replicate || m.status !== "ok") return undefined;
    const stored: ArtifactRecord[] = [];
    for (const a of (m.artifacts ?? []) as MarkerArtifact[]) {
      const abs = join(this.dir, ...a.path.split("/"));
      const st = await fsp.stat(abs).catch(() => undefined);
      if (st === undefined || st.size !== a.bytes) {
        this.options.log?.warn(
          `Artifact ${abs} of a completed task is ${st === undefined ? "missing" : "of the wrong size"}; the task (${condition}, replicate ${replicate}) runs again.`,
        );
        return undefined;
      }
      stored.push(this.record(a, condition, replicate, abs, a.bytes));
    }
    return {
      condition,
      replicate,
      status: "ok",
      seed: m.seed as number,
      metrics: m.metrics as TaskOutcome["metrics"],
      provenance: m.provenance as TaskOutcome["provenance"],
      artifacts: [],
      stored,
    };
  }

  async saveTask(outcome: TaskOutcome): Promise<readonly ArtifactRecord[]> {
    this.tasksRun++;
    // A failed task is not marked complete: a resumed run tries it again.
    if (outcome.status !== "ok") return [];
    const { condition, replicate } = outcome;
    const dir = this.taskDir(condition, replicate);
    const seen = new Set<string>();
    const records: ArtifactRecord[] = [];
    const markerArtifacts: MarkerArtifact[] = [];
    for (const a of outcome.artifacts) {
      for (const [kind, name] of [
        ["artifact", a.artifact],
        ["step", a.step],
      ] as const) {
        const why = unsafeSegmentReason(name);
        if (why !== undefined || (kind === "step" && name === COMPLETE_MARKER)) {
          throw new ArtifactError(
            a.artifact,
            `Artifact "${a.artifact}" written by step "${a.step}" cannot be stored: the ${kind} name "${name}" is not a safe file name (${why ?? "it is reserved"}).`,
          );
        }
      }
      const id = `${a.step}\u0000${a.artifact}`;
      if (seen.has(id)) {
        throw new ArtifactError(a.artifact, `Step "${a.step}" wrote artifact "${a.artifact}" twice in (${condition}, replicate ${replicate}); write each artifact once.`);
      }
      seen.add(id);
      const abs = join(dir, a.step, a.artifact);
      await writeFileAtomic(abs, a.bytes, { fsync: this.options.fsync ?? true });
      records.push(this.record(a, condition, replicate, abs, a.bytes.byteLength));
      markerArtifacts.push({
        artifact: a.artifact,
        step: a.step,
        codec: a.codec,
        path: toPosix(relative(this.dir, abs)),
        bytes: a.bytes.byteLength,
        sha256: createHash("sha256").update(a.bytes).digest("hex"),
      });
    }
    // Last: the marker that says the task is complete.
    await writeCheckedJson(
      join(dir, COMPLETE_MARKER),
      {
        schema: STORE_SCHEMA,
        experiment: this.run.experiment,
        version: this.version,
        runId: this.run.id,
        condition,
        replicate,
        status: outcome.status,
        seed: outcome.seed,
        metrics: outcome.metrics,
        provenance: outcome.provenance,
        artifacts: markerArtifacts,
      },
      { fsync: this.options.fsync ?? true },
    );
    this.saved.set(`${replicate}\u0000${condition}`, { ...outcome, artifacts: [], stored: records });
    return records;
  }

  async finish(summary: RunSummary): Promise<void> {
    const json = (summary.json ?? {}) as {
      hypotheses?: ReadonlyArray<{
        name?: string;
        metrics?: readonly string[];
        results?: Record<string, unknown>;
        byMetric?: Record<string, Record<string, unknown>>;
        ranking?: readonly string[];
      }>;
    };
    for (const condition of this.run.conditions) {
      const tasks: StoredTask[] = [];
      for (let r = 0; r < this.run.replicates; r++) {
        const key = `${r}\u0000${condition}`;
        const t = this.saved.get(key) ?? this.previous.get(key);
        if (t !== undefined) tasks.push(t);
      }
      const metrics: Record<string, number[]> = {};
      for (const t of tasks) {
        for (const [name, values] of Object.entries(t.metrics)) (metrics[name] ??= []).push(...values);
      }
      const hypotheses =
        condition === "baseline"
          ? []
          : (json.hypotheses ?? []).map((h) => ({
              name: h.name,
              metrics: h.metrics,
              result: h.results?.[condition] ?? null,
              byMetric: Object.fromEntries(Object.entries(h.byMetric ?? {}).map(([m, r]) => [m, r[condition] ?? null])),
              rank: h.ranking === undefined ? null : h.ranking.indexOf(condition) + 1 || null,
            }));
      await writeCheckedJson(
        join(this.dir, condition, "results.json"),
        {
          schema: STORE_SCHEMA,
          experiment: this.run.experiment,
          version: this.version,
          condition,
          status: summary.status,
          replicates: tasks.map((t) => t.replicate),
          missing: this.missing(tasks),
          metrics,
          hypotheses,
        },
        { fsync: this.options.fsync ?? true },
      );
    }
    await writeCheckedJson(join(this.dir, "result.json"), { result: summary.json ?? null }, { fsync: this.options.fsync ?? true });
    await this.writeMetadata(summary.status, summary.endedAt);
  }

  private missing(tasks: readonly StoredTask[]): number[] {
    const have = new Set(tasks.map((t) => t.replicate));
    const out: number[] = [];
    for (let r = 0; r < this.run.replicates; r++) if (!have.has(r)) out.push(r);
    return out;
  }

  private async writeMetadata(status: string, endedAt?: string): Promise<void> {
    const run = this.run;
    const session: Session = {
      runId: run.id,
      startedAt: run.startedAt,
      ...(endedAt === undefined ? {} : { endedAt }),
      status,
      resumed: this.resumed,
      ...(endedAt === undefined ? {} : { tasksRun: this.tasksRun }),
    };
    await writeCheckedJson(
      join(this.dir, "metadata.json"),
      {
        schema: STORE_SCHEMA,
        experiment: run.experiment,
        version: this.version,
        runId: run.id,
        status,
        seed: run.seed,
        replicates: run.replicates,
        conditions: run.conditions,
        treatments: run.treatments,
        startedAt: this.firstStartedAt,
        endedAt: endedAt ?? null,
        stepHashes: run.stepHashes,
        strategy: run.strategy,
        packages: { crystallize: crystallizeVersion(), node: process.versions.node },
        sessions: [...this.sessions, session],
      },
      { fsync: this.options.fsync ?? true },
    );
  }
}

/** Why the stored version at `dir` cannot be continued by `run`, or undefined when it can. */
async function incompatibility(run: RunInfo, dir: string): Promise<string | undefined> {
  let meta: Record<string, unknown> | undefined;
  try {
    meta = await readCheckedJson(join(dir, "metadata.json"));
  } catch (e) {
    return (e as Error).message;
  }
  if (meta === undefined) return "it has no metadata.json";
  if (meta.experiment !== run.experiment) return `it belongs to experiment "${String(meta.experiment)}"`;
  if (meta.seed !== run.seed) return `it was run with seed ${String(meta.seed)}, this run uses seed ${run.seed}`;
  const before = (meta.stepHashes ?? {}) as Record<string, unknown>;
  for (const [step, hash] of Object.entries(run.stepHashes)) {
    if (step in before && before[step] !== hash) return `the code of step "${step}" changed since`;
  }
  return undefined;
}

export async function openRunStore(run: RunInfo, options: RunStoreOptions): Promise<RunStore> {
  return RunStore.open(run, options);
}
