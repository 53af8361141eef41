// Terminal output for the commands: colours only on a TTY without NO_COLOR, diagnostics in the
// `path(line,col): error CODE: message` form (or JSON), and a summary line.
import { toJSON as diagnosticToJSON, formatDiagnostic, type Diagnostic } from "../compiler/diagnostics.js";
import { useColor } from "../plugins/terminal-color.js";

export interface Stream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

export { useColor } from "../plugins/terminal-color.js";

export function paint(stream: Stream) {
  const on = useColor(stream);
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22), cyan: wrap(36, 39) };
}

export function printDiagnostics(stream: Stream, diagnostics: readonly Diagnostic[], cwd = process.cwd()): void {
  const color = useColor(stream);
  for (const d of diagnostics) stream.write(`${formatDiagnostic(d, { cwd, color })}\n`);
}

export function diagnosticsJSON(diagnostics: readonly Diagnostic[], cwd = process.cwd()): string {
  return JSON.stringify(diagnostics.map((d) => diagnosticToJSON(d, cwd)), null, 2);
}

export function summary(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const part = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  return `${part(errors, "error")}, ${part(warnings, "warning")}`;
}

/** A user-facing failure: printed as `error: message`, exit code 1, never a stack trace. */
export class CliError extends Error {}
