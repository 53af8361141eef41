// Indexed array jobs (Kubernetes indexed Jobs, AWS Batch array jobs, Slurm arrays): no queue and
// no Redis. Container i runs `node bundle.mjs --task-index i`, that is the tasks of replicate i
// with `arrayTask({ index: i })`, and writes their outcomes as shard files to a shared folder;
// then one `--collect` run (`collect()`) reads every shard and persists and reports the outcomes
// as if it had run them, so the result (and its toJSON) is the one serial() gives.
// Shards live under <dir>/<experiment>/<key>/, where the key hashes what decides the outcomes (the
// task settings and the experiment's shape), so runs with other seeds or replicates never mix.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ExecutionJob, ExecutionStrategy } from "../../dsl/plugin.js";
import type { TaskRef } from "../../dsl/records.js";
import { CrystallizeError, ValidationError } from "../../errors.js";
import { experimentShape } from "../../runtime/task-host.js";
import { decodeOutcome, encodeOutcome } from "./queue-protocol.js";

export interface ArrayTaskOptions {
  /** The replicate this container runs (e.g. $JOB_COMPLETION_INDEX or $AWS_BATCH_JOB_ARRAY_INDEX). */
  readonly index: number;
  /** The shared shard folder; default `<outDir>/shards`. */
  readonly dir?: string;
}

export interface CollectOptions {
  /** The shard folder the array tasks wrote to; default `<outDir>/shards`. */
  readonly dir?: string;
}

/** Runs the tasks of replicate `index` in this process and writes each outcome as a shard file. */
export function arrayTask(options: ArrayTaskOptions): ExecutionStrategy {
  const index = options?.index;
  if (!Number.isInteger(index) || index < 0) throw new ValidationError("arrayTask()", [`index must be an integer ≥ 0, got ${JSON.stringify(index)}`]);
  return Object.freeze({
    kind: "execution" as const,
    name: `arrayTask(${index})`,
    async execute(job: ExecutionJob) {
      if (index >= job.settings.replicates) {
        throw new CrystallizeError(
          `arrayTask(): index ${index} is out of range: experiment "${job.experiment.name}" runs ${job.settings.replicates} replicates (indexes 0–${job.settings.replicates - 1}); ` +
            `size the array job to the replicate count.`,
          { code: "E_ARRAY_INDEX" },
        );
      }
      const dir = shardDir(job, options.dir);
      mkdirSync(dir, { recursive: true });
      for (const task of job.tasks) {
        if (task.replicate !== index) continue;
        if (job.signal.aborted) return;
        const outcome = await job.runTask(task);
        // Atomic: a collector never reads half a shard.
        const file = shardFile(dir, task);
        writeFileSync(`${file}.${process.pid}.tmp`, encodeOutcome(outcome));
        renameSync(`${file}.${process.pid}.tmp`, file);
        // Counted and reported here too (the array task's own result holds its replicate only).
        await job.complete(outcome);
      }
    },
  });
}

/** Persists and reports the shards of every task, in run order; missing shards are an error naming them. */
export function collect(options: CollectOptions = {}): ExecutionStrategy {
  return Object.freeze({
    kind: "execution" as const,
    name: "collect",
    async execute(job: ExecutionJob) {
      const dir = shardDir(job, options.dir);
      const missing = job.tasks.filter((t) => !existsSync(shardFile(dir, t)));
      if (missing.length) {
        const replicates = [...new Set(missing.map((t) => t.replicate))].sort((a, b) => a - b);
        throw new CrystallizeError(
          `collect(): ${missing.length} of ${job.tasks.length} tasks have no shard in ${dir}: replicate${replicates.length > 1 ? "s" : ""} ${replicates.join(", ")} ` +
            `(run --task-index for ${replicates.length > 1 ? "them" : "it"} with the same options, then collect again).`,
          { code: "E_ARRAY_MISSING" },
        );
      }
      for (const task of job.tasks) {
        if (job.signal.aborted) return;
        await job.complete(decodeOutcome(readFileSync(shardFile(dir, task), "utf8")));
      }
    },
  });
}

/** The run's shard folder: the settings (bar storage paths) and the experiment's shape decide it. */
export function shardDir(job: Pick<ExecutionJob, "settings" | "experiment">, dir: string | undefined): string {
  const { outDir, cache, ...decisive } = job.settings;
  const key = createHash("sha256")
    .update(JSON.stringify({ settings: decisive, cache: cache !== false, shape: experimentShape(job.experiment) }))
    .digest("hex")
    .slice(0, 16);
  return join(resolve(dir ?? join(outDir, "shards")), safe(job.experiment.name), key);
}

function shardFile(dir: string, task: TaskRef): string {
  return join(dir, `${safe(task.condition)}.${task.replicate}.json`);
}

function safe(name: string): string {
  return encodeURIComponent(name).replace(/\./g, "%2E");
}
