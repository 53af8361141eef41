// Every rule has a fixture (test/fixtures/compiler/projects/rules/src/cryNNNN.ts) with a
// /*!CRYNNNN*/ marker right before the token where it must report: this checks the exact line and
// column of each, that nothing else is reported there, and that the fixtures are otherwise clean.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { analyze, loadProject, rules, type Analysis, type Diagnostic } from "../../src/compiler/index.js";

const root = fileURLToPath(new URL("../fixtures/compiler/projects/rules", import.meta.url));
const srcDir = join(root, "src");

interface Expected {
  readonly code: string;
  readonly line: number;
  readonly column: number;
}

/** Markers of a fixture: the position of the first non-space character after each marker. */
function markers(file: string): Expected[] {
  const text = readFileSync(file, "utf8");
  const out: Expected[] = [];
  for (const m of text.matchAll(/\/\*!(CRY\d{4})\*\//g)) {
    let pos = m.index! + m[0].length;
    while (/\s/.test(text[pos]!)) pos++;
    const before = text.slice(0, pos).split("\n");
    out.push({ code: m[1]!, line: before.length, column: before[before.length - 1]!.length + 1 });
  }
  return out;
}

let analysis: Analysis;
const fixtures = readdirSync(srcDir).filter((f) => /^cry\d{4}/.test(f)).sort();

beforeAll(() => {
  const load = loadProject({ project: root });
  if (!load.ok) throw new Error(load.diagnostics.map((d) => d.message).join("\n"));
  analysis = analyze(load.loaded);
});

const at = (d: Diagnostic): Expected => ({ code: d.code, line: d.line, column: d.column });
const byPos = (a: Expected, b: Expected) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code);

describe("rule fixtures", () => {
  it("have no TypeScript errors (each rule is about code the types let through)", () => {
    const ts = analysis.diagnostics.filter((d) => d.code.startsWith("TS"));
    expect(ts.map((d) => `${d.file}(${d.line},${d.column}) ${d.code} ${d.message}`)).toEqual([]);
  });

  it("cover every rule, and define at least 15 rules", () => {
    const covered = new Set(fixtures.flatMap((f) => markers(join(srcDir, f)).map((m) => m.code)));
    expect(rules.length).toBeGreaterThanOrEqual(15);
    expect(rules.map((r) => r.code).filter((c) => !covered.has(c))).toEqual([]);
    expect(new Set(rules.map((r) => r.code)).size).toBe(rules.length);
  });

  it.each(fixtures)("%s reports exactly its marked diagnostics at their line and column", (name) => {
    const file = join(srcDir, name);
    const expected = markers(file).sort(byPos);
    const actual = analysis.diagnostics.filter((d) => d.file === file && d.code.startsWith("CRY")).map(at).sort(byPos);
    expect(actual).toEqual(expected);
  });

  it("common.ts, the shared module, has no diagnostics", () => {
    expect(analysis.diagnostics.filter((d) => d.file === join(srcDir, "common.ts"))).toEqual([]);
  });

  it("messages name the fix", () => {
    const byCode = new Map(analysis.diagnostics.map((d) => [d.code, d.message]));
    expect(byCode.get("CRY1004")).toMatch(/"factr".*Did you mean "factor"\?/);
    expect(byCode.get("CRY1005")).toMatch(/"meen".*Did you mean "mean"\?/);
    expect(byCode.get("CRY2001")).toMatch(/cry2001-a → cry2001-b → cry2001-a/);
    expect(byCode.get("CRY3002")).toMatch(/use ctx\.random\(\)/);
    expect(byCode.get("CRY4001")).toMatch(/export const hidden/);
    const all = analysis.diagnostics.map((d) => d.message);
    expect(all).toContainEqual(expect.stringMatching(/"remembering" is cacheable but closes over module-level const seen \(mutated at src\/cry3004\.ts:15\).*make it a const that nothing mutates/));
    expect(byCode.get("CRY1016")).toMatch(/\(make has more in its body than const declarations and one `return step\(\.\.\.\)`\)/);
    for (const r of rules) {
      expect(r.fix.length, r.code).toBeGreaterThan(10);
      expect(r.summary.length, r.code).toBeGreaterThan(10);
    }
  });

  it("are all documented in docs/compiler.md", () => {
    const doc = readFileSync(fileURLToPath(new URL("../../docs/compiler.md", import.meta.url)), "utf8");
    for (const r of rules) expect(doc, r.code).toContain(`| ${r.code} | ${r.name} | ${r.severity} |`);
  });

  it("severities follow the rule table", () => {
    for (const d of analysis.diagnostics.filter((x) => x.code.startsWith("CRY"))) {
      expect(d.severity, d.code).toBe(rules.find((r) => r.code === d.code)!.severity);
    }
  });
});
