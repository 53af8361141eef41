// Host side: the static gate every guest module passes before it reaches a child.
//
// esbuild parses the module (TypeScript allowed), strips every comment (SES rejects `import(`
// even inside one) and turns it into CommonJS, with every import left external and recorded. The
// gate then refuses: imports of modules that are not whitelisted (any spelling esbuild can see:
// import statements, re-exports, require calls, literal dynamic imports), dynamic `import()`,
// direct `eval`, top-level await, and text SES would reject anyway. Refusals are
// BoundedExecutionErrors with reason forbidden-import or forbidden-syntax, so a model can be told
// what to change. Results are memoised by (code, whitelist): metamorphic runs reuse one module.
// The gate is bounded (issue 13): source size and bracket nesting before esbuild, compiled size
// after, esbuild's warnings silenced, and the compile held to the job's deadline (gate-compiler.ts).
import { createHash } from "node:crypto";
import { BoundedExecutionError } from "../errors.js";
import { compileGuest, GuestCompileError, type CompiledModule } from "./gate-compiler.js";

export interface PreparedCode {
  /** CommonJS text, comments stripped, ready for the child's module wrapper. */
  readonly code: string;
  /** sha256 of the guest's original source text. */
  readonly sourceHash: string;
  /** Every module specifier the code imports (all whitelisted). */
  readonly imports: readonly string[];
}

