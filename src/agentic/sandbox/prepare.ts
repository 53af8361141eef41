// Host side: the static gate every guest module passes before it reaches a child.
//
// esbuild parses the module (TypeScript allowed), strips every comment (SES rejects `import(`
// even inside one) and turns it into CommonJS, with every import left external and recorded. The
// gate then refuses: imports of modules that are not whitelisted (any spelling esbuild can see:
// import statements, re-exports, require calls, literal dynamic imports), dynamic `import()`,
// direct `eval`, top-level await, and text SES would reject anyway. Refusals are
// BoundedExecutionErrors with reason forbidden-import or forbidden-syntax, so a model can be told
// what to change. Results are memoised by (code, whitelist): metamorphic runs reuse one module.
import { createHash } from "node:crypto";
import { BoundedExecutionError } from "../errors.js";

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
const MAX_SOURCE_BYTES = 1024 * 1024;
const MEMO_LIMIT = 256;

type Build = typeof import("esbuild").build;
let esbuildBuild: Promise<Build> | undefined;
function loadEsbuild(): Promise<Build> {
  // Loaded on first use: importing crystallize/agentic does not start esbuild's service.
  esbuildBuild ??= import("esbuild").then((m) => m.build);
  return esbuildBuild;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function forbiddenSyntax(message: string): BoundedExecutionError {
  return new BoundedExecutionError("forbidden-syntax", message);
}

async function prepareUncached(source: string, allowed: ReadonlySet<string>): Promise<PreparedCode> {
  if (Buffer.byteLength(source, "utf8") > MAX_SOURCE_BYTES) {
    throw forbiddenSyntax(`the module is larger than ${MAX_SOURCE_BYTES} bytes`);
  }
  const build = await loadEsbuild();
  const imports: Array<{ path: string; kind: string }> = [];
  let result: Awaited<ReturnType<Build>>;
  try {
    result = await build({
      stdin: { contents: source, loader: "ts", sourcefile: "guest.ts" },
      bundle: true,
      write: false,
      format: "cjs",
      platform: "neutral",
      target: "node20",
      legalComments: "none",
      charset: "ascii",
      logLevel: "silent",
      plugins: [
        {
          name: "crystallize-sandbox-imports",
          setup(b) {
            b.onResolve({ filter: /.*/ }, (args) => {
              imports.push({ path: args.path, kind: args.kind });
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
  } catch (error) {
    const first = (error as { errors?: Array<{ text: string; location?: { line: number; column: number } | null }> })
      .errors?.[0];
    if (first) {
      const where = first.location ? ` at guest.ts:${first.location.line}:${first.location.column + 1}` : "";
      throw forbiddenSyntax(`the module does not compile${where}: ${first.text}`);
    }
    throw forbiddenSyntax(`the module does not compile: ${error instanceof Error ? error.message : String(error)}`);
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
  if (result.warnings.some((w) => w.id === "direct-eval" || /direct eval/i.test(w.text))) {
    throw forbiddenSyntax("direct eval is not allowed");
  }
  const output = result.outputFiles?.[0]?.text ?? "";
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

/** A memoising gate for one whitelist. Failures are memoised too (the same code fails the same way). */
export function createPreparer(allowedImports: readonly string[]): (source: string) => Promise<PreparedCode> {
  const allowed = new Set(allowedImports);
  const memo = new Map<string, Promise<PreparedCode>>();
  return (source: string) => {
    const hit = memo.get(source);
    if (hit) {
      // refresh its position (least recently used goes first)
      memo.delete(source);
      memo.set(source, hit);
      return hit;
    }
    const pending = prepareUncached(source, allowed);
    memo.set(source, pending);
    if (memo.size > MEMO_LIMIT) {
      const oldest = memo.keys().next().value;
      if (oldest !== undefined) memo.delete(oldest);
    }
    // Keep rejections from being reported as unhandled while they sit in the memo.
    pending.catch(() => {});
    return pending;
  };
}
