// The editor: through the TypeScript language service, a misspelt treatment key is reported at the
// key itself with a readable message (by the compiler's rules module, decorating the service the
// way a tsserver plugin does), next to TypeScript's own error from the DSL's types.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { editorPlugin } from "../../src/compiler/index.js";

const repo = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
const root = fileURLToPath(new URL("../fixtures/compiler/projects/basic", import.meta.url));
const demo = join(root, "src", "demo.ts");

function languageService(files: Map<string, string>): ts.LanguageService {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => parsed.options,
    getScriptFileNames: () => parsed.fileNames,
    getScriptVersion: () => "1",
    getScriptSnapshot: (f) => {
      const text = files.get(f) ?? (ts.sys.fileExists(f) ? ts.sys.readFile(f) : undefined);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => root,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (f) => files.has(f) || ts.sys.fileExists(f),
    readFile: (f) => files.get(f) ?? ts.sys.readFile(f),
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  };
  return ts.createLanguageService(host, ts.createDocumentRegistry());
}

describe("editor (TypeScript language service)", () => {
  it("reports a misspelt treatment key at the key, with a readable message", () => {
    const text = readFileSync(demo, "utf8").replace('treatment("doubled", { factor: 2 })', 'treatment("doubled", { factr: 2 })');
    const ls = editorPlugin().create({ languageService: languageService(new Map([[demo, text]])), project: { getProjectName: () => join(root, "tsconfig.json") } });
    const diags = ls.getSemanticDiagnostics(demo);
    const keyAt = text.indexOf("factr");

    const ours = diags.find((d) => d.source === "crystallize");
    expect(ours).toBeDefined();
    expect(ours!.start).toBe(keyAt);
    expect(ours!.length).toBe("factr".length);
    expect(ours!.category).toBe(ts.DiagnosticCategory.Error);
    expect(ts.flattenDiagnosticMessageText(ours!.messageText, "\n")).toBe(
      'CRY1004: treatment "doubled" sets "factr", which no step of experiment "demo" declares as a param. Did you mean "factor"? (declared params: "factor")',
    );

    // TypeScript's own error from the DSL's types is there too, on the treatment, naming the problem.
    const theirs = diags.find((d) => d.source !== "crystallize" && d.category === ts.DiagnosticCategory.Error);
    expect(theirs).toBeDefined();
    expect(ts.flattenDiagnosticMessageText(theirs!.messageText, "\n")).toContain("treatment sets a param that no step declares");
    const line = (pos: number) => ts.getLineAndCharacterOfPosition(ts.createSourceFile("x.ts", text, ts.ScriptTarget.Latest), pos).line;
    expect(line(theirs!.start!)).toBe(line(keyAt));
  });

  it("adds nothing to a correct file", () => {
    const ls = editorPlugin().create({ languageService: languageService(new Map()), project: { getProjectName: () => join(root, "tsconfig.json") } });
    expect(ls.getSemanticDiagnostics(demo)).toEqual([]);
  });

  it("loads as a tsserver plugin: require()d, and run on the TypeScript that tsserver hands it", () => {
    const init = createRequire(import.meta.url)("crystallize-ts/tsserver-plugin") as (modules: { typescript: typeof ts }) => ReturnType<typeof editorPlugin>;
    expect(typeof init).toBe("function");
    const text = readFileSync(demo, "utf8").replace('treatment("doubled", { factor: 2 })', 'treatment("doubled", { factr: 2 })');
    const ls = init({ typescript: ts }).create({ languageService: languageService(new Map([[demo, text]])), project: { getProjectName: () => join(root, "tsconfig.json") } });
    const ours = ls.getSemanticDiagnostics(demo).filter((d) => d.source === "crystallize");
    expect(ours.map((d) => [d.code, d.start])).toEqual([[1004, text.indexOf("factr")]]);
  });

  it("is found by tsserver's plugin lookup (node10 resolution, no exports map) from a project that depends on crystallize", () => {
    const project = mkdtempSync(join(tmpdir(), "cry-plugin-"));
    try {
      mkdirSync(join(project, "node_modules"));
      symlinkSync(repo, join(project, "node_modules", "crystallize-ts"), "dir");
      const r = ts.nodeModuleNameResolver("crystallize-ts/tsserver-plugin", join(project, "index.ts"), { moduleResolution: ts.ModuleResolutionKind.Node10, allowJs: true }, ts.sys);
      // (symlinks resolved: the package is this repository)
      expect(r.resolvedModule?.resolvedFileName).toBe(join(repo, "dist/tsserver-plugin/index.js"));
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
