// The artifact store of one run: a version folder per run under the experiment's folder,
//
//   <root>/<experiment>/v<N>/
//     metadata.json                                   the version's facts and status (checked JSON)
//     tasks.jsonl                                     the task journal: one line per completed task
//     result.json                                     the run's result.toJSON() (checked JSON, one line)
//     <condition>/results.json                        per condition: metrics and hypotheses
//     replicate_<r>/<condition>/<step>/<artifact>     what a step wrote (the codec's bytes)
//     replicate_<r>/<condition>/.complete.json        artifact index of a task that wrote artifacts
//
// A task is complete when the journal has a whole line for it (see task-journal.ts): the line
// holds the task's whole outcome (metrics, provenance, seed, and each artifact's size and sha256),
// so a resumed run rebuilds its result from the journal without running those tasks again. The
// line is appended after the task's artifact files are in place; artifact and JSON files are
// written atomically (temporary file, rename) and lines are appended whole, so a crash leaves
// whole files and whole lines only (a line cut short by the kernel is detected and dropped).
//
// Durability (see docs/caching.md): by default nothing is flushed to disk during a run; after
// finish the journal and metadata.json are, in the background (a killed process loses nothing it
// handed to write(); a power failure can lose what the disk had not stored yet, which a resume
// detects and runs again).
// `fsync: true` flushes every artifact and every journal line before saveTask resolves.
//
// `.complete.json` is the former per-task marker, kept (smaller, only for tasks that wrote
// artifacts) because src/runtime/input-resolver.ts reads it to find a stored producer's artifacts.
// Resume does not read it. It goes once input-resolver reads the journal (readStoredTasks below).
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { unsafeSegmentReason } from "../../dsl/artifact.js";
import { ArtifactError, StorageError } from "../../errors.js";
import type { ArtifactRecord, ProvenanceRecord, RunInfo, TaskOutcome } from "../records.js";
import type { RunStorage, RunSummary, StoredTask } from "../services.js";
import { removeStaleTempFiles, storageError, syncDirectory, writeFileAtomic, writeFileAtomicSync } from "./atomic-write.js";
import { checkedJsonLine, readCheckedJson, stageCheckedJson, storableJsonOf, toStorableJson, writeCheckedJson, writeCheckedJsonSync } from "./checked-json.js";
import { JOURNAL_FILE, JOURNAL_SCHEMA, JOURNAL_SCHEMA_V1, JournalWriter, readJournal, type JournalArtifact, type JournalTask, type ParsedJournal } from "./task-journal.js";
import { claimVersion, latestVersion, versionDirName } from "./versions.js";
import { commandLine, gitState, type GitState } from "../registry/git.js";
import { markRunning, recordVersion } from "../registry/registry.js";
import { buildRecord, TimingTally } from "../registry/summary.js";

/** 2: the task journal replaced per-task markers. Versions of another schema are not resumed. */
export const STORE_SCHEMA = 2;
export const COMPLETE_MARKER = ".complete.json";
export { JOURNAL_FILE } from "./task-journal.js";
export type { JournalArtifact, JournalTask } from "./task-journal.js";

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
  /**
   * Per-task durability (default false). true: every artifact file and every journal line is
   * flushed to disk before saveTask resolves (lines of tasks finishing together share one flush),
   * and so is every JSON file. false: only the journal and metadata.json, in the background
   * once finish() has written every file (see finishFilesThenFlush).
   */
  readonly fsync?: boolean;
  /**
   * Record the version in the run registry (<outDir>/registry.sqlite) once its files are
   * committed (default true). The registry is an index: a failure to write it is a warning.
   */
  readonly registry?: boolean;
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
      packageVersion = pkg.name === "crystallize-ts" && typeof pkg.version === "string" ? pkg.version : "unknown";
    } catch {
      packageVersion = "unknown";
    }
  }
  return packageVersion;
}

const RESERVED_CONDITION = /^(replicate_\d+|metadata\.json|result\.json|tasks\.jsonl)$/;

function checkSegment(kind: string, name: string, path: string): void {
  const why = unsafeSegmentReason(name);
  if (why !== undefined) throw new StorageError(path, `The ${kind} name "${name}" cannot be used as a folder name: ${why}.`);
}

function toPosix(p: string): string {
  return sep === "/" ? p : p.split(sep).join("/");
}

