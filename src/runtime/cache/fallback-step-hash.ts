// The runtime fallback for a step's hash, used until the compiler's manifest gives a structural
// one: the step's name plus its function's source text, normalised so that re-indenting or
// re-commenting the step does not invalidate its cache entries.
//
// Normalisation is deliberately conservative (a false miss costs time, a false hit serves a
// wrong result): outside string, template and regular-expression literals, comments are dropped
// and each run of whitespace becomes one space; nothing else changes. Like any source hash, it
// does not see values the function closes over or helpers it calls: pass such values as params,
// or compile the project so the manifest's structural hash (which follows references) is used.
import { createHash } from "node:crypto";

export const FALLBACK_HASH_SCHEMA = "crystallize.fallback-step-hash/1";

const KEYWORDS_BEFORE_EXPRESSION = new Set([
  "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await",
]);

/** The source text with comments removed and whitespace runs collapsed, outside literals. */
export function normaliseSource(src: string): string {
  let out = "";
  let i = 0;
  const n = src.length;
  let pendingSpace = false;
  /** Last significant (non-space) text emitted, to tell a regex from a division. */
  let lastToken = "";
  /** Brace depth per open template literal `${`, innermost last. */
  const templates: number[] = [];
  let braces = 0;

  const emit = (text: string, token: string): void => {
    if (pendingSpace && out.length > 0) out += " ";
    pendingSpace = false;
    out += text;
    lastToken = token;
  };

  const regexAllowed = (): boolean => {
    if (lastToken === "") return true;
    if (/^[\w$]+$/.test(lastToken)) return KEYWORDS_BEFORE_EXPRESSION.has(lastToken);
    return !/[)\]}]$/.test(lastToken) && !/^["'`]/.test(lastToken) && !/^\d/.test(lastToken);
  };

  /** Copies a template literal's text from i (just after ` or }) to its end or to `${`. */
  const templateText = (start: number): void => {
    let j = start;
    while (j < n) {
      const c = src[j];
      if (c === "\\") j += 2;
      else if (c === "`") {
        emit(src.slice(i, j + 1), "`");
        i = j + 1;
        return;
      } else if (c === "$" && src[j + 1] === "{") {
        emit(src.slice(i, j + 2), "${");
        i = j + 2;
        templates.push(braces);
        return;
      } else j++;
    }
    emit(src.slice(i), "`");
    i = n;
  };

  while (i < n) {
    const c = src[i] as string;
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v" || c === "\u00a0" || c === "\ufeff" || c === "\u2028" || c === "\u2029") {
      pendingSpace = true;
      i++;
    } else if (c === "/" && src[i + 1] === "/") {
      while (i < n && src[i] !== "\n" && src[i] !== "\r") i++;
      pendingSpace = true;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      pendingSpace = true;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      emit(src.slice(i, j + 1), c);
      i = j + 1;
    } else if (c === "`") {
      templateText(i + 1);
    } else if (c === "/" && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < n) {
        const d = src[j];
        if (d === "\\") j += 2;
        else if (d === "\n") break;
        else {
          if (d === "[") inClass = true;
          else if (d === "]") inClass = false;
          else if (d === "/" && !inClass) break;
          j++;
        }
      }
      j++;
      while (j < n && /[a-z]/i.test(src[j] as string)) j++;
      emit(src.slice(i, j), "/regex/");
      i = j;
    } else if (c === "}" && templates.length > 0 && templates[templates.length - 1] === braces) {
      templates.pop();
      // Back inside the template's text.
      const start = i + 1;
      emit("}", "}");
      i = start;
      templateText(start);
    } else if (/[\w$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(src[j] as string)) j++;
      emit(src.slice(i, j), src.slice(i, j));
      i = j;
    } else {
      if (c === "{") braces++;
      else if (c === "}") braces--;
      emit(c, c);
      i++;
    }
  }
  return out;
}

/** `rt1:` + 32 hex digits: the fallback hash of a step from its name and function. */
export function fallbackStepHash(name: string, fn: (...args: never[]) => unknown): string {
  const text = normaliseSource(Function.prototype.toString.call(fn));
  const digest = createHash("sha256")
    .update(FALLBACK_HASH_SCHEMA)
    .update("\0")
    .update(name)
    .update("\0")
    .update(text)
    .digest("hex");
  return `rt1:${digest.slice(0, 32)}`;
}
