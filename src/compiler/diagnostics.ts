// Diagnostics: what the compiler reports. One shape for TypeScript's own errors (TSnnnn) and the
// DSL rules (CRYnnnn), rendered as `path(line,col): error CODE: message` or as JSON.
import { relative, sep } from "node:path";
import type ts from "typescript";

export type Severity = "error" | "warning";

/** A diagnostic as the compiler returns it. Positions are 1-based; `file` is absolute (or undefined). */
export interface Diagnostic {
  readonly file: string | undefined;
  readonly line: number;
  readonly column: number;
  /** "TS2322", "CRY1004", ... */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  /** Offset and length in the file, when known (for editors). */
  readonly start?: number;
  readonly length?: number;
}

/** What `--json` prints: the same, with `file` relative to the working directory. */
export interface DiagnosticJSON {
  readonly file: string | null;
  readonly line: number;
  readonly column: number;
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
}

/** A diagnostic anchored at a node (the rules produce these). */
export function diagnosticAt(
  node: ts.Node,
  code: string,
  message: string,
  severity: Severity = "error",
  sourceFile: ts.SourceFile = node.getSourceFile(),
): Diagnostic {
  const start = node.getStart(sourceFile);
  const { line, character } = sourceFile.getLineAndCharacterOfPosition(start);
  return {
    file: sourceFile.fileName,
    line: line + 1,
    column: character + 1,
    code,
    severity,
    message,
    start,
    length: node.getEnd() - start,
  };
}

/** A diagnostic about a file or the project as a whole (no position). */
export function diagnosticOf(file: string | undefined, code: string, message: string, severity: Severity = "error"): Diagnostic {
  return { file, line: 1, column: 1, code, severity, message };
}

export function displayPath(file: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, file);
  return (rel === "" ? file : rel).split(sep).join("/");
}

/** `path(line,col): error CODE: message` (no position part when the diagnostic has no file). */
export function formatDiagnostic(d: Diagnostic, options: { cwd?: string; color?: boolean } = {}): string {
  const paint = options.color ? colors : plain;
  const where = d.file ? `${paint.path(displayPath(d.file, options.cwd))}(${d.line},${d.column}): ` : "";
  const sev = d.severity === "error" ? paint.error("error") : paint.warning("warning");
  return `${where}${sev} ${paint.code(d.code)}: ${d.message}`;
}

export function toJSON(d: Diagnostic, cwd: string = process.cwd()): DiagnosticJSON {
  return {
    file: d.file ? displayPath(d.file, cwd) : null,
    line: d.line,
    column: d.column,
    code: d.code,
    severity: d.severity,
    message: d.message,
  };
}

/** Stable order: by file, then position, then code. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort(
    (a, b) =>
      (a.file ?? "").localeCompare(b.file ?? "") ||
      a.line - b.line ||
      a.column - b.column ||
      a.code.localeCompare(b.code) ||
      a.message.localeCompare(b.message),
  );
}

export function hasErrors(list: readonly Diagnostic[]): boolean {
  return list.some((d) => d.severity === "error");
}

const id = (s: string) => s;
const plain = { path: id, error: id, warning: id, code: id };
const colors = {
  path: (s: string) => `\x1b[36m${s}\x1b[39m`,
  error: (s: string) => `\x1b[31m${s}\x1b[39m`,
  warning: (s: string) => `\x1b[33m${s}\x1b[39m`,
  code: (s: string) => `\x1b[90m${s}\x1b[39m`,
};
