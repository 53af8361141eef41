// The run registry: an SQLite index (better-sqlite3) of every stored version, at
// <outDir>/registry.sqlite. The file store (<outDir>/artifacts/<exp>/v<N>) stays the source of
// truth: a row is written only after the version's metadata.json is committed, holds what
// summarizeVersion reads from the files, and `reconcile` (run before every query) repairs the
// rows a crash can leave stale: a version with no row, a row whose folder is gone, and rows
// still "running" (re-read each time; a resume marks its row running before touching files). better-sqlite3 is loaded on first use,
// so a run that records nothing never pays for the native module.
import { readdirSync, statSync } from "node:fs";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { RegistryError } from "../../errors.js";
import { summarizeVersion, type RunRecord } from "./summary.js";

export const REGISTRY_FILE = "registry.sqlite";
/** Bumped when the tables change; an older file is rebuilt from the file store. */
export const REGISTRY_SCHEMA = 3;

type Db = BetterSqlite3.Database;

let driver: typeof BetterSqlite3 | undefined;
function loadDriver(): typeof BetterSqlite3 {
  if (driver === undefined) {
    try {
      driver = createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
    } catch (e) {
      throw new RegistryError(`The run registry needs the better-sqlite3 package, which could not be loaded: ${(e as Error).message}`, e);
    }
  }
  return driver;
}

/** A row of `runs`: the record's scalar fields (the full record is `get`). */
export interface RunRow {
  readonly experiment: string;
  readonly version: number;
  readonly runId: string;
  readonly status: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly gitCommit: string | null;
  readonly gitDirty: boolean | null;
  readonly command: string | null;
  readonly seed: number;
  readonly replicates: number;
  readonly conditions: number;
  readonly cacheHits: number;
  readonly stepExecutions: number;
  readonly errors: number;
  readonly dir: string;
}

