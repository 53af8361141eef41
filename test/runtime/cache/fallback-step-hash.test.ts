import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fallbackStepHash, normaliseSource } from "../../../src/runtime/cache/fallback-step-hash.js";

// Functions are built from source text so formatting differences are real.
const fn = (src: string) => new Function(`return (${src});`)() as (...args: never[]) => unknown;

describe("fallbackStepHash", () => {
  it("has a stable shape and depends on the name", () => {
    const f = fn("(xs) => xs.map((x) => x * 2)");
    expect(fallbackStepHash("scale", f)).toMatch(/^rt1:[0-9a-f]{32}$/);
    expect(fallbackStepHash("scale", f)).toBe(fallbackStepHash("scale", f));
    expect(fallbackStepHash("other", f)).not.toBe(fallbackStepHash("scale", f));
  });

  it("ignores indentation, line breaks and comments", () => {
    const a = fn("(xs, ctx) => {\n  // double it\n  return xs.map((x) => x * ctx.params.k); /* done */\n}");
    const b = fn("(xs, ctx) => {\n        return xs.map((x) =>   x * ctx.params.k);\n\n}");
    expect(fallbackStepHash("s", a)).toBe(fallbackStepHash("s", b));
  });

  it("sees any change of code, literal text or regex", () => {
    const hashes = [
      "(x) => x * 2",
      "(x) => x * 3",
      "(x) => x + 2",
      '(x) => x + "a b"',
      '(x) => x + "a  b"',
      "(x) => x + `a ${x}  b`",
      "(x) => x + `a ${x} b`",
      "(x) => /a  b/.test(x)",
      "(x) => /a b/.test(x)",
      "(x) => x + '// not a comment'",
      "(x) => x + '// not a comment, really'",
      "(x) => x / 2 / 3",
      "(x) => x / 2 / 4",
    ].map((src) => fallbackStepHash("s", fn(src)));
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it("keeps literals intact while normalising", () => {
    expect(normaliseSource("a  =  'x  y' // c\n +  `t  ${ b  }  u`")).toBe("a = 'x  y' + `t  ${ b }  u`");
    expect(normaliseSource("return /[/]  x/g.test(s) /* c */")).toBe("return /[/]  x/g.test(s)");
    expect(normaliseSource("x = a / b / c")).toBe("x = a / b / c");
    expect(normaliseSource("f(`a${`b  ${c}`}  d`)")).toBe("f(`a${`b  ${c}`}  d`)");
  });

  it("never throws or hangs, and only ever drops whitespace and comments (property)", () => {
    const token = fc.constantFrom("a", "1", " ", "  ", "\n", "/", "*", "'", '"', "`", "${", "}", "{", "(", ")", "[", "]", "\\", "//", "/*", "*/", "return", "x");
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }).map((ts) => ts.join("")), (src) => {
        const out = normaliseSource(src);
        // Removing whitespace from both sides leaves out's characters as a subsequence of src's.
        const strip = (t: string) => t.replace(/\s+/g, "");
        let i = 0;
        const from = strip(src);
        for (const ch of strip(out)) {
          i = from.indexOf(ch, i);
          expect(i).toBeGreaterThanOrEqual(0);
          i++;
        }
      }),
      { numRuns: 500 },
    );
  });
});

