// concurrent({ limit }): up to `limit` tasks in flight on this thread, so async steps (I/O,
// network, LLM calls) interleave. Results are identical to serial(): seeds never depend on order.
import type { ExecutionJob, ExecutionStrategy } from "../../dsl/plugin.js";
import { ValidationError } from "../../errors.js";

export function concurrent(options: { limit: number }): ExecutionStrategy {
  const limit = options?.limit;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError("concurrent()", [`limit must be a positive integer, got ${JSON.stringify(limit)}`]);
  }
  return Object.freeze({
    kind: "execution" as const,
    name: `concurrent(${limit})`,
    async execute(job: ExecutionJob) {
      let next = 0;
      const lane = async () => {
        while (next < job.tasks.length && !job.signal.aborted) {
          const task = job.tasks[next++]!;
          await job.complete(await job.runTask(task));
        }
      };
      await Promise.all(Array.from({ length: Math.min(limit, job.tasks.length) }, lane));
    },
  });
}
