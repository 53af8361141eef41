// CRY4xxx: portability. Workers import an experiment by (module URL, export name), and bundles
// inline everything statically reachable; both need experiments as exported top-level consts and
// step code without CommonJS globals or computed imports.
import type * as TS from "typescript";
import ts from "../typescript.js";
import type { ExperimentInfo, GraphInfo } from "../discover.js";
import type { ImpurityKind } from "../hash.js";
import type { Rule } from "./rule.js";
import { impurityRule } from "./step-impurities.js";

function insideFunction(node: TS.Node): boolean {
  for (let n = node.parent; n && !ts.isSourceFile(n); n = n.parent) {
    if (ts.isFunctionLike(n) || ts.isClassLike(n)) return true;
  }
  return false;
}

function holder(node: TS.Node): TS.VariableDeclaration | undefined {
  let n = node.parent;
  while (n && (ts.isParenthesizedExpression(n) || ts.isAsExpression(n) || ts.isSatisfiesExpression(n) || ts.isNonNullExpression(n))) n = n.parent;
  return n && ts.isVariableDeclaration(n) ? n : undefined;
}

// Every step; the message names the steps and what they use.
function stepImpurityRule(code: string, name: string, kind: ImpurityKind, summary: string, fix: string, why: string): Rule {
  return impurityRule({
    code,
    name,
    kind,
    summary,
    fix,
    why,
    describe: (steps, detail) => `step${steps.length > 1 ? "s" : ""} ${steps.map((s) => `"${s}"`).join(", ")} use${steps.length > 1 ? "" : "s"} ${detail}`,
  });
}

function label(c: ExperimentInfo | GraphInfo): string {
  return `${c.kind} ${c.name !== undefined ? `"${c.name}"` : ""}`.trim();
}

export const portabilityRules: Rule[] = [
  {
    code: "CRY4001",
    name: "experiment-not-exported",
    severity: "error",
    summary: "An experiment or graph is not an exported top-level const, so workers and runners cannot import it.",
    fix: "Declare it as `export const name = experiment(...)` at the top level of a module.",
    check(ctx, report) {
      for (const c of ctx.discovery.unexported) {
        if (insideFunction(c.node)) continue; // built by a factory: reported where it is exported (CRY4003)
        const v = holder(c.node);
        if (v && ts.isIdentifier(v.name) && v.parent.parent && ts.isVariableStatement(v.parent.parent) && ts.isSourceFile(v.parent.parent.parent)) {
          report(v.name, `${label(c)} is not exported, so workers and runners cannot import it; export it: \`export const ${v.name.text} = ...\``);
        } else {
          report(c.node, `${label(c)} is not an exported top-level const of its own, so workers and runners cannot import it by name; declare it as \`export const name = ...\` at the top level`);
        }
      }
    },
  },
  {
    code: "CRY4002",
    name: "experiment-exported-mutable",
    severity: "error",
    summary: "An experiment is exported as a let or var: workers could see another value than the runner.",
    fix: "Use `export const`.",
    check(ctx, report) {
      for (const { info, addresses } of [...ctx.discovery.experiments, ...ctx.discovery.graphs]) {
        for (const a of addresses) {
          const d = a.declaration;
          if (ts.isVariableDeclaration(d) && ts.isVariableDeclarationList(d.parent) && !(d.parent.flags & ts.NodeFlags.Const) && a.file === d.getSourceFile()) {
            report(d.name, `${label(info)} is exported as a ${d.parent.flags & ts.NodeFlags.Let ? "let" : "var"}, which can be reassigned, so a worker importing it could see another value; use \`export const\``);
          }
        }
      }
    },
  },
  {
    code: "CRY4003",
    name: "opaque-experiment",
    severity: "warning",
    summary: "An exported experiment is built in a way the compiler cannot follow (a factory call, a conditional).",
    fix: "Build it with experiment(...) or experiment.builder(...)...build() directly in the exported const.",
    check(ctx, report) {
      for (const o of ctx.discovery.opaque) {
        report(o.node, `export "${o.exportName}" is ${o.kind === "experiment" ? "an experiment" : "a graph"} the compiler cannot follow (it is not built by a direct ${o.kind}(...) call), so its steps are neither checked nor hashed; build it with ${o.kind === "experiment" ? "experiment(...) or experiment.builder(...)...build()" : "graph(...)"} in the exported const`);
      }
    },
  },
  stepImpurityRule(
    "CRY4004",
    "commonjs-global",
    "commonjs",
    "Step code uses a CommonJS global (require, __dirname, __filename, module, exports).",
    "Use import, import.meta.url or import.meta.dirname instead.",
    "which does not exist in ES modules, runners or bundles",
  ),
  stepImpurityRule(
    "CRY4005",
    "computed-import",
    "dynamic-import",
    "Step code calls import() with a computed specifier, which a bundle cannot include.",
    "Import the module statically, or with a string literal specifier.",
    "which a bundle cannot include",
  ),
];