export interface RunFilter {
  readonly experiment?: string;
  readonly status?: string;
  /** ISO time: runs started at or after it. */
  readonly since?: string;
}

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS runs (
  experiment TEXT NOT NULL, version INTEGER NOT NULL, run_id TEXT NOT NULL, status TEXT NOT NULL,
  started_at TEXT NOT NULL, ended_at TEXT, duration_ms REAL, git_commit TEXT, git_dirty INTEGER,
  command TEXT, seed INTEGER NOT NULL, replicates INTEGER NOT NULL, conditions INTEGER NOT NULL,
  cache_hits INTEGER NOT NULL, step_executions INTEGER NOT NULL, errors INTEGER NOT NULL,
  dir TEXT NOT NULL, meta_mtime REAL NOT NULL,
  PRIMARY KEY (experiment, version)
) WITHOUT ROWID;
-- Per experiment folder, its mtime when every version in it had a row (see reconcile).
CREATE TABLE IF NOT EXISTS folders (experiment TEXT PRIMARY KEY, mtime REAL NOT NULL) WITHOUT ROWID;
-- The whole record apart, so that listing runs scans narrow rows only.
CREATE TABLE IF NOT EXISTS records (
  experiment TEXT NOT NULL, version INTEGER NOT NULL, record TEXT NOT NULL,
  PRIMARY KEY (experiment, version)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE TABLE IF NOT EXISTS metrics (
  experiment TEXT NOT NULL, version INTEGER NOT NULL, condition TEXT NOT NULL, metric TEXT NOT NULL,
  n INTEGER NOT NULL, mean REAL, sd REAL, ci_low REAL, ci_high REAL,
  PRIMARY KEY (experiment, version, condition, metric)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hypotheses (
  experiment TEXT NOT NULL, version INTEGER NOT NULL, hypothesis TEXT NOT NULL, treatment TEXT NOT NULL,
  p_value REAL, significant INTEGER NOT NULL, effect_size REAL, ci_low REAL, ci_high REAL, rank INTEGER, error TEXT,
  PRIMARY KEY (experiment, version, hypothesis, treatment)
) WITHOUT ROWID;
`;

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export class Registry {
  private constructor(
    private readonly db: Db,
    /** The artifacts root reconcile scans. */
    readonly root: string,
    readonly file: string,
  ) {}

  /** Opens (creating) `<outDir>/registry.sqlite`; versions are looked for under `root` (default <outDir>/artifacts). */
  static open(outDir: string, root: string = join(outDir, "artifacts")): Registry {
    const Driver = loadDriver();
    const file = join(resolve(outDir), REGISTRY_FILE);
    let db: Db;
    try {
      mkdirSync(resolve(outDir), { recursive: true });
      db = new Driver(file, { timeout: 5000 });
      db.pragma("journal_mode = WAL");
      // An index rebuilt from the files on demand: no flush to disk is worth its cost here.
      db.pragma("synchronous = OFF");
      const version = db.pragma("user_version", { simple: true }) as number;
      if (version !== REGISTRY_SCHEMA) {
        db.exec("DROP TABLE IF EXISTS runs; DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS folders; DROP TABLE IF EXISTS metrics; DROP TABLE IF EXISTS hypotheses;");
        db.exec(SCHEMA_SQL);
        db.pragma(`user_version = ${REGISTRY_SCHEMA}`);
      }
    } catch (e) {
      throw new RegistryError(`Could not open the run registry ${file}: ${(e as Error).message}`, e);
    }
    return new Registry(db, resolve(root), file);
  }

  close(): void {
    this.db.close();
  }

  /** Writes (replaces) the rows of one version. */
  put(r: RunRecord): void {
    const db = this.db;
    const tx = db.transaction(() => {
      this.deleteRows(r.experiment, r.version);
      db.prepare(
        `INSERT INTO runs VALUES (@experiment, @version, @runId, @status, @startedAt, @endedAt, @durationMs, @gitCommit, @gitDirty,
         @command, @seed, @replicates, @conditions, @cacheHits, @stepExecutions, @errors, @dir, @metaMtime)`,
      ).run({
        experiment: r.experiment,
        version: r.version,
        runId: r.runId,
        status: r.status,
        startedAt: r.startedAt,
        endedAt: r.endedAt,
        durationMs: r.durationMs,
        gitCommit: r.git.commit,
        gitDirty: r.git.dirty === null ? null : r.git.dirty ? 1 : 0,
        command: r.command,
        seed: r.seed,
        replicates: r.replicates,
        conditions: r.conditions.length,
        cacheHits: r.cacheHits,
        stepExecutions: r.stepExecutions,
        errors: r.errors.length,
        dir: r.dir,
        metaMtime: r.metaMtimeMs,
      });
      db.prepare("INSERT INTO records VALUES (?, ?, ?)").run(
        r.experiment,
        r.version,
        JSON.stringify(r, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v)),
      );
      const m = db.prepare("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      for (const [c, byMetric] of Object.entries(r.metrics)) {
        for (const [name, s] of Object.entries(byMetric)) {
          m.run(r.experiment, r.version, c, name, s.n, finite(s.mean), finite(s.sd), finite(s.ci[0]), finite(s.ci[1]));
        }
      }
      const h = db.prepare("INSERT OR REPLACE INTO hypotheses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      for (const x of r.hypotheses) {
        h.run(r.experiment, r.version, x.hypothesis, x.treatment, x.pValue, x.significant ? 1 : 0, x.effectSize, x.ci?.[0] ?? null, x.ci?.[1] ?? null, x.rank, x.error ?? null);
      }
    });
    tx();
  }

  private deleteRows(experiment: string, version: number): void {
    for (const t of ["runs", "records", "metrics", "hypotheses"]) this.db.prepare(`DELETE FROM ${t} WHERE experiment = ? AND version = ?`).run(experiment, version);
  }

  remove(experiment: string, version: number): void {
    this.db.transaction(() => this.deleteRows(experiment, version))();
  }

  /** Summarises the stored version at `dir` and writes its rows; false when it has no readable metadata. */
  async index(dir: string): Promise<boolean> {
    const r = await summarizeVersion(dir);
    if (r === undefined) return false;
    this.put(r);
    return true;
  }

  /** Drops every row and indexes every version under the root again. */
  async reindex(): Promise<number> {
    this.db.exec("DELETE FROM runs; DELETE FROM records; DELETE FROM folders; DELETE FROM metrics; DELETE FROM hypotheses;");
    let n = 0;
    for (const dir of versionDirs(this.root)) if (await this.index(dir.path)) n++;
    // Fold the WAL back into the database: readers then skip a WAL as large as the registry.
    this.db.pragma("wal_checkpoint(TRUNCATE)");
    return n;
  }

  /**
   * Brings the rows in line with the file store: indexes versions without a row, drops rows of
   * versions gone from disk, re-reads every "running" row. Cheap enough to run before every
   * query: an experiment folder whose mtime is the one recorded when all its versions had rows
   * has gained or lost no version (creating or deleting v<N> changes it), so it is not listed
   * again; then one small read per running row. A finished row goes stale only when its version
   * is resumed, and the store marks it running first (markRunning).
   */
  async reconcile(): Promise<{ added: number; removed: number; refreshed: number }> {
    const db = this.db;
    let added = 0;
    let removed = 0;
    let refreshed = 0;
    const inRoot = "substr(dir, 1, ?) = ?";
    const rootArgs = [this.root.length, this.root] as const;
    const seen = new Map((db.prepare("SELECT experiment, mtime FROM folders").raw().all() as Array<[string, number]>).map(([e, m]) => [e, m] as const));
    let experiments: string[] = [];
    try {
      experiments = readdirSync(this.root);
    } catch {
      // No root yet: every row under it is gone.
    }
    const present = new Set(experiments);
    for (const [experiment] of db.prepare(`SELECT DISTINCT experiment FROM runs WHERE ${inRoot}`).raw().all(...rootArgs) as Array<[string]>) {
      if (present.has(experiment)) continue;
      for (const [version] of db.prepare(`SELECT version FROM runs WHERE experiment = ? AND ${inRoot}`).raw().all(experiment, ...rootArgs) as Array<[number]>) {
        this.remove(experiment, version);
        removed++;
      }
      db.prepare("DELETE FROM folders WHERE experiment = ?").run(experiment);
    }
    for (const experiment of experiments) {
      const folder = join(this.root, experiment);
      // Stat before listing: a version made in between changes the mtime again.
      const mtime = mtimeOf(folder);
      if (mtime === undefined || seen.get(experiment) === mtime) continue;
      const onDisk = new Map<number, string>();
      let names: string[] = [];
      try {
        names = readdirSync(folder);
      } catch {
        continue;
      }
      for (const name of names) {
        const m = VERSION.exec(name);
        if (m) onDisk.set(Number(m[1]), join(folder, name));
      }
      const rows = new Set((db.prepare(`SELECT version FROM runs WHERE experiment = ? AND ${inRoot}`).raw().all(experiment, ...rootArgs) as Array<[number]>).map(([v]) => v));
      for (const v of rows) {
        if (!onDisk.has(v)) (this.remove(experiment, v), removed++);
      }
      let complete = true;
      for (const [v, path] of onDisk) {
        if (rows.has(v)) continue;
        if (await this.index(path)) added++;
        else complete = false; // no metadata.json yet: look again next time
      }
      if (complete) db.prepare("INSERT OR REPLACE INTO folders VALUES (?, ?)").run(experiment, mtime);
      else db.prepare("DELETE FROM folders WHERE experiment = ?").run(experiment);
    }
    // Running rows are re-read; rows of versions under another root are checked one by one.
    const others = db.prepare(`SELECT experiment, version, status, dir FROM runs WHERE status = 'running' OR NOT (${inRoot})`).raw().all(...rootArgs) as Array<
      [string, number, string, string]
    >;
    for (const [experiment, version, status, dir] of others) {
      if (mtimeOf(join(dir, "metadata.json")) === undefined) {
        this.remove(experiment, version);
        removed++;
      } else if (status === "running") {
        if (await this.index(dir)) refreshed++;
        else (this.remove(experiment, version), removed++);
      }
    }
    return { added, removed, refreshed };
  }

  /** Marks a version's row running (a resume is about to rewrite its files). */
  setRunning(experiment: string, version: number): void {
    this.db.prepare("UPDATE runs SET status = 'running' WHERE experiment = ? AND version = ?").run(experiment, version);
  }

  list(filter: RunFilter = {}): RunRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.experiment !== undefined) (where.push("experiment = ?"), args.push(filter.experiment));
    if (filter.status !== undefined) (where.push("status = ?"), args.push(filter.status));
    if (filter.since !== undefined) (where.push("started_at >= ?"), args.push(filter.since));
    const sql = `SELECT experiment, version, run_id AS runId, status, started_at AS startedAt, ended_at AS endedAt, duration_ms AS durationMs,
      git_commit AS gitCommit, git_dirty AS gitDirty, command, seed, replicates, conditions, cache_hits AS cacheHits,
      step_executions AS stepExecutions, errors, dir FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY started_at, experiment, version`;
    // Arrays, not objects, from SQLite: one object per row is built here, once.
    const rows = this.db.prepare(sql).raw().all(...args) as unknown[][];
    const out: RunRow[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      out[i] = {
        experiment: r[0] as string,
        version: r[1] as number,
        runId: r[2] as string,
        status: r[3] as string,
        startedAt: r[4] as string,
        endedAt: r[5] as string | null,
        durationMs: r[6] as number | null,
        gitCommit: r[7] as string | null,
        gitDirty: r[8] === null ? null : r[8] === 1,
        command: r[9] as string | null,
        seed: r[10] as number,
        replicates: r[11] as number,
        conditions: r[12] as number,
        cacheHits: r[13] as number,
        stepExecutions: r[14] as number,
        errors: r[15] as number,
        dir: r[16] as string,
      };
    }
    return out;
  }

  /** The full record of one version; `version` omitted: the latest. */
  get(experiment: string, version?: number): RunRecord | undefined {
    const row = (
      version === undefined
        ? this.db.prepare("SELECT record FROM records WHERE experiment = ? ORDER BY version DESC LIMIT 1").get(experiment)
        : this.db.prepare("SELECT record FROM records WHERE experiment = ? AND version = ?").get(experiment, version)
    ) as { record: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.record) as RunRecord);
  }

  /** Runs `sql` against the registry (read-only statements; for tests and ad-hoc queries). */
  query(sql: string, ...args: unknown[]): unknown[] {
    return this.db.prepare(sql).all(...args);
  }
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

const VERSION = /^v(0|[1-9]\d*)$/;

/** Every version folder under an artifacts root. */
export function versionDirs(root: string): Array<{ experiment: string; version: number; path: string }> {
  const out: Array<{ experiment: string; version: number; path: string }> = [];
  let experiments: string[];
  try {
    experiments = readdirSync(root);
  } catch {
    return out;
  }
  for (const experiment of experiments) {
    let names: string[];
    try {
      names = readdirSync(join(root, experiment));
    } catch {
      continue;
    }
    for (const name of names) {
      const m = VERSION.exec(name);
      if (m) out.push({ experiment, version: Number(m[1]), path: join(root, experiment, name) });
    }
  }
  return out;
}

/**
 * Records the version at `dir` in the registry of `outDir`; called by the run store after the
 * version's files are committed. Never throws: a registry that cannot be written is repaired by
 * the next reconcile (the files are the truth), so the run only gets a warning.
 */
export async function recordVersion(
  outDir: string,
  root: string,
  dir: string,
  log?: { warn(message: string): void },
  /** The record, when the caller built it from what it wrote; else it is read from the files. */
  record?: RunRecord,
): Promise<void> {
  const key = `${resolve(outDir)}\u0000${resolve(root)}`;
  try {
    // One connection per registry for the process's lifetime: opening costs more than a write,
    // and closing the last connection checkpoints the WAL. SQLite recovers the WAL on next open.
    const registry = writer(outDir, root);
    if (record !== undefined) registry.put(record);
    else await registry.index(dir);
  } catch (e) {
    writers.get(key)?.close();
    writers.delete(key);
    log?.warn(`The run registry was not updated for ${dir} (${(e as Error).message}); \`crystallize runs\` will index it from the files.`);
  }
}

const writers = new Map<string, Registry>();

function writer(outDir: string, root: string): Registry {
  const key = `${resolve(outDir)}\u0000${resolve(root)}`;
  let registry = writers.get(key);
  if (registry === undefined) writers.set(key, (registry = Registry.open(outDir, root)));
  return registry;
}

/** Called by the run store before a resumed version's files change; never throws. */
export function markRunning(outDir: string, root: string, experiment: string, version: number, log?: { warn(message: string): void }): void {
  try {
    writer(outDir, root).setRunning(experiment, version);
  } catch (e) {
    log?.warn(`The run registry could not mark ${experiment}@v${version} running (${(e as Error).message}).`);
  }
}
