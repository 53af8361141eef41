// Production mode: one pass with exactly one replicate's semantics (same seeding, params
// resolution, caching, per-replicate and per-step hooks, async steps awaited, errors wrapped),
// resolving to the pipeline's final output. Run-level hooks and storage are not involved.
import type { AnyExperiment } from "../dsl/experiment.js";
import type { ApplyOptions } from "../dsl/run-options.js";
import { CancelledError, ValidationError } from "../errors.js";
import { prepareRun, type RuntimeDefaults } from "./experiment-runner.js";
import { Resources } from "./resources.js";
import { runTask } from "./task-runner.js";

export async function applyExperiment(
  exp: AnyExperiment,
  data: unknown,
  hasData: boolean,
  options: ApplyOptions,
  defaults: RuntimeDefaults,
): Promise<unknown> {
  const condition = options.treatment ?? "baseline";
  const replicate = options.replicate ?? 0;
  if (condition !== "baseline" && !exp.treatments.some((t) => t.name === condition)) {
    throw new ValidationError(`apply() of "${exp.name}"`, [
      `treatment "${condition}" is not a treatment of this experiment (treatments: ${exp.treatments.map((t) => t.name).join(", ") || "none"})`,
    ]);
  }
  if (!hasData && !exp.source) {
    throw new ValidationError(`apply() of "${exp.name}"`, ["the experiment has no source, so apply() needs data: apply(data)"]);
  }
  if (!Number.isInteger(replicate) || replicate < 0) {
    throw new ValidationError(`apply() of "${exp.name}"`, [`replicate must be a non-negative integer, got ${replicate}`]);
  }
  const { plan, logger } = prepareRun(
    exp,
    {
      replicates: replicate + 1,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      treatments: condition === "baseline" ? [] : [condition],
      ...(options.cache === undefined ? {} : { cache: options.cache }),
      ...(options.outDir === undefined ? {} : { outDir: options.outDir }),
      ...(options.stepHashes === undefined ? {} : { stepHashes: options.stepHashes }),
    },
    defaults,
  );
  const resources = new Resources();
  const signal = options.signal ?? new AbortController().signal;
  try {
    const { outcome, output, error } = await runTask(
      { plan, signal, log: logger, resources },
      { condition, replicate },
      hasData ? { value: data } : undefined,
    );
    if (outcome.status === "failed") {
      if (outcome.error?.code === "E_CANCELLED") throw new CancelledError(`apply() of "${exp.name}" was cancelled.`);
      throw error;
    }
    return output;
  } finally {
    await resources.close();
  }
}
