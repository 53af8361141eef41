// CRY1xxx: DSL wiring. The types catch most of these in typed code; these rules also catch code
// that escaped the types (through `any`, casts or plain JavaScript) before anything runs.
import type * as TS from "typescript";
import ts from "../typescript.js";
import { findNonJson, NonJson, UNKNOWN, type Static } from "../evaluate.js";
import { isProjectFile, knownSteps, type ExperimentInfo, type HypothesisInfo, type Named, type StepInfo, type TreatmentInfo, type Value } from "../discover.js";
import { didYouMean, quoteList } from "../suggest.js";
import type { Rule, RuleContext } from "./rule.js";

function where(node: TS.Node): string {
  const sf = node.getSourceFile();
  const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return `${sf.fileName.split(/[\\/]/).pop()}(${line + 1},${character + 1})`;
}

function allExperiments(ctx: RuleContext): ExperimentInfo[] {
  return [...ctx.discovery.experiments.map((e) => e.info), ...ctx.discovery.unexported.filter((u): u is ExperimentInfo => u.kind === "experiment")];
}

function expLabel(e: ExperimentInfo): string {
  return e.name !== undefined ? `experiment "${e.name}"` : "the experiment";
}

/** Declared params (name → default) of an experiment, or undefined when not all are known. */
export function declaredParams(e: ExperimentInfo): Map<string, Static> | undefined {
  if (!e.steps || e.steps.some((s) => s.kind !== "step")) return undefined;
  const out = new Map<string, Static>();
  for (const s of knownSteps(e)) {
    const p = s.params;
    if (p === UNKNOWN || p === null || typeof p !== "object" || Array.isArray(p) || p instanceof NonJson) return undefined;
    for (const [k, v] of Object.entries(p)) if (!out.has(k)) out.set(k, v);
  }
  return out;
}

export function declaredMetrics(e: ExperimentInfo): Set<string> | undefined {
  if (!e.steps || e.steps.some((s) => s.kind !== "step" || !s.metricsKnown)) return undefined;
  return new Set(knownSteps(e).flatMap((s) => s.metrics.map((m) => m.name)));
}

function treatmentsOf(e: ExperimentInfo): { t: TreatmentInfo; use: TS.Node }[] {
  return (e.treatments ?? []).flatMap((t, i) => (t.kind === "treatment" ? [{ t, use: e.treatmentUses[i] ?? t.node }] : []));
}
function hypothesesOf(e: ExperimentInfo): { h: HypothesisInfo; use: TS.Node }[] {
  return (e.hypotheses ?? []).flatMap((h, i) => (h.kind === "hypothesis" ? [{ h, use: e.hypothesisUses[i] ?? h.node }] : []));
}

