// Shared by the cache-soundness (3xxx) and portability (4xxx) rules: the steps of all discovered
// experiments, each once, and the impurities of one kind their code has, grouped by the node
// where they occur (one diagnostic per place, naming every step that reaches it).
import type ts from "typescript";
import { knownSteps, type StepInfo } from "../discover.js";
import type { ImpurityKind } from "../hash.js";
import type { Rule, RuleContext } from "./rule.js";

export function uniqueSteps(ctx: RuleContext, keep: (step: StepInfo) => boolean = () => true): StepInfo[] {
  const seen = new Set<ts.Node>();
  const out: StepInfo[] = [];
  const experiments = [
    ...ctx.discovery.experiments.map((e) => e.info),
    ...ctx.discovery.unexported.flatMap((u) => (u.kind === "experiment" ? [u] : [])),
  ];
  for (const e of experiments) {
    for (const s of knownSteps(e)) {
      if (keep(s) && !seen.has(s.node)) {
        seen.add(s.node);
        out.push(s);
      }
    }
  }
  return out;
}

export function impuritiesByNode(
  ctx: RuleContext,
  steps: readonly StepInfo[],
  kind: ImpurityKind,
): Map<ts.Node, { detail: string; steps: string[] }> {
  const byNode = new Map<ts.Node, { detail: string; steps: string[] }>();
  for (const s of steps) {
    for (const imp of ctx.hasher.hashStep(s)?.impurities ?? []) {
      if (imp.kind !== kind) continue;
      const entry = byNode.get(imp.node) ?? { detail: imp.detail, steps: [] };
      const label = s.name ?? "?";
      if (!entry.steps.includes(label)) entry.steps.push(label);
      byNode.set(imp.node, entry);
    }
  }
  return byNode;
}

export interface ImpurityRuleSpec {
  readonly code: string;
  readonly name: string;
  readonly kind: ImpurityKind;
  readonly summary: string;
  readonly fix: string;
  /** Which steps the rule looks at (default: all). */
  readonly steps?: (step: StepInfo) => boolean;
  /** The message's opening, naming the steps and what they do with `detail`. */
  readonly describe: (steps: readonly string[], detail: string) => string;
  /** Why it matters, after the opening. */
  readonly why: string;
}

/** A warning at each place where the selected steps' code has an impurity of one kind. */
export function impurityRule(spec: ImpurityRuleSpec): Rule {
  return {
    code: spec.code,
    name: spec.name,
    severity: "warning",
    summary: spec.summary,
    fix: spec.fix,
    check(ctx, report) {
      for (const [node, { detail, steps }] of impuritiesByNode(ctx, uniqueSteps(ctx, spec.steps), spec.kind)) {
        report(node, `${spec.describe(steps, detail)}, ${spec.why}; ${spec.fix.charAt(0).toLowerCase()}${spec.fix.slice(1)}`);
      }
    },
  };
}
