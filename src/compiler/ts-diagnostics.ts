// TypeScript's own diagnostics in the compiler's shape (they keep their TSnnnn code).
import type * as TS from "typescript";
import ts from "./typescript.js";
import type { Diagnostic, Severity } from "./diagnostics.js";

/** Converts one of TypeScript's diagnostics. */
export function fromTs(d: TS.Diagnostic): Diagnostic {
  const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  const severity: Severity = d.category === ts.DiagnosticCategory.Error ? "error" : "warning";
  if (d.file && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return {
      file: d.file.fileName,
      line: line + 1,
      column: character + 1,
      code: `TS${d.code}`,
      severity,
      message,
      start: d.start,
      ...(d.length !== undefined ? { length: d.length } : {}),
    };
  }
  return { file: d.file?.fileName, line: 1, column: 1, code: `TS${d.code}`, severity, message };
}

