// executeSandboxed(limits?): runs the synthesized code on the step's data in the sandbox, keeps
// the output in the context (agentic.execution) and records the declared metrics from it. The
// guest's Math.random is seeded with the replicate's seed, so a replicate runs the same way twice.
import { ValidationError } from "../../errors.js";
import { step, type Step } from "../../dsl/step.js";
import { BoundedExecutionError } from "../errors.js";
import type { Sandbox } from "../sandbox/host.js";
import type { Spec } from "../schema.js";
import { AGENTIC_KEYS, AGENTIC_STEPS, type CodeRecord, type ExecutionRecord } from "./records.js";
import { writeEvidenceIfLast } from "../provenance/trace.js";
import { agenticSandboxes, resolveLimits, type SandboxLimits } from "./sandboxes.js";

export interface ExecuteSandboxedOptions<M extends string> extends SandboxLimits {
  /** Output keys to record as metrics (finite numbers). A number output fits a single metric. */
  readonly metrics?: readonly M[];
  /** Use this sandbox instead of the run's shared pool (you close it). */
  readonly sandbox?: Sandbox;
}

export const EXECUTE_SANDBOXED = AGENTIC_STEPS.executeSandboxed;

export function executeSandboxed<T = any, const M extends string = never>(
  options: ExecuteSandboxedOptions<M> = {},
): Step<T, T, {}, M> {
  const metrics = [...(options.metrics ?? [])] as M[];
  const limits = resolveLimits(options);
  return step<T, T, {}, M>(EXECUTE_SANDBOXED, { metrics }, async (data, ctx) => {
    const code = ctx.get<CodeRecord>(AGENTIC_KEYS.code);
    if (!code) throw new ValidationError(EXECUTE_SANDBOXED, ["there is no code to run: put synthesize() before executeSandboxed()"]);
    const spec = ctx.get<Spec>(AGENTIC_KEYS.spec);
    const allowedImports = spec?.allowedImports ?? [];
    const entry = spec?.entry ?? "default";
    const sandbox = options.sandbox ?? ctx.use(agenticSandboxes).get(allowedImports, limits);
    const base = { codeHash: code.sha256, seed: ctx.seed, entry, limits: { ...limits, allowedImports: [...allowedImports] } };
    let value: unknown;
    try {
      const r = await sandbox.run(code.source, data, { seed: ctx.seed, entry });
      value = r.value;
      const record: ExecutionRecord = { ok: true, ...base, value, stdout: r.stdout, durationMs: r.durationMs };
      ctx.add(AGENTIC_KEYS.execution, record);
    } catch (e) {
      if (e instanceof BoundedExecutionError) {
        const record: ExecutionRecord = {
          ok: false,
          ...base,
          stdout: e.details.stdout ?? "",
          error: { reason: e.reason, message: e.message, ...(e.details.guestStack ? { guestStack: e.details.guestStack } : {}) },
        };
        ctx.add(AGENTIC_KEYS.execution, record);
      }
      throw e;
    }
    for (const m of metrics) {
      const v = typeof value === "number" && metrics.length === 1 ? value : (value as Record<string, unknown> | null)?.[m];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new ValidationError(EXECUTE_SANDBOXED, [`the code's output has no finite number "${m}" (it returned ${JSON.stringify(value)?.slice(0, 200)})`]);
      }
      ctx.record(m, v);
    }
    writeEvidenceIfLast(ctx, EXECUTE_SANDBOXED);
    return data;
  });
}
