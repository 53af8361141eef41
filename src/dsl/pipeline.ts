// An ordered list of steps. Adjacent input/output types are checked by `tsc` (see CheckChain).
import { ValidationError } from "../errors.js";
import type { AnyStep } from "./step.js";
import type { CheckChain, Last, MergedParams, StepInput, StepMetrics, StepOutput } from "./checks.js";

export interface Pipeline<In, Out, P extends object = {}, M extends string = never> {
  readonly kind: "pipeline";
  readonly steps: readonly AnyStep[];
  /** Phantom members: carry the types for inference; never set at run time. */
  readonly __in?: (data: In) => void;
  readonly __out?: () => Out;
  readonly __params?: () => P;
  readonly __metrics?: () => M;
}

export type AnyPipeline = Pipeline<never, unknown, object, string>;

export function pipeline<const S extends readonly AnyStep[]>(
  ...steps: CheckChain<S>
): Pipeline<StepInput<S[0]>, StepOutput<Last<S>>, MergedParams<S>, StepMetrics<S[number]>>;
export function pipeline(...steps: readonly unknown[]): AnyPipeline {
  const problems: string[] = [];
  if (steps.length === 0) problems.push("a pipeline needs at least one step");
  steps.forEach((s, i) => {
    if ((s as { kind?: unknown } | null)?.kind !== "step") {
      problems.push(`argument ${i + 1} is not a step (create steps with step(name, run))`);
    }
  });
  if (problems.length) throw new ValidationError("pipeline()", problems);
  return Object.freeze({ kind: "pipeline", steps: Object.freeze([...(steps as AnyStep[])]) });
}