const NONE: readonly never[] = Object.freeze([]);

/** Beyond this, tasks' record text is not kept for result.json (which then encodes them again). */
const MAX_KEPT_STEPS_CHARS = 16 * 2 ** 20;

const RECORD_KEYS = new Set(["step", "stepHash", "params", "cacheHit", "durationMs", "inputHash", "outputHash", "ctx", "metrics"]);

/**
 * A record the schema 2 line keeps whole and recordText can write: only ProvenanceRecord's fields,
 * of their types.
 */
function plainRecord(r: ProvenanceRecord): boolean {
  if (typeof r !== "object" || r === null || typeof r.durationMs !== "number" || typeof r.cacheHit !== "boolean") return false;
  if (typeof r.step !== "string" || typeof r.stepHash !== "string") return false;
  if (!isObject(r.params) || !isObject(r.ctx) || !isObject(r.metrics)) return false;
  if ((r.inputHash !== undefined && typeof r.inputHash !== "string") || (r.outputHash !== undefined && typeof r.outputHash !== "string")) return false;
  for (const k in r) if (!RECORD_KEYS.has(k)) return false;
  return true;
}

const isObject = (v: unknown): boolean => typeof v === "object" && v !== null;

/** A number plain JSON writes as toStorableJson does (finite, not -0): its text is String(n). */
const plainNumber = (n: number): boolean => n - n === 0 && (n !== 0 || 1 / n > 0);
const numberJson = (n: number): string => (plainNumber(n) ? String(n) : toStorableJson(n));

/** JSON strings of the step names and hashes seen (a run has few), each encoded once. */
const stringText = new Map<string, string>();
function stringJson(s: string): string {
  let t = stringText.get(s);
  if (t === undefined) {
    t = JSON.stringify(s);
    if (stringText.size < 4096) stringText.set(s, t);
  }
  return t;
}

/**
 * toStorableJson(provenanceStepJSON(r)) for a plainRecord, written directly: the parts records
 * share (frozen params, access lists, empty metrics) are encoded once (test: the result.json test
 * of test/plugins/artifacts.test.ts compares the file with the result's own encoding).
 */
function recordText(r: ProvenanceRecord): string {
  const hashes =
    (r.inputHash === undefined ? "" : `,"inputHash":${JSON.stringify(r.inputHash)}`) +
    (r.outputHash === undefined ? "" : `,"outputHash":${JSON.stringify(r.outputHash)}`);
  return [
    '{"step":',
    stringJson(r.step),
    ',"stepHash":',
    stringJson(r.stepHash),
    ',"params":',
    storableJsonOf(r.params),
    r.cacheHit ? ',"cacheHit":true' : ',"cacheHit":false',
    hashes,
    ',"ctx":',
    storableJsonOf(r.ctx),
    ',"metrics":',
    storableJsonOf(r.metrics),
    "}",
  ].join("");
}

/** Whether result.json's steps of a task came from `records` (the ones whose text was kept). */
function sameSteps(steps: readonly unknown[], records: readonly ProvenanceRecord[]): boolean {
  if (steps.length !== records.length) return false;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i] as Partial<ProvenanceRecord> | null;
    const r = records[i]!;
    if (s === null || typeof s !== "object" || s.step !== r.step || s.stepHash !== r.stepHash || s.params !== r.params || s.ctx !== r.ctx || s.metrics !== r.metrics) {
      return false;
    }
  }
  return true;
}

/** The key of a task in maps of tasks. */
const taskKey = (condition: string, replicate: number) => `${replicate}\u0000${condition}`;

