// Structural hashes (DESIGN.md): formatting, comments and type-only edits keep every hash;
// changing an operator, a literal, a helper two calls deep or a dependency's version changes
// exactly the hashes of the steps that depend on it. Properties over random edits of a fixture
// project (test/fixtures/compiler/projects/hashing), compiled incrementally in a temp folder.
// The same laws hold for steps made by factory functions (`make("a", 2)`), whose hash covers
// the factory and the call's arguments: a small project written below.
import { readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze, loadProject, type LoadedProject } from "../../src/compiler/index.js";
import { copyFixture, TempProject } from "./temp-project.js";
import { apply, formattingOf, inType, isNameArg, type Edit } from "./formatting-edits.js";

const fixture = fileURLToPath(new URL("../fixtures/compiler/projects/hashing", import.meta.url));
const FILES = ["helpers-deep.ts", "helpers.ts", "steps.ts", "experiment.ts"] as const;
type FileName = (typeof FILES)[number];

let dir: string;
let loaded: LoadedProject;
const original = new Map<FileName, string>();

function lockfile(version: string): string {
  return JSON.stringify({
    name: "hashing-fixture",
    lockfileVersion: 3,
    packages: { "": { name: "hashing-fixture" }, "node_modules/fake-pkg": { version } },
  });
}

beforeAll(() => {
  dir = copyFixture(fixture, "cry-hash-", { types: [] });
  const pkg = join(dir, "node_modules", "fake-pkg");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "fake-pkg", version: "1.0.0", type: "module", exports: { ".": { types: "./index.d.ts", default: "./index.js" } } }));
  writeFileSync(join(pkg, "index.js"), "export const pad = (s, n) => s.padStart(n);\n");
  writeFileSync(join(pkg, "index.d.ts"), "export declare function pad(s: string, n: number): string;\n");
  writeFileSync(join(dir, "package-lock.json"), lockfile("1.0.0"));
  for (const f of FILES) original.set(f, readFileSync(join(dir, "src", f), "utf8"));
  const load = loadProject({ project: dir });
  if (!load.ok) throw new Error("cannot load the hashing fixture");
  loaded = load.loaded;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface StepFacts {
  hash: string;
  usesRandom: boolean;
}

/** Writes the given file texts (others revert to the fixture), recompiles, returns step hashes by name. */
function hashes(edits: Partial<Record<FileName, string>> = {}): Record<string, StepFacts> {
  const changed: string[] = [];
  for (const f of FILES) {
    const path = join(dir, "src", f);
    const want = edits[f] ?? original.get(f)!;
    if (readFileSync(path, "utf8") !== want) {
      writeFileSync(path, want);
      changed.push(path);
    }
  }
  loaded.refresh(changed);
  const a = analyze(loaded, { tsDiagnostics: [] });
  const out: Record<string, StepFacts> = {};
  for (const e of a.manifest.experiments) for (const s of e.steps) if (s.name && s.hash) out[s.name] = { hash: s.hash, usesRandom: s.usesRandom };
  return out;
}

// ---- random edits -------------------------------------------------------------------------

const formatting = formattingOf(FILES, (file) => original.get(file)!);

// ---- semantic edits ------------------------------------------------------------------------

/** Which steps depend on the code at `pos` of `file` (by the fixture's design). */
function dependents(file: FileName, sf: ts.SourceFile, pos: number): string[] {
  const top = sf.statements.find((s) => s.pos <= pos && pos < s.end);
  if (!top) return [];
  if (file === "helpers-deep.ts") return ts.isFunctionDeclaration(top) ? ["viaMid"] : ["viaOffset"];
  if (file === "helpers.ts") return ts.isFunctionDeclaration(top) && top.name?.text === "mid" ? ["viaMid"] : ts.isFunctionDeclaration(top) ? ["viaUnrelated"] : [];
  if (file === "steps.ts" && ts.isVariableStatement(top)) {
    const d = top.declarationList.declarations[0]!;
    const call = d.initializer as ts.CallExpression;
    const run = call.arguments[call.arguments.length - 1]!;
    return run.pos <= pos && pos < run.end ? [(d.name as ts.Identifier).text] : [];
  }
  return [];
}

interface Semantic<F extends string = FileName> {
  readonly file: F;
  readonly edit: Edit;
  readonly expected: string[];
  readonly what: string;
}

function semanticEdits(file: FileName): Semantic[] {
  return semanticEditsIn(file, original.get(file)!, (sf, pos) => dependents(file, sf, pos));
}