function jsType(v: Static): string | undefined {
  if (v === UNKNOWN || v instanceof NonJson) return undefined;
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

const SAFE_NAME_PROBLEMS: [RegExp, string][] = [
  [/^$/, "it is empty"],
  [/^\.\.?$/, "it refers to a directory"],
  [/[/\\]/, "it contains a path separator"],
  // eslint-disable-next-line no-control-regex
  [/[\u0000-\u001f<>:"|?*]/, "it contains a character that is not portable in file names"],
  [/^\s|\s$/, "it has leading or trailing spaces"],
];

function nameProblem(name: string): string | undefined {
  for (const [re, why] of SAFE_NAME_PROBLEMS) if (re.test(name)) return why;
  return name.length > 200 ? "it is longer than 200 characters" : undefined;
}

function namedNodes(ctx: RuleContext): { what: string; n: Named & { node: TS.Node } }[] {
  const out: { what: string; n: Named & { node: TS.Node } }[] = [];
  const seen = new Set<TS.Node>();
  const add = (what: string, v: Value | undefined) => {
    if (!v || seen.has(v.node)) return;
    if (v.kind === "step" || v.kind === "source" || v.kind === "treatment" || v.kind === "hypothesis" || v.kind === "experiment") {
      seen.add(v.node);
      out.push({ what, n: v });
    }
  };
  for (const e of allExperiments(ctx)) {
    add("experiment", e);
    add("source", e.source);
    for (const s of e.steps ?? []) add("step", s);
    for (const t of e.treatments ?? []) add("treatment", t);
    for (const h of e.hypotheses ?? []) add("hypothesis", h);
  }
  return out;
}

/** A pipeline element built by a package's function (a library step factory): nothing to fix in the project. */
function fromPackage(ctx: RuleContext, node: TS.Node): boolean {
  if (!ts.isCallExpression(node)) return false;
  const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression;
  try {
    let sym = ctx.host.checker.getSymbolAtLocation(callee);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = ctx.host.checker.getAliasedSymbol(sym);
    const decl = sym?.valueDeclaration ?? sym?.declarations?.[0];
    return !!decl && !isProjectFile(ctx.host, decl.getSourceFile());
  } catch {
    return false;
  }
}

export const wiringRules: Rule[] = [
  {
    code: "CRY1001",
    name: "duplicate-experiment-name",
    severity: "error",
    summary: "Two experiments of the project have the same name.",
    fix: "Give each experiment its own name: names key storage (.crystallize/), the manifest and the CLI.",
    check(ctx, report) {
      const first = new Map<string, ExperimentInfo>();
      for (const { info } of ctx.discovery.experiments) {
        if (info.name === undefined) continue;
        const prev = first.get(info.name);
        if (prev) {
          report(info.nameNode, `experiment name "${info.name}" is already used by the experiment at ${where(prev.nameNode)}; give each experiment its own name (names key storage, the manifest and the CLI)`);
        } else first.set(info.name, info);
      }
    },
  },
  {
    code: "CRY1002",
    name: "duplicate-step-name",
    severity: "error",
    summary: "Two steps of one pipeline have the same name.",
    fix: "Rename one of the steps: names key provenance, random streams, step hashes and artifact folders.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        const seen = new Set<string>();
        (e.steps ?? []).forEach((s, i) => {
          if (s.kind !== "step" || s.name === undefined) return;
          if (seen.has(s.name)) {
            report(e.stepUses[i] ?? s.nameNode, `step name "${s.name}" is used twice in the pipeline of ${expLabel(e)}; give each step its own name (names key provenance, random streams and step hashes)`);
          }
          seen.add(s.name);
        });
      }
    },
  },
  {
    code: "CRY1003",
    name: "duplicate-treatment-name",
    severity: "error",
    summary: "Two treatments of one experiment have the same name.",
    fix: "Rename one treatment; results are keyed by treatment name.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        const seen = new Set<string>();
        for (const { t, use } of treatmentsOf(e)) {
          if (t.name === undefined) continue;
          if (seen.has(t.name)) report(use, `treatment name "${t.name}" is used twice in ${expLabel(e)}; rename one of them (results are keyed by treatment name)`);
          seen.add(t.name);
        }
      }
    },
  },
  {
    code: "CRY1004",
    name: "unknown-treatment-key",
    severity: "error",
    summary: "A treatment sets a param that no step of the pipeline declares.",
    fix: "Correct the key to a declared param, or declare it in a step's params.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        const params = declaredParams(e);
        if (!params) continue;
        for (const { t } of treatmentsOf(e)) {
          for (const k of t.keys ?? []) {
            if (!params.has(k.key)) {
              report(k.node, `treatment "${t.name ?? "?"}" sets "${k.key}", which no step of ${expLabel(e)} declares as a param.${didYouMean(k.key, params.keys())} (declared params: ${quoteList([...params.keys()])})`);
            }
          }
        }
      }
    },
  },
  {
    code: "CRY1005",
    name: "unknown-hypothesis-metric",
    severity: "error",
    summary: "A hypothesis tests a metric that no step declares.",
    fix: "Correct the metric name, or declare it in a step's metrics and record it with ctx.record.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        const metrics = declaredMetrics(e);
        if (!metrics) continue;
        for (const { h } of hypothesesOf(e)) {
          for (const m of h.metrics ?? []) {
            if (!metrics.has(m.name)) {
              report(m.node, `hypothesis "${h.name ?? "?"}" tests metric "${m.name}", which no step of ${expLabel(e)} declares.${didYouMean(m.name, metrics)} (declared metrics: ${quoteList([...metrics])})`);
            }
          }
        }
      }
    },
  },
  {
    code: "CRY1006",
    name: "non-json-params",
    severity: "error",
    summary: "A param default or a treatment value is not JSON-serialisable.",
    fix: "Use numbers, strings, booleans, null, arrays and plain objects; build other values inside the step from them.",
    check(ctx, report) {
      const seen = new Set<TS.Node>();
      for (const e of allExperiments(ctx)) {
        for (const s of knownSteps(e)) {
          if (seen.has(s.node)) continue;
          seen.add(s.node);
          const bad = findNonJson(s.params, "params");
          if (bad) report(bad.marker.node, `param ${bad.path} of step "${s.name ?? "?"}" is ${bad.marker.what}, which is not JSON-serialisable; params must be numbers, strings, booleans, null, arrays or plain objects (they are hashed into cache keys and stored with results)`);
        }
        for (const { t } of treatmentsOf(e)) {
          if (seen.has(t.node)) continue;
          seen.add(t.node);
          for (const k of t.keys ?? []) {
            const bad = findNonJson(k.value, k.key);
            if (bad) report(bad.marker.node, `treatment "${t.name ?? "?"}" sets ${bad.path} to ${bad.marker.what}, which is not JSON-serialisable; treatment values must be plain JSON`);
          }
        }
      }
    },
  },
  {
    code: "CRY1007",
    name: "invalid-replicates",
    severity: "error",
    summary: "replicates is not a positive integer.",
    fix: "Set replicates to a whole number of at least 1.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        const r = e.replicates;
        if (!r || r.value === UNKNOWN) continue;
        const v = r.value;
        if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
          report(r.node, `replicates of ${expLabel(e)} must be a positive integer, got ${v instanceof NonJson ? v.what : JSON.stringify(v)}; use a whole number of at least 1`);
        }
      }
    },
  },
  {
    code: "CRY1008",
    name: "invalid-seed",
    severity: "error",
    summary: "seed is not an integer from 0 to 4294967295.",
    fix: "Use a whole number from 0 to 4294967295.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        const r = e.seed;
        if (!r || r.value === UNKNOWN) continue;
        const v = r.value;
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
          report(r.node, `seed of ${expLabel(e)} must be an integer from 0 to 4294967295, got ${v instanceof NonJson ? v.what : JSON.stringify(v)}`);
        }
      }
    },
  },
  {
    code: "CRY1009",
    name: "duplicate-hypothesis-name",
    severity: "error",
    summary: "Two hypotheses of one experiment have the same name.",
    fix: "Rename one hypothesis; result.hypothesis(name) looks them up by name.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        const seen = new Set<string>();
        for (const { h, use } of hypothesesOf(e)) {
          if (h.name === undefined) continue;
          if (seen.has(h.name)) report(use, `hypothesis name "${h.name}" is used twice in ${expLabel(e)}; rename one of them (result.hypothesis(name) looks them up by name)`);
          seen.add(h.name);
        }
      }
    },
  },
  {
    code: "CRY1010",
    name: "reserved-treatment-name",
    severity: "error",
    summary: 'A treatment is named "baseline", the name of the untreated condition.',
    fix: 'Choose another name; "baseline" always means the step defaults.',
    check(ctx, report) {
      const seen = new Set<TS.Node>();
      for (const e of allExperiments(ctx)) {
        for (const { t } of treatmentsOf(e)) {
          if (t.name === "baseline" && !seen.has(t.node)) {
            seen.add(t.node);
            report(t.nameNode, `"baseline" is reserved for the untreated condition; give the treatment another name`);
          }
        }
      }
    },
  },
  {
    code: "CRY1011",
    name: "duplicate-metric",
    severity: "error",
    summary: "A step declares the same metric twice.",
    fix: "Remove the repeated name from the step's metrics.",
    check(ctx, report) {
      const seen = new Set<TS.Node>();
      for (const e of allExperiments(ctx)) {
        for (const s of knownSteps(e)) {
          if (seen.has(s.node)) continue;
          seen.add(s.node);
          const names = new Set<string>();
          for (const m of s.metrics) {
            if (names.has(m.name)) report(m.node, `step "${s.name ?? "?"}" declares metric "${m.name}" twice; remove the repeated name`);
            names.add(m.name);
          }
        }
      }
    },
  },
  {
    code: "CRY1012",
    name: "unsafe-name",
    severity: "error",
    summary: "A name cannot be used as a folder name (a separator, a control character, empty, spaces around).",
    fix: 'Use letters, digits, "-" or "_".',
    check(ctx, report) {
      for (const { what, n } of namedNodes(ctx)) {
        if (n.name === undefined) continue;
        const why = nameProblem(n.name);
        if (why) report(n.nameNode, `the ${what} name "${n.name}" cannot be used as a folder name: ${why}; use letters, digits, "-" or "_"`);
      }
    },
  },
  {
    code: "CRY1013",
    name: "dynamic-name",
    severity: "warning",
    summary: "An experiment or step name is not a string the compiler can read.",
    fix: "Write the name as a string literal (or a const holding one).",
    check(ctx, report) {
      const factoryMade = new Set<TS.Node>(ctx.discovery.unexported.map((u) => u.node));
      for (const { what, n } of namedNodes(ctx)) {
        if (what === "experiment" && factoryMade.has(n.node)) continue; // reported as CRY4001/CRY4003
        if ((what === "experiment" || what === "step") && n.name === undefined) {
          report(n.nameNode, `the ${what} name is not a string literal, so the compiler cannot key the manifest and step hashes by it; write the name as a string literal`);
        }
      }
    },
  },
  {
    code: "CRY1014",
    name: "treatment-value-type",
    severity: "error",
    summary: "A treatment sets a param to a value of another type than the step's default.",
    fix: "Give the treatment a value of the param's type.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        const params = declaredParams(e);
        if (!params) continue;
        for (const { t } of treatmentsOf(e)) {
          for (const k of t.keys ?? []) {
            if (!params.has(k.key)) continue;
            const want = jsType(params.get(k.key)!);
            const got = jsType(k.value);
            if (want && got && want !== got && want !== "null" && got !== "null") {
              report(k.valueNode ?? k.node, `treatment "${t.name ?? "?"}" sets "${k.key}" to a ${got}, but the step's default is a ${want}; give it a ${want}`);
            }
          }
        }
      }
    },
  },
  {
    code: "CRY1015",
    name: "empty-pipeline",
    severity: "error",
    summary: "An experiment's pipeline has no steps.",
    fix: "Add at least one step: pipeline(step, ...) or .step(...) in the builder.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        if (e.steps && e.steps.length === 0) {
          report(e.pipelineNode ?? e.node, `${expLabel(e)} has no steps; add at least one (pipeline(step, ...) or .step(...) in the builder)`);
        }
      }
    },
  },
  {
    code: "CRY1016",
    name: "unresolved-step",
    severity: "warning",
    summary: "A pipeline element is not a step the compiler can follow (a call of a function that does not simply return step(...), say).",
    fix: "Define the step with step(name, ...) in a const, or make its factory return step(...) in a single return statement; otherwise its cache key falls back to the runtime hash.",
    check(ctx, report) {
      for (const e of allExperiments(ctx)) {
        (e.steps ?? []).forEach((s: Value, i) => {
          if (s.kind !== "step" && !fromPackage(ctx, s.node)) {
            const why = s.kind === "unknown" && s.reason ? ` (${s.reason})` : "";
            report(e.stepUses[i] ?? s.node, `the compiler cannot follow this pipeline element to a step(...) call${why}, so it is neither checked nor given a structural hash (the runtime falls back to its own); define the step with step(name, ...) in a const, or make its factory return step(...) in a single return statement`);
          }
        });
      }
    },
  },
];

export type { StepInfo };
