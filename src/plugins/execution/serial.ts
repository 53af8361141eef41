// serial(): one task at a time, in order (replicate, then condition). The default.
import type { ExecutionJob, ExecutionStrategy } from "../../dsl/plugin.js";

export function serial(): ExecutionStrategy {
  return Object.freeze({
    kind: "execution" as const,
    name: "serial",
    async execute(job: ExecutionJob) {
      for (const task of job.tasks) {
        if (job.signal.aborted) return;
        await job.complete(await job.runTask(task));
      }
    },
  });
}
