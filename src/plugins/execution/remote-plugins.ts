// Shared by the strategies whose tasks run in another thread or process (parallel(), queue()):
// per-replicate hooks run where the task runs, which can only reach plugins its import of the
// module creates (the experiment's own). A plugin passed in run options (or a built-in) with such
// hooks would silently not run, so it is refused before any work.
import type { ExecutionJob, Plugin } from "../../dsl/plugin.js";
import { ValidationError } from "../../errors.js";

const PER_REPLICATE_HOOKS = ["beforeReplicate", "beforeStep", "afterStep", "afterReplicate"] as const;

export interface RemoteRunner {
  /** The run's kind, as in `parallel run of "demo"`. */
  readonly strategy: string;
  /** Where the hooks would run, as in `which run in the worker threads`. */
  readonly where: string;
  /** Added to the fix after the plugins listing. */
  readonly why?: string;
}

export function checkRemotePlugins(job: ExecutionJob, runner: RemoteRunner): void {
  const plugins: readonly Plugin[] = job.plugins ?? [];
  const own = new Set<unknown>(job.experiment.plugins);
  const problems: string[] = [];
  for (const p of plugins) {
    if (own.has(p)) continue;
    const hooks = PER_REPLICATE_HOOKS.filter((h) => typeof p[h] === "function");
    if (hooks.length) {
      problems.push(
        `plugin "${p.name}" has per-replicate hooks (${hooks.join(", ")}), which run in ${runner.where}, but it was not listed in the experiment's plugins; ` +
          `list it in experiment("${job.experiment.name}", { plugins: [...] })${runner.why ?? ""}, or use serial() or concurrent({ limit })`,
      );
    }
  }
  if (problems.length) throw new ValidationError(`${runner.strategy} run of "${job.experiment.name}"`, problems);
}
