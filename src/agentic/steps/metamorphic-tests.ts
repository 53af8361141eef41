// metamorphicTests(options?): runs every property of the spec against the synthesized code.
// fast-check generates the transformed inputs; each one runs in the sandbox with the same guest
// seed as executeSandboxed; the output is compared with the original output under the property's
// relation. Records `${name}_pass` (1 or 0) for each declared property and keeps the details
// (cases, counterexamples) in the context (agentic.metamorphic).
//
// Declared names (`properties: [...]`, or the names of a `spec` written in code) are checked when
// the experiment is written: hypotheses on them type-check, a declared name the spec lacks counts
// as failed, and a spec property that is not declared still runs but is not a metric. With no
// names declared (`metamorphicTests()`), the step records `${name}_pass` for every property of the
// spec the context holds (as generateSpec() left it): its metrics are then `${string}_pass`.
import { ValidationError } from "../../errors.js";
import { step, type Step } from "../../dsl/step.js";
import { checkProperty, type PropertyResult } from "../metamorphic/property.js";
import { resolveTransform, type MetamorphicTransform } from "../metamorphic/transforms.js";
import type { Sandbox } from "../sandbox/host.js";
import { spec as makeSpec, type Spec, type SpecOptions } from "../schema.js";
import { AGENTIC_KEYS, AGENTIC_STEPS, type CodeRecord, type ExecutionRecord, type MetamorphicRecord } from "./records.js";
import { writeEvidenceIfLast } from "../provenance/trace.js";
import { agenticSandboxes } from "./sandboxes.js";

export interface MetamorphicTestsOptions<N extends string> {
  /** The property names to record as `${name}_pass` metrics. */
  readonly properties?: readonly N[];
  /** A spec to take the properties from when the context has none (and to declare its names). */
  readonly spec?: Spec<N> | SpecOptions<N>;
  /** Generated cases per property. Default 100. */
  readonly numRuns?: number;
  /** fast-check seed. Default: drawn from the step's random stream (deterministic per replicate). */
  readonly seed?: number;
  /** Custom transforms by name (in addition to the registered ones). */
  readonly transforms?: readonly MetamorphicTransform<never>[];
  /** Use this sandbox instead of the run's shared pool. */
  readonly sandbox?: Sandbox;
}

export const METAMORPHIC_TESTS = AGENTIC_STEPS.metamorphicTests;

/** The metrics of metamorphicTests(): `${name}_pass` per declared name, or any `${string}_pass` when none is declared. */
export type MetamorphicMetrics<N extends string> = [N] extends [never] ? `${string}_pass` : `${N}_pass`;

export function metamorphicTests<T = any, const N extends string = never>(
  options: MetamorphicTestsOptions<N> = {},
): Step<T, T, {}, MetamorphicMetrics<N>> {
  const givenSpec = options.spec === undefined ? undefined : makeSpec(options.spec);
  const declared = [...new Set<string>([...(options.properties ?? []), ...(givenSpec?.properties.map((p) => p.name) ?? [])])];
  const problems: string[] = [];
  for (const name of declared) if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) problems.push(`property name ${JSON.stringify(name)} is not letters, digits and "_"`);
  const numRuns = options.numRuns ?? 100;
  if (!Number.isInteger(numRuns) || numRuns < 1) problems.push("numRuns must be an integer >= 1");
  if (problems.length) throw new ValidationError(METAMORPHIC_TESTS, problems);
  type M = MetamorphicMetrics<N>;
  const metricNames = declared.map((n) => `${n}_pass` as M);
  // Nothing declared: the spec in the context decides which `${name}_pass` metrics are recorded.
  const open = declared.length === 0;

  const made = step<T, T, {}, M>(METAMORPHIC_TESTS, { metrics: metricNames }, async (data, ctx) => {
    const spec = ctx.get<Spec>(AGENTIC_KEYS.spec) ?? givenSpec;
    if (!spec) throw new ValidationError(METAMORPHIC_TESTS, ["there is no spec: put generateSpec() before metamorphicTests() or pass { spec }"]);
    const code = ctx.get<CodeRecord>(AGENTIC_KEYS.code);
    const execution = ctx.get<ExecutionRecord>(AGENTIC_KEYS.execution);
    if (!code || !execution?.ok) {
      throw new ValidationError(METAMORPHIC_TESTS, ["there is no successful execution to compare with: put executeSandboxed() before metamorphicTests()"]);
    }
    const sandbox =
      options.sandbox ??
      ctx.use(agenticSandboxes).get(spec.allowedImports, {
        timeoutMs: execution.limits.timeoutMs,
        memoryMb: execution.limits.memoryMb,
        maxOutputBytes: execution.limits.maxOutputBytes,
      });
    const seed = options.seed ?? Math.floor(ctx.random() * 0x7fffffff);
    const execute = async (input: unknown): Promise<unknown> =>
      (await sandbox.run(code.source, input, { seed: execution.seed, entry: execution.entry })).value;

    const results: PropertyResult[] = [];
    for (const property of spec.properties) {
      const transform = resolveTransform(property.transform, options.transforms ?? []);
      results.push(
        await checkProperty({ property, transform, input: data, baseOutput: execution.value, execute, numRuns, seed }),
      );
    }
    const ran = new Set(results.map((r) => r.name));
    const recorded = open ? results.map((r) => r.name) : declared;
    const missing = recorded.filter((n) => !ran.has(n));
    const undeclared = results.map((r) => r.name).filter((n) => !recorded.includes(n));
    if (open && results.length === 0) ctx.log.warn("metamorphicTests: the spec has no properties, so no metric was recorded");
    if (undeclared.length) {
      ctx.log.warn(
        `metamorphicTests: ${undeclared.join(", ")} ran but are not declared, so no metric was recorded; list them in metamorphicTests({ properties })`,
      );
    }
    for (const name of recorded) {
      const r = results.find((x) => x.name === name);
      ctx.record(`${name}_pass` as M, r?.passed ? 1 : 0);
    }
    const record: MetamorphicRecord = {
      passed: missing.length === 0 && results.every((r) => r.passed),
      results,
      missing,
      undeclared,
      numRuns,
      seed,
    };
    ctx.add(AGENTIC_KEYS.metamorphic, record);
    writeEvidenceIfLast(ctx, METAMORPHIC_TESTS);
    return data;
  });
  return open ? Object.freeze({ ...made, metricSuffixes: Object.freeze(["_pass"]) }) : made;
}
