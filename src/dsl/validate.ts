// Definition checks that the types cannot make for plain-JavaScript users (or code that escaped
// the types through `any`). Pure: no I/O. Returns every problem, not just the first.
import { nonJsonReason } from "./json.js";
import { nameProblem } from "./names.js";
import type { AnyHypothesis } from "./hypothesis.js";
import { declaresMetric, type AnyStep } from "./step.js";
import type { AnyTreatment } from "./treatment.js";

export interface DefinitionParts {
  readonly name: unknown;
  readonly source?: unknown;
  readonly steps: readonly AnyStep[];
  readonly treatments: readonly AnyTreatment[];
  readonly hypotheses: readonly AnyHypothesis[];
  readonly replicates: unknown;
  readonly seed: unknown;
  readonly plugins: readonly unknown[];
}

export function replicatesProblem(value: unknown, where = "replicates"): string | undefined {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    return `${where} must be a positive integer, got ${typeof value === "number" ? value : JSON.stringify(value) ?? String(value)}`;
  }
  return undefined;
}

export function seedProblem(value: unknown, where = "seed"): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    return `${where} must be an integer from 0 to 4294967295, got ${JSON.stringify(value) ?? String(value)}`;
  }
  return undefined;
}

export function definitionProblems(def: DefinitionParts): string[] {
  const problems: string[] = [];
  const bad = nameProblem("experiment", def.name);
  if (bad) problems.push(bad);
  if (def.source !== undefined && (def.source as { kind?: unknown })?.kind !== "source") {
    problems.push("source must be a source (create it with source(name, fetch)) or input({...})");
  }

  const stepNames = new Set<string>();
  const declaredParams = new Map<string, unknown>();
  const declaredMetrics = new Set<string>();
  for (const s of def.steps) {
    if (stepNames.has(s.name)) {
      problems.push(`step name "${s.name}" is used twice in the pipeline; give each step its own name (names key provenance, random streams and artifact folders)`);
    }
    stepNames.add(s.name);
    for (const [k, v] of Object.entries(s.params)) if (!declaredParams.has(k)) declaredParams.set(k, v);
    for (const m of s.metrics) declaredMetrics.add(m);
  }

  const treatmentNames = new Set<string>();
  for (const t of def.treatments) {
    if ((t as { kind?: unknown })?.kind !== "treatment") {
      problems.push(`treatments must be created with treatment(name, values), got ${JSON.stringify(t)}`);
      continue;
    }
    if (t.name === "baseline") problems.push(`a treatment is named "baseline", which is reserved for the untreated condition`);
    const nb = nameProblem("treatment", t.name);
    if (nb) problems.push(nb);
    if (treatmentNames.has(t.name)) problems.push(`treatment name "${t.name}" is used twice; treatment names must be unique`);
    treatmentNames.add(t.name);
    if (t.values) {
      for (const [k, v] of Object.entries(t.values)) {
        if (!declaredParams.has(k)) {
          const known = [...declaredParams.keys()];
          problems.push(`treatment "${t.name}" sets "${k}", which no step declares as a param (declared: ${known.length ? known.join(", ") : "none"})`);
        } else {
          const why = nonJsonReason(v, `treatment "${t.name}" value ${k}`);
          if (why) problems.push(why);
          const def0 = declaredParams.get(k);
          if (def0 !== null && v !== null && typeof def0 !== typeof v) {
            problems.push(`treatment "${t.name}" sets "${k}" to a ${typeof v}, but the step's default is a ${typeof def0}`);
          }
        }
      }
    }
  }

  const hypothesisNames = new Set<string>();
  for (const h of def.hypotheses) {
    if ((h as { kind?: unknown })?.kind !== "hypothesis") {
      problems.push("hypotheses must be created with hypothesis(name, { metric, test })");
      continue;
    }
    if (hypothesisNames.has(h.name)) problems.push(`hypothesis name "${h.name}" is used twice`);
    hypothesisNames.add(h.name);
    for (const m of h.metrics) {
      if (!declaredMetrics.has(m) && !def.steps.some((s) => declaresMetric(s, m))) {
        const known = [...declaredMetrics];
        problems.push(`hypothesis "${h.name}" tests metric "${m}", which no step declares (declared: ${known.length ? known.join(", ") : "none"})`);
      }
    }
  }

  const rp = replicatesProblem(def.replicates);
  if (rp) problems.push(rp);
  const sp = seedProblem(def.seed);
  if (sp) problems.push(sp);

  const pluginNames = new Set<string>();
  for (const p of def.plugins) {
    const name = (p as { name?: unknown } | null)?.name;
    if (typeof name !== "string" || name === "") {
      problems.push("every plugin must be an object with a non-empty name");
      continue;
    }
    if (pluginNames.has(name)) problems.push(`plugin "${name}" is attached twice`);
    pluginNames.add(name);
  }
  const strategies = def.plugins.filter((p) => (p as { kind?: unknown } | null)?.kind === "execution");
  if (strategies.length > 1) problems.push("more than one execution strategy is attached; use exactly one of serial(), concurrent(), parallel()");
  return problems;
}
