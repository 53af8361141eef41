// artifacts({ root?, versioned? = true, resume? }): persists what a run produces.
// Each run gets a version folder under <root>/<experiment>/ (root defaults to <outDir>/artifacts,
// i.e. ".crystallize/artifacts"); each finished task's artifacts are written there, followed by
// its line in the version's task journal (tasks.jsonl); at the end, per-condition results.json
// and the version's metadata.json. With resume, the latest version is continued: completed tasks
// are not run again. See src/runtime/storage/run-store.ts for the layout, docs/caching.md for
// what `fsync` buys.
import { join } from "node:path";
import type { Plugin } from "../dsl/plugin.js";
import type { RunInfo } from "../runtime/records.js";
import type { RunStorage, StoragePlugin } from "../runtime/services.js";
import { openRunStore } from "../runtime/storage/run-store.js";

export interface ArtifactsOptions {
  /** Where versions are kept; default `<outDir>/artifacts` (".crystallize/artifacts"). */
  readonly root?: string;
  /** A new version per run (default true). false: always v0, cleared at the start of a run. */
  readonly versioned?: boolean;
  /** Continue the latest version (as the run option `resume: true` does). */
  readonly resume?: boolean;
  /**
   * Per-task durability against power loss (default false). false: nothing is flushed to disk
   * during the run, and the journal and metadata.json are right after it ends, in the background
   * (run() does not wait for the disk; a normal exit does); a killed process still
   * loses nothing, since every file is renamed into place whole and every journal line is handed
   * to the kernel whole. true: every artifact file and every task's journal line is flushed to
   * disk before the task counts as stored (tasks finishing together share one flush), so a power
   * failure loses at most the tasks still running. Costs a disk flush per task.
   */
  readonly fsync?: boolean;
  /** Record each version in the run registry, <outDir>/registry.sqlite (default true; see docs/runs.md). */
  readonly registry?: boolean;
  /** Where warnings go (a resume that cannot continue a version, a damaged journal line or artifact). Default: stderr. */
  readonly log?: { warn(message: string): void };
}

export interface ArtifactsPlugin extends Plugin, StoragePlugin {
  readonly name: "artifacts";
  readonly options: Readonly<ArtifactsOptions>;
}

const stderrLog = { warn: (m: string) => void process.stderr.write(`warn ${m}\n`) };

export function artifacts(options: ArtifactsOptions = {}): ArtifactsPlugin {
  const frozen = Object.freeze({ ...options });
  return Object.freeze({
    name: "artifacts" as const,
    options: frozen,
    openStorage(run: RunInfo): Promise<RunStorage> {
      return openRunStore(run, {
        root: frozen.root ?? join(run.outDir, "artifacts"),
        outDir: run.outDir,
        versioned: frozen.versioned ?? true,
        resume: run.resume || frozen.resume === true,
        log: frozen.log ?? stderrLog,
        ...(frozen.fsync === undefined ? {} : { fsync: frozen.fsync }),
        ...(frozen.registry === undefined ? {} : { registry: frozen.registry }),
      });
    },
  });
}
