// Plain-data records the runtime produces. Everything here is JSON-able (artifact bytes aside),
// so it can cross a worker boundary, be stored by resume, and be replayed from the cache.

/** `"baseline"` or a treatment name. */
export type Condition = string;

export interface TaskRef {
  readonly condition: Condition;
  readonly replicate: number;
}

/** One step's execution, as recorded in provenance. */
export interface ProvenanceRecord {
  readonly step: string;
  readonly stepHash: string;
  /** The resolved params the step saw (treatment values over defaults). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly cacheHit: boolean;
  /** Wall-clock duration; excluded from `toJSON()` (not determined by seed and code). */
  readonly durationMs: number;
  readonly inputHash?: string;
  readonly outputHash?: string;
  readonly ctx: { readonly reads: readonly string[]; readonly wrote: readonly string[] };
  /** Metrics recorded by this step, in recording order. */
  readonly metrics: Readonly<Record<string, readonly number[]>>;
}

/** An artifact value a step wrote, already encoded by its codec. */
export interface ArtifactWrite {
  readonly artifact: string;
  readonly step: string;
  readonly codec: string;
  readonly bytes: Uint8Array;
}

/** Where an artifact ended up, once a storage plugin persisted it. */
export interface ArtifactRecord {
  readonly artifact: string;
  readonly step: string;
  readonly condition: Condition;
  readonly replicate: number;
  readonly version: number;
  /** Path relative to the storage root (outDir), with forward slashes. */
  readonly path: string;
  readonly bytes: number;
}

export interface TaskError {
  readonly condition: Condition;
  readonly replicate: number;
  /** The failing step; absent when the source, a treatment function or a plugin hook failed. */
  readonly step?: string;
  /** Where the failure happened when not in a step: "source", "treatment" or "plugin:<name>"; "cache" when reading the step's cache entry failed. */
  readonly phase?: string;
  /** The stable code of the failure's own cause (e.g. "E_CONTEXT_MUTATION"); "E_STEP_FAILED" when the cause has none. */
  readonly code: string;
  /** The class name of the failure's own cause (e.g. "ContextMutationError", "TypeError"). */
  readonly name?: string;
  /** The wrapper's code when the cause was wrapped by its step ("E_STEP_FAILED") and has a code of its own. */
  readonly wrapperCode?: string;
  readonly message: string;
  readonly stack: string;
  /** E_CACHE_CORRUPT (phase "cache"): the corrupt entry. Such a failure stops the run (see run-fatal.ts). */
  readonly file?: string;
}

/** Everything one (condition, replicate) pair produced. */
export interface TaskOutcome extends TaskRef {
  readonly status: "ok" | "failed";
  readonly seed: number;
  readonly metrics: Readonly<Record<string, readonly number[]>>;
  readonly provenance: readonly ProvenanceRecord[];
  readonly artifacts: readonly ArtifactWrite[];
  readonly error?: TaskError;
}

/** Run-level facts handed to plugins and stores. */
export interface RunInfo {
  readonly id: string;
  readonly experiment: string;
  readonly seed: number;
  readonly replicates: number;
  /** Conditions in run order: "baseline" first, then treatments. */
  readonly conditions: readonly string[];
  readonly treatments: readonly string[];
  /** Storage root (default ".crystallize"). */
  readonly outDir: string;
  readonly resume: boolean;
  readonly startedAt: string;
  readonly stepHashes: Readonly<Record<string, string>>;
  readonly strategy: string;
}
