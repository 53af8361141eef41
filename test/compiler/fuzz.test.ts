// Fuzz: the compiler fed mutated experiment files (tokens deleted, duplicated or replaced) only
// ever returns diagnostics: it never throws and never reports an internal error (CRY0900).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Watcher } from "../../src/compiler/watch.js";
import { copyFixture } from "./temp-project.js";

const fixture = fileURLToPath(new URL("../fixtures/compiler/projects/basic", import.meta.url));
let dir: string;
let file: string;
let source: string;
let watcher: Watcher;

interface Token {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

function tokens(text: string): Token[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
  const out: Token[] = [];
  for (let k = scanner.scan(); k !== ts.SyntaxKind.EndOfFileToken; k = scanner.scan()) {
    out.push({ start: scanner.getTokenStart(), end: scanner.getTokenEnd(), text: scanner.getTokenText() });
  }
  return out;
}

const EXTRA = ["any", "as", "(", ")", "{", "}", "[", "]", ",", ";", "=>", "export", "const", "let", "experiment", "step", "pipeline", "treatment", '"x"', "0", "-1", "NaN", "undefined", "new Date()", "Math.random()", "...", "?.", "import", "await", "function", "class", "."];

type Mutation = { kind: "delete"; at: number } | { kind: "duplicate"; at: number } | { kind: "replace"; at: number; by: string };

function mutate(text: string, toks: Token[], muts: readonly Mutation[]): string {
  const edits = muts.map((m) => {
    const t = toks[m.at % toks.length]!;
    if (m.kind === "delete") return { pos: t.start, del: t.end - t.start, text: "" };
    if (m.kind === "duplicate") return { pos: t.end, del: 0, text: ` ${t.text}` };
    return { pos: t.start, del: t.end - t.start, text: m.by };
  });
  // Apply from the end; drop edits that overlap an edit already applied.
  edits.sort((a, b) => b.pos - a.pos);
  let out = text;
  let limit = Infinity;
  for (const e of edits) {
    if (e.pos + e.del > limit) continue;
    out = out.slice(0, e.pos) + e.text + out.slice(e.pos + e.del);
    limit = e.pos;
  }
  return out;
}

beforeAll(() => {
  dir = copyFixture(fixture, "cry-fuzz-");
  file = join(dir, "src", "demo.ts");
  source = readFileSync(file, "utf8");
  const w = Watcher.create({ project: dir, emit: false });
  if (!(w instanceof Watcher)) throw new Error("cannot load the fuzz fixture");
  watcher = w;
  return watcher.update();
});

afterAll(async () => {
  await watcher.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("compiler fuzz", () => {
  it("returns diagnostics for mutated experiment files, never throws", async () => {
    const toks = tokens(source);
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
      fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
      fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), by: fc.oneof(fc.constantFrom(...EXTRA), fc.constantFrom(...toks.map((t) => t.text))) }),
    );
    let withErrors = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), async (muts) => {
        const text = mutate(source, toks, muts);
        writeFileSync(file, text);
        const a = await watcher.update([file]);
        expect(Array.isArray(a.diagnostics)).toBe(true);
        expect(a.diagnostics.filter((d) => d.code === "CRY0900")).toEqual([]);
        for (const d of a.diagnostics) {
          expect(d.line).toBeGreaterThanOrEqual(1);
          expect(d.column).toBeGreaterThanOrEqual(1);
          expect(typeof d.message).toBe("string");
        }
        if (a.diagnostics.some((d) => d.severity === "error")) withErrors++;
      }),
      { numRuns: 30, seed: 4242 },
    );
    expect(withErrors).toBeGreaterThan(10); // the mutations really break things
  }, 120_000);

  it("survives a file that does not parse at all", async () => {
    writeFileSync(file, "export const = experiment(( { pipeline: ,,, ]] }\n");
    const a = await watcher.update([file]);
    expect(a.diagnostics.some((d) => d.code.startsWith("TS1") && d.file === file)).toBe(true);
    expect(a.diagnostics.filter((d) => d.code === "CRY0900")).toEqual([]);
    writeFileSync(file, source);
    const back = await watcher.update([file]);
    expect(back.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });
});