/** Mirrors SES's own source checks, so the author learns about them before the child does. */
const SES_IMPORT_PATTERN = /(^|[^.]|\.\.\.)\bimport(\s*(?:\(|\/[/*]))/;
const SES_HTML_COMMENT_PATTERN = /<!--|-->/;
const MAX_SOURCE_BYTES = 512 * 1024;
const MEMO_LIMIT = 256;

const MAX_NESTING = 512;
/** A compiled module larger than this is refused (a few hundred bytes of enums can expand to MiBs). */
const MAX_COMPILED_BYTES = 2 * 1024 * 1024;
/** The memo's budget, counted in UTF-16 code units of source plus compiled text. */
const MEMO_BUDGET_CHARS = 16 * 1024 * 1024;
/** The gate's own deadline when the caller gives none (check(), synthesis). */
const DEFAULT_GATE_MS = 10_000;
/** What SES's evaluator rejects as a direct eval (the gate reports it before the child does). */
const DIRECT_EVAL_PATTERN = /(^|[^.]|\.\.\.)\beval(\s*\()/;

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function forbiddenSyntax(message: string): BoundedExecutionError {
  return new BoundedExecutionError("forbidden-syntax", message);
}

/**
 * The deepest bracket nesting outside string literals and comments (templates count as code).
 * esbuild's parser recurses per level and a deep enough module overflows its stack: refuse first.
 */
export function bracketDepth(source: string): number {
  let depth = 0;
  let max = 0;
  const n = source.length;
  for (let i = 0; i < n; i++) {
    const c = source.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) {
      if (++depth > max) max = depth;
    } else if (c === 41 || c === 93 || c === 125) {
      if (depth > 0) depth--;
    } else if (c === 34 || c === 39) {
      // a string literal: up to the same quote, an unescaped newline, or the end
      for (i++; i < n; i++) {
        const d = source.charCodeAt(i);
        if (d === 92) i++;
        else if (d === c || d === 10) break;
      }
    } else if (c === 47 && source.charCodeAt(i + 1) === 47) {
      while (i < n && source.charCodeAt(i) !== 10) i++;
    } else if (c === 47 && source.charCodeAt(i + 1) === 42) {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 1;
    }
  }
  return max;
}

async function prepareUncached(source: string, allowed: ReadonlySet<string>, deadlineMs: number): Promise<PreparedCode> {
  if (Buffer.byteLength(source, "utf8") > MAX_SOURCE_BYTES) {
    throw forbiddenSyntax(`the module is larger than ${MAX_SOURCE_BYTES} bytes`);
  }
  const depth = bracketDepth(source);
  if (depth > MAX_NESTING) {
    throw forbiddenSyntax(`the module nests brackets ${depth} deep; at most ${MAX_NESTING} levels are allowed`);
  }
  let compiled: CompiledModule;
  try {
    compiled = await compileGuest(source, deadlineMs);
  } catch (error) {
    if (error instanceof GuestCompileError) throw forbiddenSyntax(error.message);
    throw error;
  }
  const { imports } = compiled;
  const output = compiled.code;
  if (output.length > MAX_COMPILED_BYTES) {
    throw forbiddenSyntax(
      `the compiled module is larger than ${MAX_COMPILED_BYTES} bytes (${output.length}); enums or constants expanded too far`,
    );
  }
  for (const { path } of imports) {
    if (!allowed.has(path)) {
      const list = allowed.size ? [...allowed].join(", ") : "none";
      throw new BoundedExecutionError(
        "forbidden-import",
        `module "${path}" is not in allowedImports (allowed: ${list})`,
        { specifier: path },
      );
    }
  }
  const dynamic = imports.find((i) => i.kind === "dynamic-import");
  if (dynamic) {
    throw forbiddenSyntax(`dynamic import("${dynamic.path}") is not allowed; use a static import`);
  }
  if (DIRECT_EVAL_PATTERN.test(output)) {
    throw forbiddenSyntax("direct eval is not allowed (the text \"eval(\" may not appear, even inside a string)");
  }
  const importMatch = SES_IMPORT_PATTERN.exec(output);
  if (importMatch) {
    throw forbiddenSyntax(
      `dynamic import() is not allowed (line ${lineOf(output, importMatch.index)} of the compiled module); ` +
        `the text "import(" may not appear even inside a string`,
    );
  }
  const htmlMatch = SES_HTML_COMMENT_PATTERN.exec(output);
  if (htmlMatch) {
    throw forbiddenSyntax(
      `the text "${htmlMatch[0]}" (an HTML-like comment) may not appear, even inside a string or as "x-->y"`,
    );
  }
  return {
    code: output,
    sourceHash: createHash("sha256").update(source).digest("hex"),
    imports: Object.freeze([...new Set(imports.map((i) => i.path))]),
  };
}

export interface PrepareOptions {
  /** Milliseconds the gate may take (the job's timeoutMs on run()). Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * A memoising gate for one whitelist. Results are memoised (failures too: the same code fails the
 * same way), least recently used first out, within a budget of characters; a timeout is not
 * memoised (a larger budget may succeed).
 */
export function createPreparer(
  allowedImports: readonly string[],
): (source: string, options?: PrepareOptions) => Promise<PreparedCode> {
  const allowed = new Set(allowedImports);
  const memo = new Map<string, { readonly outcome: Promise<PreparedCode>; readonly chars: number }>();
  const inflight = new Map<string, Promise<PreparedCode>>();
  let chars = 0;
  const remember = (source: string, outcome: Promise<PreparedCode>, size: number): void => {
    if (size > MEMO_BUDGET_CHARS / 4) return;
    memo.set(source, { outcome, chars: size });
    chars += size;
    for (const [key, entry] of memo) {
      if (chars <= MEMO_BUDGET_CHARS && memo.size <= MEMO_LIMIT) break;
      memo.delete(key);
      chars -= entry.chars;
    }
  };
  return (source: string, options: PrepareOptions = {}) => {
    const hit = memo.get(source);
    if (hit) {
      // refresh its position (least recently used goes first)
      memo.delete(source);
      memo.set(source, hit);
      return hit.outcome;
    }
    const deadlineMs = options.timeoutMs ?? DEFAULT_GATE_MS;
    let pending = inflight.get(source);
    if (!pending) {
      pending = prepareUncached(source, allowed, deadlineMs);
      inflight.set(source, pending);
      const settled = pending;
      settled.then(
        (prepared) => {
          inflight.delete(source);
          remember(source, settled, source.length + prepared.code.length);
        },
        (error: unknown) => {
          inflight.delete(source);
          if (!(error instanceof BoundedExecutionError && error.reason === "timeout")) {
            remember(source, settled, source.length);
          }
        },
      );
    }
    return pending;
  };
}
