// What a rule is: a stable code, a default severity, a one-line summary and the fix, and a check
// over the discovered experiments and graphs.
import type ts from "typescript";
import type { Diagnostic, Severity } from "../diagnostics.js";
import type { Discovery, AnalysisHost, Tracer } from "../discover.js";
import type { Hasher } from "../hash.js";

export interface RuleContext {
  readonly host: AnalysisHost;
  readonly discovery: Discovery;
  readonly tracer: Tracer;
  readonly hasher: Hasher;
  /** Only report in these files (an editor asks for one file); undefined = everywhere. */
  readonly onlyFiles?: ReadonlySet<string>;
}

export type Report = (node: ts.Node, message: string) => void;

export interface Rule {
  readonly code: string;
  readonly name: string;
  readonly severity: Severity;
  /** What the rule finds (for the README's table). */
  readonly summary: string;
  /** How to fix it. */
  readonly fix: string;
  check(ctx: RuleContext, report: Report): void;
}

export type { Diagnostic };
