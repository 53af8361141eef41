// The rules module: every DSL rule with its stable code, run over one analysed program. The CLI
// (through compile) and an editor plugin (through checkProgram) share it.
import { diagnosticAt, type Diagnostic } from "../diagnostics.js";
import type { Rule, RuleContext } from "./rule.js";
import { wiringRules } from "./wiring.js";
import { graphRules } from "./graphs.js";
import { cacheRules } from "./cache.js";
import { portabilityRules } from "./portability.js";
import { errorMessage } from "../../errors.js";

export type { Rule, RuleContext, Report } from "./rule.js";
export { declaredParams, declaredMetrics } from "./wiring.js";
export { edgesOf, findCycle, graphMembers, inputLinks, type Edge, type InputLink } from "./graphs.js";

/** Every rule, in code order. */
export const rules: readonly Rule[] = [...wiringRules, ...graphRules, ...cacheRules, ...portabilityRules].sort((a, b) => a.code.localeCompare(b.code));

/** Project-level codes that are not rules over the program (they come from loading it). */
export const projectCodes = [
  { code: "CRY0001", severity: "error", summary: "The tsconfig does not exist.", fix: "Pass --project path/to/tsconfig.json, or create a project with `crystallize init`." },
  { code: "CRY0002", severity: "error", summary: "The tsconfig cannot be read.", fix: "Fix the JSON (the message names the problem)." },
  { code: "CRY0003", severity: "error", summary: "The project has no TypeScript files.", fix: "Check the tsconfig's include/files." },
  { code: "CRY0900", severity: "error", summary: "The compiler failed on this file (a bug in crystallize).", fix: "Please report it with the file; other files are still checked." },
  { code: "CRY4006", severity: "error", summary: "A runner could not be built by esbuild (an import that cannot be resolved).", fix: "Fix the import; runners bundle the project's code and keep packages external." },
  { code: "CRY4007", severity: "error", summary: "A bundle could not be built by esbuild.", fix: "Fix the import the message names; every package the experiment uses must be installed." },
] as const;

export function runRules(ctx: RuleContext, only?: readonly string[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rule of rules) {
    if (only && !only.includes(rule.code)) continue;
    try {
      rule.check(ctx, (node, message) => {
        const sf = node.getSourceFile();
        if (ctx.onlyFiles && !ctx.onlyFiles.has(sf.fileName)) return;
        out.push(diagnosticAt(node, rule.code, message, rule.severity, sf));
      });
    } catch (err) {
      out.push({
        file: undefined,
        line: 1,
        column: 1,
        code: "CRY0900",
        severity: "error",
        message: `internal error in rule ${rule.code} (${rule.name}): ${errorMessage(err)}; please report it`,
      });
    }
  }
  return out;
}