/** Operator swaps and literal changes in `text`, each with the steps expected to change. */
function semanticEditsIn<F extends string>(file: F, text: string, dependentsAt: (sf: ts.SourceFile, pos: number) => string[]): Semantic<F>[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const dependents = (_file: F, s: ts.SourceFile, pos: number) => dependentsAt(s, pos);
  const out: Semantic<F>[] = [];
  const swap: Record<string, string> = { "+": "-", "-": "+", "*": "/", "/": "*", ">": "<", "<": ">" };
  const visit = (node: ts.Node): void => {
    if (ts.isBinaryExpression(node) && !inType(node)) {
      const op = node.operatorToken.getText(sf);
      if (swap[op]) {
        out.push({ file, edit: { pos: node.operatorToken.getStart(sf), del: op.length, text: swap[op]! }, expected: dependents(file, sf, node.operatorToken.getStart(sf)), what: `${op} → ${swap[op]}` });
      }
    }
    if (ts.isNumericLiteral(node) && !inType(node)) {
      out.push({ file, edit: { pos: node.getStart(sf), del: node.getWidth(sf), text: String(Number(node.text) + 1) }, expected: dependents(file, sf, node.getStart(sf)), what: `${node.text} → ${Number(node.text) + 1}` });
    }
    if (ts.isStringLiteral(node) && !inType(node) && !isNameArg(node) && !ts.isImportDeclaration(node.parent) && !ts.isExportDeclaration(node.parent)) {
      out.push({ file, edit: { pos: node.getStart(sf), del: node.getWidth(sf), text: JSON.stringify(`${node.text}!`) }, expected: dependents(file, sf, node.getStart(sf)), what: `"${node.text}" changed` });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

let base: Record<string, StepFacts>;

describe("structural hashes", () => {
  beforeAll(() => {
    base = hashes();
  });

  it("hash every step, and know which use ctx.random()", () => {
    expect(Object.keys(base).sort()).toEqual(["local", "rand", "viaMid", "viaOffset", "viaPkg", "viaUnrelated"]);
    expect(Object.values(base).every((s) => /^[0-9a-f]{64}$/.test(s.hash))).toBe(true);
    expect(Object.entries(base).filter(([, s]) => s.usesRandom).map(([n]) => n)).toEqual(["rand"]);
    expect(hashes()).toEqual(base);
  });

  it("are kept by reformatting, comments and type-only edits", () => {
    fc.assert(
      fc.property(formatting, ({ file, edits }) => {
        const changed = apply(original.get(file)!, edits);
        expect(changed).not.toBe(original.get(file));
        expect(hashes({ [file]: changed })).toEqual(base);
      }),
      { numRuns: 40, seed: 1234 },
    );
  });

  it("change exactly for the steps whose code (or helpers' code) changes: operators and literals", () => {
    const all = FILES.flatMap(semanticEdits);
    expect(all.length).toBeGreaterThan(15);
    expect(all.some((e) => e.file === "helpers-deep.ts" && e.expected.includes("viaMid"))).toBe(true); // two calls deep
    expect(all.some((e) => e.expected.length === 0)).toBe(true); // params, experiment settings: no step changes
    fc.assert(
      fc.property(fc.constantFrom(...all), (e) => {
        const after = hashes({ [e.file]: apply(original.get(e.file)!, [e.edit]) });
        const changedSteps = Object.keys(base).filter((n) => after[n]?.hash !== base[n]!.hash).sort();
        expect(changedSteps, `${e.file}: ${e.what}`).toEqual([...e.expected].sort());
      }),
      { numRuns: Math.min(all.length, 60), seed: 99 },
    );
  });

  it("change when a helper two calls deep changes, for its dependents only", () => {
    const after = hashes({ "helpers-deep.ts": original.get("helpers-deep.ts")!.replace("x * 3 + 1", "x * 3 + 2") });
    expect(Object.keys(base).filter((n) => after[n]!.hash !== base[n]!.hash)).toEqual(["viaMid"]);
  });

  it("change when a local is renamed (deliberately conservative)", () => {
    const after = hashes({ "steps.ts": original.get("steps.ts")!.replace(/\bt\b/g, "limit") });
    expect(Object.keys(base).filter((n) => after[n]!.hash !== base[n]!.hash)).toEqual(["local"]);
  });

  it("do not include params (a changed default keeps the hash)", () => {
    const after = hashes({ "steps.ts": original.get("steps.ts")!.replace("k: 2", "k: 5") });
    expect(after).toEqual(base);
  });

  it("change for the steps that import a package when its locked version changes", () => {
    writeFileSync(join(dir, "package-lock.json"), lockfile("1.0.1"));
    try {
      const after = hashes();
      expect(Object.keys(base).filter((n) => after[n]!.hash !== base[n]!.hash)).toEqual(["viaPkg"]);
    } finally {
      writeFileSync(join(dir, "package-lock.json"), lockfile("1.0.0"));
    }
    expect(hashes()).toEqual(base);
  });
});

// ---- factory-made steps --------------------------------------------------------------------

const FACTORY_FILES = {
  "util.ts": `export function bump(x: number): number {
  return x + 1;
}
`,
  "factory.ts": `import { step } from "crystallize-ts";
import { bump } from "./util.js";

export const make = (name: string, k: number, label = "x") => step(name, (xs: number[]) => xs.map((x) => bump(x) * k + label.length));

export function tagged(name: string) {
  const suffix = "-t";
  return step(\`\${name}\${suffix}\`, { params: { w: 2 } }, (xs: number[], ctx) => xs.map((x) => x * ctx.params.w));
}
`,
  "exp.ts": `import { experiment, pipeline, source, step } from "crystallize-ts";
import { make, tagged } from "./factory.js";

const LIMIT = 3;
const numbers = source("numbers", () => [1, 2, 3]);
const direct = step("direct", (xs: number[]) => xs.map((x) => x - 1));

export const factories = experiment("factories", {
  source: numbers,
  pipeline: pipeline(make("a", 2), make("b", 5), make("c", LIMIT, "yz"), tagged("t"), direct),
  replicates: 2,
});
`,
} as const;
type FactoryFile = keyof typeof FACTORY_FILES;
const FACTORY_FILE_NAMES = Object.keys(FACTORY_FILES) as FactoryFile[];
/** The pipeline's steps, by position (a name edit renames a step): make("a"), make("b"), make("c"), tagged("t"), direct. */
const MADE_BY_MAKE = ["0", "1", "2"];

/** Which pipeline positions depend on the code at `pos` of a file of the factory project. */
function factoryDependents(file: FactoryFile, sf: ts.SourceFile, pos: number): string[] {
  const top = sf.statements.find((s) => s.pos <= pos && pos < s.end);
  if (!top) return [];
  if (file === "util.ts") return MADE_BY_MAKE; // a helper of make, one call deep
  if (file === "factory.ts") return ts.isVariableStatement(top) ? MADE_BY_MAKE : ["3"];
  if (!ts.isVariableStatement(top)) return [];
  const d = top.declarationList.declarations[0]!;
  const name = (d.name as ts.Identifier).text;
  if (name === "LIMIT") return ["2"]; // an argument of make("c", LIMIT, ...) references it
  if (name === "direct") return ["4"];
  if (name !== "factories") return [];
  let found: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === "pipeline") {
      n.arguments.forEach((a, i) => {
        if (a.pos <= pos && pos < a.end) found = [String(i)];
      });
    }
    ts.forEachChild(n, visit);
  };
  visit(top);
  return found;
}

describe("structural hashes of factory-made steps", () => {
  let project: TempProject;
  let current: Record<FactoryFile, string>;
  let baseline: (string | null)[];

  /** Writes the given texts (others revert), re-analyses, returns the hashes by pipeline position. */
  function factoryHashes(edits: Partial<Record<FactoryFile, string>> = {}): (string | null)[] {
    const changed: Record<string, string> = {};
    for (const f of FACTORY_FILE_NAMES) {
      const want = edits[f] ?? FACTORY_FILES[f];
      if (current[f] !== want) {
        changed[`src/${f}`] = want;
        current[f] = want;
      }
    }
    if (Object.keys(changed).length) project.write(changed);
    return project.analyze().manifest.experiments[0]!.steps.map((s) => s.hash);
  }

  beforeAll(() => {
    project = new TempProject(Object.fromEntries(FACTORY_FILE_NAMES.map((f) => [`src/${f}`, FACTORY_FILES[f]])));
    current = { ...FACTORY_FILES };
    expect(project.typeErrors()).toEqual([]);
    baseline = factoryHashes();
  });
  afterAll(() => project.close());

  it("hash every made step, differently for different arguments of one factory", () => {
    expect(baseline.every((h) => /^[0-9a-f]{64}$/.test(h ?? ""))).toBe(true);
    expect(new Set(baseline).size).toBe(baseline.length);
    expect(factoryHashes()).toEqual(baseline);
  });

  it("are kept by reformatting, comments and type-only edits of the factory, its helper and the call sites", () => {
    const edits = formattingOf(FACTORY_FILE_NAMES, (file) => FACTORY_FILES[file]);
    fc.assert(
      fc.property(edits, ({ file, edits: picked }) => {
        expect(factoryHashes({ [file]: apply(FACTORY_FILES[file], picked) })).toEqual(baseline);
      }),
      { numRuns: 25, seed: 4321 },
    );
  });

  it("change exactly for the steps an edit reaches: a call's arguments change that step, the factory (or its helper) every step it makes", () => {
    const all = FACTORY_FILE_NAMES.flatMap((f) => semanticEditsIn(f, FACTORY_FILES[f], (sf, pos) => factoryDependents(f, sf, pos)));
    expect(all.some((e) => e.file === "exp.ts" && e.expected.length === 1 && MADE_BY_MAKE.includes(e.expected[0]!))).toBe(true); // a call-site argument
    expect(all.some((e) => e.file === "factory.ts" && e.expected.length === 3)).toBe(true); // make's body
    expect(all.some((e) => e.file === "util.ts")).toBe(true); // make's helper
    expect(all.some((e) => e.expected.length === 0)).toBe(true); // the source, replicates
    fc.assert(
      fc.property(fc.constantFrom(...all), (e) => {
        const after = factoryHashes({ [e.file]: apply(FACTORY_FILES[e.file], [e.edit]) });
        const changed = baseline.flatMap((h, i) => (after[i] !== h ? [String(i)] : []));
        expect(changed, `${e.file}: ${e.what}`).toEqual([...e.expected].sort());
      }),
      { numRuns: Math.min(all.length, 45), seed: 77 },
    );
  });
});
