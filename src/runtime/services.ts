// Seams between the experiment runner and the stores that persist what it produces.
// The runner depends only on these interfaces; the file cache and the artifacts plugin
// implement them.
import type { ArtifactRecord, RunInfo, TaskOutcome } from "../dsl/records.js";
export type { RunInfo } from "../dsl/records.js";

/** What identifies a cacheable step execution. The cache turns it into a key. */
export interface StepCacheRequest {
  readonly experiment: string;
  readonly step: string;
  /** Structural hash from the compiler's manifest, or the runtime fallback. */
  readonly stepHash: string;
  /** Resolved params (treatment values over defaults). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly input: unknown;
  /** The step's random-stream seed, when the step (may) use `ctx.random()`. */
  readonly randomSeed?: string;
}

/** What a cache hit replays: the output and everything the step recorded. */
export interface CachedStep {
  readonly output: unknown;
  /**
   * What the step read besides its input and params, each with the canonical hash of the value it
   * saw: ctx keys as "ctx:<key>", and "$condition" / "$replicate" / "$seed" when it read those
   * (the prefix keeps a user key named "$seed" apart from the task's seed). A hit is valid only while
   * they match the current task (the runner checks; a mismatch is a miss). Optional: entries
   * without it depend on the key alone.
   */
  readonly reads?: ReadonlyArray<readonly [string, string]>;
  /**
   * Set on an index entry (stored under the step's key when the step read its context): the sets
   * of names its runs read, latest first. Each entry proper is stored under `readsKey(key, reads)`,
   * so tasks that read different values keep different entries instead of overwriting one. Index
   * entries carry no output.
   */
  readonly readSets?: readonly (readonly string[])[];
  readonly metrics: ReadonlyArray<readonly [string, number]>;
  readonly wrote: ReadonlyArray<readonly [string, unknown]>;
  readonly artifacts: ReadonlyArray<{ readonly artifact: string; readonly codec: string; readonly bytes: Uint8Array }>;
}

export interface StepCache {
  /** Computes the key (and the input hash, for provenance). */
  key(request: StepCacheRequest): { key: string; inputHash: string };
  get(key: string): Promise<CachedStep | undefined>;
  set(key: string, entry: CachedStep): Promise<void>;
}

/** A run's persistent storage, opened by a storage plugin (the artifacts plugin). */
export interface RunStorage {
  /** The version directory number this run writes to. */
  readonly version: number;
  /**
   * Tasks already complete in this version (for resume; empty for a new version or when not
   * resuming). Their `artifacts` are empty (bytes stay on disk); `stored` lists where they are,
   * for result.artifacts.
   */
  completed(): Promise<readonly StoredTask[]>;
  /** Persists one finished task: its artifacts, then its completion marker (last). */
  saveTask(outcome: TaskOutcome): Promise<readonly ArtifactRecord[]>;
  /** Writes per-condition results and the version's metadata with the final status. */
  finish(summary: RunSummary): Promise<void>;
}

/** A completed task read back from storage. */
export interface StoredTask extends TaskOutcome {
  readonly stored: readonly ArtifactRecord[];
}

export interface RunSummary {
  readonly info: RunInfo;
  readonly status: "completed" | "failed" | "cancelled";
  readonly endedAt: string;
  /** The result's `toJSON()`. */
  readonly json: unknown;
}

/** A plugin that persists runs implements this besides the plain hooks. */
export interface StoragePlugin {
  openStorage(run: RunInfo): Promise<RunStorage>;
}

export function isStoragePlugin(value: unknown): value is StoragePlugin {
  return typeof (value as { openStorage?: unknown } | null)?.openStorage === "function";
}