export class RunStore implements RunStorage {
  /** Tasks saved by this run: what finish() needs of them (metrics by replicate). */
  private readonly saved = new Map<string, Pick<TaskOutcome, "replicate" | "metrics">>();
  private previous = new Map<string, StoredTask>();
  private tasksRun = 0;
  private readonly durable: boolean;
  /** Asked when the store opens, awaited at finish (see registry/git.ts). */
  private readonly git: Promise<GitState>;
  private readonly command = commandLine();
  private params: Record<string, Record<string, unknown>> | undefined;
  /** Step timings of the tasks saved or restored, for the registry (result.json omits them). */
  private readonly timings = new TimingTally();
  private committedMeta: Record<string, unknown> | undefined;
  /** Per task saved: its records and their JSON text (as result.json has them), for result.json. */
  private readonly stepsText = new Map<string, { readonly records: readonly ProvenanceRecord[]; readonly text: string }>();
  private stepsChars = 0;
  private readonly runIdJson: string;

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
    private readonly journal: JournalWriter,
    /** What the journal held when a resumed run opened it (released by completed()). */
    private stored: ParsedJournal | undefined,
  ) {
    this.durable = options.fsync === true;
    this.runIdJson = JSON.stringify(run.id);
    this.git = gitState(this.outDir);
  }

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
    let refused = false;

    if (options.resume) {
      // A run killed mid-write leaves temporary files behind, also in a version too early to
      // resume (killed before its metadata.json): sweep every version of the experiment.
      await removeStaleTempFiles(expDir);
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
        } else {
          refused = true;
          log?.warn(`Not resuming ${dir}: ${why}. Starting a new version.`);
        }
      }
    }
    if (version === undefined) {
      if (options.versioned === false) {
        version = 0;
        const dir = join(expDir, versionDirName(0));
        if (options.resume && !refused) {
          // Nothing to continue yet (a compatible v0 was taken above).
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
    const journalPath = join(dir, JOURNAL_FILE);
    let stored: ParsedJournal | undefined;
    if (resumed) {
      stored = await readJournal(journalPath);
      for (const d of stored?.damaged ?? []) {
        log?.warn(`Line ${d.line} of ${journalPath} is damaged (${d.problem}); it is ignored, and its task runs again unless another line holds it.`);
      }
      if (stored !== undefined && stored.tornBytes > 0) {
        log?.warn(
          `${journalPath} ends with a partial line (${stored.tornBytes} bytes; the run writing it was killed mid-write); it is ignored and removed, and its task runs again.`,
        );
      }
    }
    const journal = JournalWriter.open(journalPath, {
      durable: options.fsync === true,
      ...(stored !== undefined && stored.tornBytes > 0 ? { truncateTo: stored.wholeBytes } : {}),
    });
    const store = new RunStore(run, options, version, dir, outDir, resumed, sessions, firstStartedAt, journal, stored);
    // A resumed version was finished once and has a row: mark it running before its metadata
    // says so (reconcile re-reads running rows; a stale "completed" row would never be).
    if (resumed && options.registry !== false) markRunning(outDir, options.root, run.experiment, version, log);
    try {
      await store.writeJson(join(dir, "metadata.json"), store.metadataFields("running"), { mkdir: false });
    } catch (e) {
      await journal.close(false).catch(() => undefined);
      throw e;
    }
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
    const journal = this.stored;
    this.stored = undefined;
    if (!this.resumed || journal === undefined) return [];
    // The last whole line of each task of this run wins.
    const conditions = new Set(this.run.conditions);
    const last = new Map<string, JournalTask>();
    for (const t of journal.tasks) {
      if (t.replicate < this.run.replicates && conditions.has(t.condition)) last.set(taskKey(t.condition, t.replicate), t);
    }
    const out: StoredTask[] = [];
    for (let r = 0; r < this.run.replicates; r++) {
      for (const condition of this.run.conditions) {
        const key = taskKey(condition, r);
        const line = last.get(key);
        if (line === undefined) continue;
        const task = await this.restore(line);
        if (task !== undefined) {
          out.push(task);
          this.timings.add(task.provenance);
          this.previous.set(key, task);
        }
      }
    }
    return out;
  }

  /** A journaled task, once its artifact files are found intact; undefined (with a warning) if not. */
  private async restore(t: JournalTask): Promise<StoredTask | undefined> {
    const { condition, replicate } = t;
    const stored: ArtifactRecord[] = [];
    for (const a of t.artifacts) {
      const abs = join(this.dir, ...a.path.split("/"));
      let problem: string | undefined;
      if (a.path.split("/").some((s) => s === ".." || s === "") || !abs.startsWith(this.dir + sep)) problem = "outside the version folder";
      else {
        const bytes = await fsp.readFile(abs).catch(() => undefined);
        if (bytes === undefined) problem = "missing";
        else if (bytes.byteLength !== a.bytes) problem = `${bytes.byteLength} bytes, not the ${a.bytes} recorded`;
        else if (createHash("sha256").update(bytes).digest("hex") !== a.sha256) problem = "not what was written (its sha256 differs)";
      }
      if (problem !== undefined) {
        this.options.log?.warn(`Artifact ${abs} of a completed task is ${problem}; the task (${condition}, replicate ${replicate}) runs again.`);
        return undefined;
      }
      stored.push(this.record(a, condition, replicate, abs, a.bytes));
    }
    return {
      condition,
      replicate,
      status: "ok",
      seed: t.seed,
      metrics: t.metrics,
      provenance: t.provenance as TaskOutcome["provenance"],
      artifacts: [],
      stored,
    };
  }

  async saveTask(outcome: TaskOutcome): Promise<readonly ArtifactRecord[]> {
    this.tasksRun++;
    // A failed task is not marked complete: a resumed run tries it again.
    if (outcome.status !== "ok") return NONE;
    const { condition, replicate } = outcome;
    let records: readonly ArtifactRecord[] = NONE;
    let written: readonly JournalArtifact[] = NONE;
    if (outcome.artifacts.length > 0) [records, written] = await this.writeArtifacts(outcome);
    let text: string;
    try {
      text = this.journalText(outcome, written);
    } catch (e) {
      throw new StorageError(
        join(this.dir, JOURNAL_FILE),
        `Could not record the task (${condition}, replicate ${replicate}) in the journal: ${(e as Error).message}.`,
        e,
      );
    }
    // Last: the line that says the task is complete (queued; written with the next batch).
    const seq = this.journal.append(text);
    this.saved.set(taskKey(condition, replicate), outcome);
    this.timings.add(outcome.provenance);
    if (this.durable) await this.journal.durable(seq);
    return records;
  }

  /**
   * The JSON text of a task's journal line. Schema 2 (records as result.json has them, durations
   * beside), its records' text kept for result.json; schema 1 for records with other fields.
   */
  private journalText(outcome: TaskOutcome, written: readonly JournalArtifact[]): string {
    const { condition, replicate, provenance } = outcome;
    if (!provenance.every(plainRecord)) {
      return toStorableJson({
        schema: JOURNAL_SCHEMA_V1,
        condition,
        replicate,
        status: "ok",
        seed: outcome.seed,
        runId: this.run.id,
        metrics: outcome.metrics,
        provenance,
        artifacts: written,
      });
    }
    // Joined, not appended: join makes one flat string, which the journal's buffer and
    // result.json copy once each (a string built by += is a deep tree, flattened at every use).
    const records = new Array<string>(provenance.length);
    const times = new Array<number>(provenance.length);
    for (let i = 0; i < provenance.length; i++) {
      records[i] = recordText(provenance[i]!);
      times[i] = provenance[i]!.durationMs;
    }
    const steps = `[${records.join(",")}]`;
    const durations = times.every(plainNumber) ? `[${times.join(",")}]` : toStorableJson(times);
    // Key order as toStorableJson would write the object (readers parse it; the CRC is over it).
    const text = [
      `{"schema":${JOURNAL_SCHEMA},"condition":${JSON.stringify(condition)},"replicate":${numberJson(replicate)},"status":"ok",`,
      `"seed":${numberJson(outcome.seed)},"runId":${this.runIdJson},"metrics":${toStorableJson(outcome.metrics)},"provenance":`,
      steps,
      `,"durationsMs":${durations},"artifacts":${written.length === 0 ? "[]" : toStorableJson(written)}}`,
    ].join("");
    if (this.stepsChars + steps.length <= MAX_KEPT_STEPS_CHARS) {
      const key = taskKey(condition, replicate);
      this.stepsChars += steps.length - (this.stepsText.get(key)?.text.length ?? 0);
      this.stepsText.set(key, { records: provenance, text: steps });
    }
    return text;
  }

  /**
   * The compact JSON of result.json's fields, `{ result: json }`. The provenance of tasks this run
   * saved is spliced in from their journal text (encoded once, in saveTask) when it is the
   * same records: for most runs that is nearly all of result.json.
   */
  private resultJson(json: unknown): string {
    const provenance = (json as { provenance?: unknown } | null)?.provenance;
    if (this.stepsText.size === 0 || !Array.isArray(provenance)) return toStorableJson({ result: json ?? null });
    const marker = `\u0000provenance ${this.run.id} ${Math.random()}\u0000`;
    const markerJson = JSON.stringify(marker);
    const outer = toStorableJson({ result: { ...(json as Record<string, unknown>), provenance: marker } });
    const at = outer.indexOf(markerJson);
    if (at < 0 || outer.indexOf(markerJson, at + 1) >= 0) return toStorableJson({ result: json });
    const parts = provenance.map((p: unknown) => this.provenanceEntryJson(p));
    return `${outer.slice(0, at)}[${parts.join(",")}]${outer.slice(at + markerJson.length)}`;
  }

  private provenanceEntryJson(p: unknown): string {
    const e = p as { condition?: unknown; replicate?: unknown; steps?: unknown } | null;
    if (e !== null && typeof e === "object" && typeof e.condition === "string" && typeof e.replicate === "number" && Array.isArray(e.steps)) {
      const kept = this.stepsText.get(taskKey(e.condition, e.replicate));
      if (kept !== undefined && Object.keys(e).length === 3 && sameSteps(e.steps, kept.records)) {
        return `{"condition":${JSON.stringify(e.condition)},"replicate":${toStorableJson(e.replicate)},"steps":${kept.text}}`;
      }
    }
    return toStorableJson(p);
  }

  /** Checks every artifact's names, then writes each file atomically. */
  private async writeArtifacts(outcome: TaskOutcome): Promise<[ArtifactRecord[], JournalArtifact[]]> {
    const { condition, replicate } = outcome;
    const seen = new Set<string>();
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
    }
    const dir = this.taskDir(condition, replicate);
    const records: ArtifactRecord[] = [];
    const written: JournalArtifact[] = [];
    for (const a of outcome.artifacts) {
      const abs = join(dir, a.step, a.artifact);
      await writeFileAtomic(abs, a.bytes, { fsync: this.durable });
      records.push(this.record(a, condition, replicate, abs, a.bytes.byteLength));
      written.push({
        artifact: a.artifact,
        step: a.step,
        codec: a.codec,
        path: toPosix(relative(this.dir, abs)),
        bytes: a.bytes.byteLength,
        sha256: createHash("sha256").update(a.bytes).digest("hex"),
      });
    }
    // The index input-resolver reads (see the header); not used by resume.
    await this.writeJson(
      join(dir, COMPLETE_MARKER),
      { schema: STORE_SCHEMA, experiment: this.run.experiment, version: this.version, runId: this.run.id, condition, replicate, status: "ok", artifacts: written },
      { pretty: false, mkdir: false },
    );
    return [records, written];
  }

  async finish(summary: RunSummary): Promise<void> {
    await this.finishFiles(summary);
    // After the files are committed (the registry indexes them; reconcile repairs a crash here).
    // The record is built from what was just written, the same function `runs reindex` applies
    // to the files read back.
    if (this.options.registry === false) return;
    let record: ReturnType<typeof buildRecord>;
    try {
      const mtime = statSync(join(this.dir, "metadata.json")).mtimeMs;
      const json = summary.json as Record<string, unknown> | null;
      record = this.committedMeta && buildRecord(this.dir, this.committedMeta, mtime, json ?? undefined, this.timings.timings());
    } catch {
      record = undefined;
    }
    await recordVersion(this.outDir, this.options.root, this.dir, this.options.log, record);
  }

  private async finishFiles(summary: RunSummary): Promise<void> {
    this.params = paramsByCondition(summary.json);
    const git = await this.git;
    if (!this.durable) return this.finishFilesThenFlush(summary, git);
    // The journal's last batch is written now; the journal and the new metadata.json (a temporary
    // file until renamed) are flushed to disk while the results are written; metadata.json is
    // renamed into place last, once the journal is on disk, and the folder is flushed.
    const journalDone = this.journal.close(true).then(
      () => undefined,
      (e: unknown) => e,
    );
    const finalMeta = this.metadataFields(summary.status, summary.endedAt, git);
    const staging = stageCheckedJson(join(this.dir, "metadata.json"), finalMeta, { fsync: true }).then(
      (file) => ({ file }),
      (error: unknown) => ({ error }),
    );
    let failure: unknown;
    try {
      await this.writeResults(summary);
    } catch (e) {
      failure = e;
    }
    const stagedOrError = await staging;
    const staged = "file" in stagedOrError ? stagedOrError.file : undefined;
    if ("error" in stagedOrError) failure ??= stagedOrError.error;
    const journalError = await journalDone;
    if (journalError === undefined) {
      try {
        await staged?.commit();
        if (staged !== undefined) this.committedMeta = finalMeta;
        // Makes the rename durable (and, on ext4 and XFS, every earlier creation and rename).
        await syncDirectory(this.dir);
      } catch (e) {
        failure ??= e;
      }
    } else {
      // Tasks this run reported complete may be missing from the journal: the version failed.
      await staged?.discard();
      await writeCheckedJson(join(this.dir, "metadata.json"), this.metadataFields("failed", summary.endedAt, git), { fsync: true }).catch(() => undefined);
      failure = journalError;
    }
    if (failure !== undefined) throw failure;
  }

  /**
   * The default (`fsync: false`) ending: every file is written and renamed into place at once, and
   * the journal, metadata.json and the folder are flushed to disk after run() returns, in the
   * background (a disk flush takes milliseconds of waiting, more than the whole store costs
   * otherwise). Node keeps the process alive until the flush is done, so a process that exits
   * normally (even at once) has flushed; one killed right after loses nothing either (the kernel
   * has the data); only a power failure in those milliseconds can lose the run's last files, which
   * a resume detects like any other power failure (docs/caching.md, "Durability").
   */
  private async finishFilesThenFlush(summary: RunSummary, git: GitState): Promise<void> {
    let journalError: unknown;
    try {
      await this.journal.close(false);
    } catch (e) {
      journalError = e;
    }
    if (journalError !== undefined) {
      // Tasks this run reported complete may be missing from the journal: the version failed.
      await this.writeJson(join(this.dir, "metadata.json"), this.metadataFields("failed", summary.endedAt, git), { mkdir: false }).catch(() => undefined);
      throw journalError;
    }
    let failure: unknown;
    try {
      await this.writeResults(summary);
    } catch (e) {
      failure = e;
    }
    const finalMeta = this.metadataFields(summary.status, summary.endedAt, git);
    try {
      await this.writeJson(join(this.dir, "metadata.json"), finalMeta, { mkdir: false });
      this.committedMeta = finalMeta;
    } catch (e) {
      failure ??= e;
    }
    flushInBackground([join(this.dir, JOURNAL_FILE), join(this.dir, "metadata.json")], this.dir, this.options.log);
    if (failure !== undefined) throw failure;
  }

  private async writeResults(summary: RunSummary): Promise<void> {
    const json = (summary.json ?? {}) as {
      hypotheses?: ReadonlyArray<{
        name?: string;
        metrics?: readonly string[];
        results?: Record<string, unknown>;
        byMetric?: Record<string, Record<string, unknown>>;
        ranking?: readonly string[];
        effects?: Record<string, unknown>;
      }>;
    };
    const writes: Array<Promise<void> | void> = [];
    for (const condition of this.run.conditions) {
      const tasks: Array<Pick<TaskOutcome, "replicate" | "metrics">> = [];
      for (let r = 0; r < this.run.replicates; r++) {
        const key = taskKey(condition, r);
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
              effect: h.effects?.[condition] ?? null,
            }));
      writes.push(
        this.writeJson(
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
          {},
        ),
      );
    }
    // One line: the whole result is large, and indenting it would serialise it twice.
    writes.push(this.writeResultJson(join(this.dir, "result.json"), summary.json));
    // Written at the same time; the first failure is reported once all have settled.
    const settled = await Promise.allSettled(writes);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /**
   * Writes a checked JSON file atomically, flushed when the run is durable. Unflushed files are
   * small, so they are written with synchronous calls (no thread-pool round trips); a failure is
   * a rejected promise either way.
   */
  private writeJson(path: string, fields: Readonly<Record<string, unknown>>, options: { pretty?: boolean; mkdir?: boolean }): Promise<void> {
    if (this.durable) return writeCheckedJson(path, fields, { ...options, fsync: true });
    try {
      writeCheckedJsonSync(path, fields, { ...options, fsync: false });
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private writeResultJson(path: string, json: unknown): Promise<void> {
    let text: string;
    try {
      text = checkedJsonLine(this.resultJson(json));
    } catch (e) {
      return Promise.reject(new StorageError(path, `Could not write "${path}": ${(e as Error).message}.`, e));
    }
    if (this.durable) return writeFileAtomic(path, text, { mkdir: false, fsync: true });
    try {
      writeFileAtomicSync(path, text, { mkdir: false, fsync: false });
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private missing(tasks: ReadonlyArray<{ readonly replicate: number }>): number[] {
    const have = new Set(tasks.map((t) => t.replicate));
    const out: number[] = [];
    for (let r = 0; r < this.run.replicates; r++) if (!have.has(r)) out.push(r);
    return out;
  }

  private metadataFields(status: string, endedAt?: string, git?: GitState): Record<string, unknown> {
    const run = this.run;
    const session: Session = {
      runId: run.id,
      startedAt: run.startedAt,
      ...(endedAt === undefined ? {} : { endedAt }),
      status,
      resumed: this.resumed,
      ...(endedAt === undefined ? {} : { tasksRun: this.tasksRun }),
    };
    return {
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
      durability: this.durable ? "task" : "run",
      git: git ?? null,
      command: this.command,
      ...(this.params === undefined ? {} : { params: this.params }),
      packages: { crystallize: crystallizeVersion(), node: process.versions.node },
      sessions: [...this.sessions, session],
    };
  }
}

/** Flushes that finished runs left running (see finishFilesThenFlush). */
const pendingFlushes = new Set<Promise<void>>();

/**
 * Flushes `files`, then `dir`, to disk without making the caller wait. A file or folder that is
 * gone by then (removed by its owner) needs no flush; other failures are warnings, since the files
 * themselves are whole and only their durability against power loss is in question.
 */
function flushInBackground(files: readonly string[], dir: string, log: RunStoreOptions["log"]): void {
  const flush = async (): Promise<void> => {
    await Promise.all(files.map((f) => syncFile(f)));
    await syncDirectory(dir);
  };
  const done: Promise<void> = flush()
    .catch((e: unknown) => {
      if ((e as { code?: unknown }).code !== "ENOENT" && !String((e as Error).message).includes("ENOENT")) {
        log?.warn(`Could not flush ${dir} to disk after the run: ${(e as Error).message}`);
      }
    })
    .finally(() => pendingFlushes.delete(done));
  pendingFlushes.add(done);
}

async function syncFile(path: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(path, "r");
    await handle.datasync();
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Resolves once every finished run's files are flushed to disk (for callers that exit with process.exit()). */
export async function flushFinishedRuns(): Promise<void> {
  while (pendingFlushes.size > 0) await Promise.all([...pendingFlushes]);
}

/** Per condition, per step: the params its first stored task saw (from the result's provenance). */
function paramsByCondition(json: unknown): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const provenance = (json as { provenance?: unknown } | null)?.provenance;
  if (!Array.isArray(provenance)) return out;
  for (const p of provenance as Array<{ condition?: unknown; steps?: unknown }>) {
    if (typeof p.condition !== "string" || p.condition in out || !Array.isArray(p.steps)) continue;
    const bySteps: Record<string, unknown> = {};
    for (const s of p.steps as Array<{ step?: unknown; params?: unknown }>) if (typeof s.step === "string") bySteps[s.step] = s.params ?? {};
    out[p.condition] = bySteps;
  }
  return out;
}

/**
 * The completed tasks of a stored version, read from its journal: the last whole line of each
 * task, keyed by storedTaskKey(condition, replicate). Damaged lines and a torn last line are
 * skipped. For readers of stored runs (a consumer's artifact inputs); artifact files are not
 * checked here: compare their sha256 with the line's.
 */
export async function readStoredTasks(versionDir: string): Promise<ReadonlyMap<string, JournalTask>> {
  const parsed = await readJournal(join(versionDir, JOURNAL_FILE));
  const out = new Map<string, JournalTask>();
  for (const t of parsed?.tasks ?? []) out.set(storedTaskKey(t.condition, t.replicate), t);
  return out;
}

export function storedTaskKey(condition: string, replicate: number): string {
  return taskKey(condition, replicate);
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
  if (meta.schema !== STORE_SCHEMA) return `it was written by another version of the store (schema ${String(meta.schema)}, this one writes ${STORE_SCHEMA})`;
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
