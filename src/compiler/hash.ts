// Structural hashes of steps (DESIGN.md, "Structural hash of a step"): the step function's AST
// without trivia, comments and type nodes, plus the same for every project declaration it
// references, transitively (cycle-safe), plus `name@version` of every package it reaches, the
// TypeScript version and the hash schema. Each declaration is analysed once (memoized); the same
// walk collects the facts the cache-soundness and portability rules need. A step made by a
// project factory (`make("a")`) also covers the factory, as a unit, and the call's arguments.
import { createHash } from "node:crypto";
import { relative, sep } from "node:path";
import type * as TS from "typescript";
import ts from "./typescript.js";
import { isDslFile, isDslFunctionSymbol, isProjectFile, type AnalysisHost, type StepInfo } from "./discover.js";
import { packageNameOf, packageOfPath, packageVersions, type PackageVersions } from "./lockfile.js";
import { skipOuter } from "./evaluate.js";
import { ConstMutations } from "./const-mutations.js";

/** Bump when the normalisation below changes: every hash changes with it. */
export const HASH_SCHEMA_VERSION = 3;

export type ImpurityKind = "date" | "math-random" | "env" | "mutable-state" | "commonjs" | "dynamic-import";

export interface Impurity {
  readonly kind: ImpurityKind;
  readonly node: TS.Node;
  /** What was read, e.g. "Date.now()", "process.env", "let counter". */
  readonly detail: string;
}

/** A module-level binding whose contents project code can change: a const, a class (static fields), a function (properties). */
export type ModuleBinding = TS.VariableDeclaration | TS.ClassDeclaration | TS.FunctionDeclaration;

/** A read of a module-level binding of the project (mutable state if project code mutates it). */
export interface ConstRead {
  readonly node: TS.Identifier;
  readonly decl: ModuleBinding;
}

/** What one declaration (or a step's function, or a factory call's argument) contributes, before following its references. */
export interface UnitFacts {
  readonly id: string;
  readonly local: string;
  readonly deps: ReadonlySet<TS.Node>;
  readonly externals: ReadonlySet<string>;
  /** Data modules (JSON) the unit imports: their whole text counts. */
  readonly data: ReadonlySet<TS.SourceFile>;
  readonly usesRandom: boolean;
  readonly impurities: readonly Impurity[];
  readonly constReads: readonly ConstRead[];
}

/** How a unit is walked: a project declaration, a step's run function, or an argument of a factory call. */
type UnitRole = "unit" | "step" | "argument" | "imports";

export interface StepHash {
  /** sha256 hex. */
  readonly hash: string;
  readonly usesRandom: boolean;
  /** Impurities anywhere in the step's code, transitively. */
  readonly impurities: readonly Impurity[];
  /** Every package version the step reaches. */
  readonly externals: readonly string[];
  /** Project files whose code the step depends on (for watch mode). */
  readonly files: readonly string[];
}

// Built on first use, not at import: the tsserver plugin hands its TypeScript in after loading.
let typeOnlyModifiers: ReadonlySet<TS.SyntaxKind> | undefined;
function isTypeOnlyModifier(kind: TS.SyntaxKind): boolean {
  typeOnlyModifiers ??= new Set([
    ts.SyntaxKind.DeclareKeyword,
    ts.SyntaxKind.ReadonlyKeyword,
    ts.SyntaxKind.AbstractKeyword,
    ts.SyntaxKind.OverrideKeyword,
    ts.SyntaxKind.ExportKeyword,
    ts.SyntaxKind.DefaultKeyword,
    ts.SyntaxKind.InKeyword,
    ts.SyntaxKind.OutKeyword,
    ts.SyntaxKind.ConstKeyword,
  ]);
  return typeOnlyModifiers.has(kind);
}

function isLibFile(file: string): boolean {
  return /[\\/]lib\.[\w.]*\.d\.ts$/.test(file);
}

function isTypeOnlyStatement(n: TS.Node): boolean {
  if (ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) return true;
  if (ts.isFunctionDeclaration(n) && !n.body) return true;
  if (ts.canHaveModifiers(n) && ts.getModifiers(n)?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)) return true;
  return false;
}

/** Whether `id` is the name being declared (not a reference). */
function isDeclarationName(id: TS.Node): boolean {
  const p = id.parent;
  if (!p) return false;
  if ((ts.isPropertyAccessExpression(p) && p.name === id) || (ts.isQualifiedName(p) && p.right === id)) return false; // a reference to a member
  return (
    ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isFunctionDeclaration(p) || ts.isFunctionExpression(p) ||
      ts.isClassDeclaration(p) || ts.isClassExpression(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) ||
      ts.isPropertyAssignment(p) || ts.isGetAccessorDeclaration(p) || ts.isSetAccessorDeclaration(p) ||
      ts.isEnumDeclaration(p) || ts.isEnumMember(p) || ts.isImportSpecifier(p) || ts.isImportClause(p) ||
      ts.isNamespaceImport(p) || ts.isModuleDeclaration(p) || ts.isPropertySignature(p) || ts.isMethodSignature(p) ||
      ts.isLabeledStatement(p)) && (p as unknown as { name?: TS.Node }).name === id) ||
    (ts.isBindingElement(p) && (p.name === id || p.propertyName === id)) ||
    ((ts.isBreakStatement(p) || ts.isContinueStatement(p)) && p.label === id)
  );
}

function isPropertyNamePosition(node: TS.Node): boolean {
  const p = node.parent;
  return !!p && (ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) ||
    ts.isGetAccessorDeclaration(p) || ts.isSetAccessorDeclaration(p) || ts.isEnumMember(p)) && (p as unknown as { name: TS.Node }).name === node;
}

function numericText(text: string): string {
  const clean = text.replace(/_/g, "");
  const n = /^0[0-7]+$/.test(clean) ? parseInt(clean, 8) : Number(clean);
  return Number.isNaN(n) ? clean : String(n);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Compiler options that change the JavaScript a step's code compiles to (or how it runs). */
const EMIT_OPTIONS = [
  "module", "experimentalDecorators", "emitDecoratorMetadata", "jsx", "jsxFactory", "jsxFragmentFactory", "jsxImportSource",
  "importHelpers", "esModuleInterop", "allowSyntheticDefaultImports", "verbatimModuleSyntax", "preserveConstEnums",
  "isolatedModules", "downlevelIteration", "importsNotUsedAsValues", "preserveValueImports", "rewriteRelativeImportExtensions",
] as const;

/** The emit-relevant options, with the defaults that depend on others worked out (target → class fields). */
export function emitOptionsLine(options: TS.CompilerOptions): string {
  const target = options.target ?? ts.ScriptTarget.ES5;
  const picked: Record<string, unknown> = {
    target,
    useDefineForClassFields: options.useDefineForClassFields ?? target >= ts.ScriptTarget.ES2022,
    alwaysStrict: options.alwaysStrict ?? options.strict ?? false,
  };
  for (const k of EMIT_OPTIONS) if (options[k] !== undefined) picked[k] = options[k];
  return `options ${JSON.stringify(picked)}`;
}

interface Closure {
  readonly lines: string[];
  readonly usesRandom: boolean;
  readonly impurities: Impurity[];
  readonly externals: string[];
  readonly files: Set<string>;
  readonly constReads: ConstRead[];
}

interface Entry {
  readonly base: StepHash;
  readonly constReads: readonly ConstRead[];
  /** The hash with the project's mutations of what the step reads, for the mutation sites it was made with. */
  mutated?: { readonly sites: readonly TS.Node[]; readonly hash: StepHash };
}

export class Hasher {
  private readonly facts = new Map<TS.Node, UnitFacts>();
  /** Facts of step functions and factory-call arguments (ids differ from a declaration's). */
  private readonly rootFacts = new Map<TS.Node, UnitFacts>();
  private readonly stepHashes = new Map<TS.Node, Entry>();
  private readonly mutations = new ConstMutations();
  private readonly failed = new Map<TS.Node, unknown>();
  private readonly contextSymbols = new Map<TS.Symbol, boolean>();
  private readonly contextTypes = new Map<TS.Type, boolean>();
  readonly versions: PackageVersions;
  private readonly header: string;

  constructor(public host: AnalysisHost, versions?: PackageVersions) {
    this.versions = versions ?? packageVersions(host.root);
    this.header = `crystallize-structural-hash/${HASH_SCHEMA_VERSION}/typescript@${ts.version}\n${emitOptionsLine(host.program.getCompilerOptions())}`;
  }

  /**
   * Moves to a new program (watch mode): keeps what was learned about declarations in files
   * that did not change and do not import changed files; forgets the rest and every step hash.
   */
  retarget(host: AnalysisHost, affectedFiles: ReadonlySet<string>): void {
    this.host = host;
    const stale = (f: UnitFacts, unit: TS.Node) =>
      affectedFiles.has(unit.getSourceFile().fileName) ||
      [...f.deps].some((d) => affectedFiles.has(d.getSourceFile().fileName)) ||
      [...f.data].some((d) => affectedFiles.has(d.fileName));
    for (const map of [this.facts, this.rootFacts]) {
      for (const [unit, f] of [...map]) if (stale(f, unit)) map.delete(unit);
    }
    this.mutations.forget(affectedFiles);
    this.failed.clear();
    this.contextSymbols.clear();
    this.contextTypes.clear();
    for (const [node, h] of [...this.stepHashes]) {
      if (h.base.files.some((f) => affectedFiles.has(f))) this.stepHashes.delete(node);
      else h.mutated = undefined; // a mutation site's code may depend on a changed file
    }
  }

  /**
   * The structural hash of a step (its function, transitively); undefined for a step the hasher
   * cannot read, or one it failed on (a bug: see failures(); the step's cache key then falls back
   * to the runtime's hash, and the other steps are unaffected).
   */
  hashStep(step: StepInfo): StepHash | undefined {
    if (!step.run || this.failed.has(step.node)) return undefined;
    try {
      const cached = this.stepHashes.get(step.node);
      if (cached) return this.withMutations(cached);
      return this.computeStepHash(step, step.run);
    } catch (err) {
      this.failed.set(step.node, err);
      return undefined;
    }
  }

  /** The steps hashStep() failed on, with the error (for one internal-error diagnostic each). */
  failures(): ReadonlyMap<TS.Node, unknown> {
    return this.failed;
  }

  /** Follows the deps of some facts, transitively: the hash lines of every unit reached, and what they use. */
  private closure(start: readonly UnitFacts[], queue: TS.Node[], seen: Set<TS.Node>, files: Set<string>): Closure {
    const units: UnitFacts[] = [];
    const externals = new Set<string>();
    const impurities: Impurity[] = [];
    const constReads: ConstRead[] = [];
    const data = new Set<TS.SourceFile>();
    let usesRandom = false;
    const take = (f: UnitFacts) => {
      for (const d of f.deps) if (!seen.has(d)) queue.push(d);
      for (const x of f.externals) externals.add(x);
      for (const d of f.data) data.add(d);
      impurities.push(...f.impurities);
      constReads.push(...f.constReads);
      usesRandom ||= f.usesRandom;
    };
    const visitFile = (sf: TS.SourceFile) => {
      files.add(sf.fileName);
      // The file's side-effect imports (`import "./setup.js"`) run whenever its code is loaded.
      if (!seen.has(sf)) queue.push(sf);
    };
    for (const f of start) take(f);
    for (const f of [...files]) {
      const sf = this.host.program.getSourceFile(f);
      if (sf) visitFile(sf);
    }
    while (queue.length) {
      const n = queue.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      const f = this.unitFacts(n);
      if (!ts.isSourceFile(n) || f.local !== EMPTY_LOCAL) units.push(f);
      visitFile(n.getSourceFile());
      take(f);
    }
    units.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.local < b.local ? -1 : a.local > b.local ? 1 : 0));
    const ext = [...externals].sort();
    const dataFiles = [...data].sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
    for (const d of dataFiles) files.add(d.fileName);
    const lines = [
      ...units.map((u) => `unit ${u.id} ${u.local}`),
      ...dataFiles.map((d) => `data ${this.relativeFile(d)} ${sha256(d.text)}`),
      ...ext.map((e) => this.packageLine(e)),
    ];
    return { lines, usesRandom, impurities, externals: ext, files, constReads };
  }

  private computeStepHash(step: StepInfo, run: TS.Expression): StepHash {
    const root = skipOuter(run);
    const rootFacts = this.rootFactsOf(root, "step");
    const seen = new Set<TS.Node>([root]);
    const queue: TS.Node[] = [];
    const start: UnitFacts[] = [rootFacts];
    const files = new Set<string>([root.getSourceFile().fileName]);
    // A factory-made step: the factory is a unit like any helper, and each argument of the call
    // is hashed in order (its structure and, through its references, what it names).
    const made: string[] = [];
    if (step.factory) {
      const { call, fn } = step.factory;
      const factoryUnit = unitOf(fn);
      if (factoryUnit) {
        queue.push(factoryUnit);
        made.push(`factory ${unitId(this, factoryUnit)}`);
      }
      files.add(call.getSourceFile().fileName);
      call.arguments.forEach((a, i) => {
        const arg = skipOuter(a);
        const f = arg === root ? rootFacts : this.rootFactsOf(arg, "argument");
        made.push(`arg ${i} ${f.local}`);
        if (f !== rootFacts) start.push(f);
      });
    }
    const c = this.closure(start, queue, seen, files);
    const text = [this.header, `root ${rootFacts.local}`, ...made, ...c.lines].join("\n");
    const base: StepHash = { hash: sha256(text), usesRandom: c.usesRandom, impurities: uniqueImpurities(c.impurities), externals: c.externals, files: [...c.files].sort() };
    const entry: Entry = { base, constReads: c.constReads };
    this.stepHashes.set(step.node, entry);
    return this.withMutations(entry);
  }

  /** A package's hash line: name@version plus its lockfile closure (dependencies, integrity, linked code). */
  private packageLine(external: string): string {
    const at = external.lastIndexOf("@");
    if (external.startsWith("node:") || at <= 0) return `pkg ${external}`;
    return `pkg ${external} ${this.versions.fingerprintOf(external.slice(0, at))}`;
  }

  /**
   * A step hash with the project's mutations of the module-level bindings it reads: each mutation's
   * code counts in the hash (`Config.factor = 4` at the top of any file), and each is an impurity.
   * Worked out on every call: a mutation can be added in any file, not only in those the hash
   * follows, so it is not kept with the hash (which watch mode keeps while its files are unchanged).
   */
  private withMutations(entry: Entry): StepHash {
    const { base, constReads } = entry;
    if (constReads.length === 0) return base;
    const sites: TS.Node[] = [];
    for (const r of constReads) for (const m of this.mutations.sitesOf(this.host, r.decl)) if (!sites.includes(m)) sites.push(m);
    if (sites.length === 0) return base;
    if (entry.mutated && entry.mutated.sites.length === sites.length && entry.mutated.sites.every((s, i) => s === sites[i])) return entry.mutated.hash;
    const units: TS.Node[] = [];
    for (const s of sites) {
      const u = unitOf(s);
      if (u && !units.includes(u)) units.push(u);
    }
    const c = this.closure([], [...units], new Set<TS.Node>(), new Set<string>());
    const files = new Set([...base.files, ...c.files]);
    const hash: StepHash = {
      hash: sha256([base.hash, "mutations", ...c.lines].join("\n")),
      usesRandom: base.usesRandom || c.usesRandom,
      impurities: uniqueImpurities([...base.impurities, ...this.mutatedConsts(constReads)]),
      externals: [...new Set([...base.externals, ...c.externals])].sort(),
      files: [...files].sort(),
    };
    entry.mutated = { sites, hash };
    return hash;
  }

  /** The reads of module-level bindings that project code mutates, as impurities naming where. */
  private mutatedConsts(reads: readonly ConstRead[]): Impurity[] {
    const out: Impurity[] = [];
    for (const r of reads) {
      const at = this.mutations.of(this.host, r.decl);
      if (!at) continue;
      const sf = at.getSourceFile();
      const line = sf.getLineAndCharacterOfPosition(at.getStart(sf)).line + 1;
      const what = ts.isClassDeclaration(r.decl) ? "class" : ts.isFunctionDeclaration(r.decl) ? "function" : "const";
      out.push({ kind: "mutable-state", node: r.node, detail: `module-level ${what} ${r.decl.name?.getText() ?? "?"} (mutated at ${this.relativeFile(sf)}:${line})` });
    }
    return out;
  }

  /** Facts of one declaration unit (or, for a source file, of its side-effect imports). */
  unitFacts(unit: TS.Node): UnitFacts {
    const hit = this.facts.get(unit);
    if (hit) return hit;
    const f = new UnitWalker(this, unit, ts.isSourceFile(unit) ? "imports" : "unit").run();
    this.facts.set(unit, f);
    return f;
  }

  /** Facts of a step's function, or of an argument of a factory call. */
  private rootFactsOf(node: TS.Node, role: "step" | "argument"): UnitFacts {
    const hit = this.rootFacts.get(node);
    if (hit) return hit;
    const f = new UnitWalker(this, node, role).run();
    this.rootFacts.set(node, f);
    return f;
  }

  /** Whether a value of this symbol's type is the DSL's step context (it has the context's `random`). */
  isContextSymbol(sym: TS.Symbol): boolean {
    let hit = this.contextSymbols.get(sym);
    if (hit === undefined) {
      try {
        hit = this.isContextType(this.host.checker.getTypeOfSymbol(sym));
      } catch {
        hit = true; // cannot tell: treat as the context
      }
      this.contextSymbols.set(sym, hit);
    }
    return hit;
  }

  isContextType(type: TS.Type): boolean {
    let hit = this.contextTypes.get(type);
    if (hit === undefined) {
      const t = this.host.checker.getNonNullableType(type);
      const check = (x: TS.Type): boolean => {
        const prop = x.getProperty("random");
        const d = prop?.valueDeclaration ?? prop?.declarations?.[0];
        return !!d && isDslFile(this.host, d.getSourceFile());
      };
      hit = t.isUnionOrIntersection() ? t.types.some(check) : check(t);
      this.contextTypes.set(type, hit);
    }
    return hit;
  }

  relativeFile(sf: TS.SourceFile): string {
    return relative(this.host.root, sf.fileName).split(sep).join("/");
  }
}

const EMPTY_LOCAL = sha256("");

/** The declaration units of a module's top level, in order (what a namespace object or a dynamic import can reach). */
function moduleUnits(sf: TS.SourceFile): TS.Node[] {
  const out: TS.Node[] = [];
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) {
      if (!isTypeOnlyStatement(st)) out.push(...st.declarationList.declarations);
    } else {
      const u = unitOf(st);
      if (u) out.push(u);
    }
  }
  return out;
}

function isJsonFile(sf: TS.SourceFile): boolean {
  return /\.json$/i.test(sf.fileName);
}

/** Each impurity once (a factory's unit contains the step function, so both report its reads). */
function uniqueImpurities(list: readonly Impurity[]): Impurity[] {
  const seen = new Map<TS.Node, Set<ImpurityKind>>();
  return list.filter((i) => {
    const kinds = seen.get(i.node) ?? new Set<ImpurityKind>();
    if (kinds.has(i.kind)) return false;
    seen.set(i.node, kinds.add(i.kind));
    return true;
  });
}

/** The top-level declaration unit that holds `decl`, or undefined when it is type-only. */
export function unitOf(decl: TS.Node): TS.Node | undefined {
  let n: TS.Node = decl;
  while (n.parent && !ts.isSourceFile(n.parent)) n = n.parent;
  if (!n.parent) return undefined;
  if (isTypeOnlyStatement(n)) return undefined;
  if (ts.isVariableStatement(n)) {
    return n.declarationList.declarations.find((d) => d.pos <= decl.pos && decl.end <= d.end) ?? n;
  }
  if (ts.isImportDeclaration(n) || ts.isImportEqualsDeclaration(n) || ts.isExportDeclaration(n)) return undefined;
  return n;
}

function unitId(hasher: Hasher, unit: TS.Node): string {
  const file = hasher.relativeFile(unit.getSourceFile());
  const named = (unit as unknown as { name?: TS.Node }).name;
  let name: string;
  if (named && ts.isIdentifier(named)) name = named.text;
  else if (named && (ts.isObjectBindingPattern(named) || ts.isArrayBindingPattern(named))) name = named.getText();
  else if (ts.isExportAssignment(unit)) name = "default";
  else name = ts.SyntaxKind[unit.kind];
  return `${file}#${name}`;
}

class UnitWalker {
  private readonly out: string[] = [];
  private readonly deps = new Set<TS.Node>();
  private readonly externals = new Set<string>();
  private readonly data = new Set<TS.SourceFile>();
  private readonly reached = new Set<TS.SourceFile>();
  private readonly impurities: Impurity[] = [];
  private readonly constReads: ConstRead[] = [];
  private usesRandom = false;
  private readonly sf: TS.SourceFile;
  private readonly checker: TS.TypeChecker;

  constructor(
    private readonly hasher: Hasher,
    private readonly unit: TS.Node,
    private readonly role: UnitRole,
  ) {
    this.sf = unit.getSourceFile();
    this.checker = hasher.host.checker;
  }

  run(): UnitFacts {
    const u = this.unit;
    if (this.role === "imports") this.sideEffectImports(u as TS.SourceFile);
    else {
      if (this.role === "step") this.stepContextProof(u);
      if (ts.isVariableDeclaration(u) && ts.isVariableDeclarationList(u.parent)) this.out.push(declarationKind(u.parent));
      this.visit(u);
    }
    return {
      id: this.role === "step" ? "<step>" : this.role === "argument" ? "<arg>" : this.role === "imports" ? `${this.hasher.relativeFile(u as TS.SourceFile)}#<imports>` : unitId(this.hasher, u),
      local: sha256(this.out.join(" ")),
      deps: this.deps,
      externals: this.externals,
      data: this.data,
      usesRandom: this.usesRandom,
      impurities: this.impurities,
      constReads: this.constReads,
    };
  }

  private skip(node: TS.Node): boolean {
    const k = node.kind;
    if (k === ts.SyntaxKind.ExpressionWithTypeArguments) {
      const p = node.parent;
      return !!p && ts.isHeritageClause(p) && p.token === ts.SyntaxKind.ImplementsKeyword;
    }
    if (ts.isTypeNode(node)) return true;
    switch (k) {
      case ts.SyntaxKind.TypeParameter:
      case ts.SyntaxKind.InterfaceDeclaration:
      case ts.SyntaxKind.TypeAliasDeclaration:
      case ts.SyntaxKind.EmptyStatement:
        return true;
      case ts.SyntaxKind.HeritageClause:
        return (node as TS.HeritageClause).token === ts.SyntaxKind.ImplementsKeyword;
      case ts.SyntaxKind.QuestionToken:
      case ts.SyntaxKind.ExclamationToken: {
        const p = node.parent;
        return !!p && (ts.isParameter(p) || ts.isPropertyDeclaration(p) || ts.isVariableDeclaration(p) || ts.isMethodDeclaration(p));
      }
      case ts.SyntaxKind.Parameter: {
        const n = (node as TS.ParameterDeclaration).name;
        return ts.isIdentifier(n) && n.text === "this";
      }
      case ts.SyntaxKind.ImportDeclaration:
        return !!(node as TS.ImportDeclaration).importClause?.isTypeOnly;
      case ts.SyntaxKind.FunctionDeclaration:
      case ts.SyntaxKind.MethodDeclaration:
      case ts.SyntaxKind.Constructor:
        return !(node as TS.FunctionLikeDeclarationBase).body; // overload signatures
      case ts.SyntaxKind.PropertyDeclaration:
        return !!ts.getModifiers(node as TS.PropertyDeclaration)?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
      case ts.SyntaxKind.PublicKeyword:
      case ts.SyntaxKind.PrivateKeyword:
      case ts.SyntaxKind.ProtectedKeyword:
        return true; // type-only, except on a constructor parameter (marked as a parameter property in visit)
      default:
        return isTypeOnlyModifier(k) && !!node.parent && ts.canHaveModifiers(node.parent) && !!ts.getModifiers(node.parent)?.includes(node as TS.Modifier);
    }
  }

  private visit(node: TS.Node): void {
    if (this.skip(node)) return;
    const out = this.out;
    switch (node.kind) {
      case ts.SyntaxKind.ParenthesizedExpression:
      case ts.SyntaxKind.AsExpression:
      case ts.SyntaxKind.SatisfiesExpression:
      case ts.SyntaxKind.NonNullExpression:
      case ts.SyntaxKind.TypeAssertionExpression:
      case ts.SyntaxKind.ExpressionWithTypeArguments:
        if (!(node.parent && ts.isHeritageClause(node.parent))) {
          this.visit((node as TS.ParenthesizedExpression).expression);
          return;
        }
        break;
      case ts.SyntaxKind.Identifier: {
        const id = node as TS.Identifier;
        out.push(isPropertyNamePosition(id) ? `k:${id.text}` : `i:${id.text}`);
        if (!isDeclarationName(id) && !isPropertyNamePosition(id)) {
          const sym = this.reference(id);
          if (sym && sym.flags & ts.SymbolFlags.Variable && !this.usesRandom && this.hasher.isContextSymbol(sym)) this.contextUse(id);
        }
        return;
      }
      case ts.SyntaxKind.VariableDeclarationList:
        out.push(declarationKind(node as TS.VariableDeclarationList));
        break;
      case ts.SyntaxKind.Parameter: {
        // `constructor(readonly x)` (or public/private/protected/override) creates a property.
        const mods = ts.getModifiers(node as TS.ParameterDeclaration);
        if (mods?.some((m) => PARAMETER_PROPERTY_MODIFIERS.has(m.kind))) out.push("param-property");
        break;
      }
      case ts.SyntaxKind.PrivateIdentifier:
        out.push(`p:${(node as TS.PrivateIdentifier).text}`);
        return;
      case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
        if (isTaggedTemplatePart(node)) {
          out.push(`traw:${JSON.stringify(rawTemplateText(node as TS.TemplateLiteralLikeNode, this.sf))}`);
          return;
        }
        out.push(`s:${JSON.stringify((node as TS.StringLiteral).text)}`);
        return;
      case ts.SyntaxKind.StringLiteral:
        out.push(`${isPropertyNamePosition(node) ? "k" : "s"}:${JSON.stringify((node as TS.StringLiteral).text)}`);
        return;
      case ts.SyntaxKind.NumericLiteral: {
        const v = numericText((node as TS.NumericLiteral).text);
        out.push(isPropertyNamePosition(node) ? `k:${v}` : `n:${v}`);
        return;
      }
      case ts.SyntaxKind.BigIntLiteral: {
        const t = (node as TS.BigIntLiteral).text.replace(/_/g, "").replace(/n$/, "");
        let v: string;
        try {
          v = BigInt(t).toString();
        } catch {
          v = t;
        }
        out.push(`b:${v}`);
        return;
      }
      case ts.SyntaxKind.TemplateHead:
      case ts.SyntaxKind.TemplateMiddle:
      case ts.SyntaxKind.TemplateTail:
        // A tag sees the raw text (String.raw`\d` is two characters), so a tagged template hashes it.
        out.push(isTaggedTemplatePart(node) ? `traw:${JSON.stringify(rawTemplateText(node as TS.TemplateLiteralLikeNode, this.sf))}` : `t:${JSON.stringify((node as TS.TemplateLiteralLikeNode).text)}`);
        return;
      case ts.SyntaxKind.RegularExpressionLiteral:
        out.push(`r:${(node as TS.RegularExpressionLiteral).text}`);
        return;
      case ts.SyntaxKind.PrefixUnaryExpression:
      case ts.SyntaxKind.PostfixUnaryExpression: {
        const u = node as TS.PrefixUnaryExpression;
        out.push(`(${ts.SyntaxKind[node.kind]} ${ts.SyntaxKind[u.operator]}`);
        this.visit(u.operand);
        out.push(")");
        return;
      }
      case ts.SyntaxKind.PropertyAccessExpression:
        this.propertyAccessFacts(node as TS.PropertyAccessExpression);
        break;
      case ts.SyntaxKind.ElementAccessExpression: {
        const a = node as TS.ElementAccessExpression;
        const key = ts.isStringLiteralLike(a.argumentExpression) ? a.argumentExpression.text : undefined;
        if (key === "random") this.usesRandom = true;
        this.globalMember(a, a.expression, key);
        break;
      }
      case ts.SyntaxKind.BindingElement: {
        const b = node as TS.BindingElement;
        const key = b.propertyName ?? b.name;
        const name = ts.isIdentifier(key) || ts.isStringLiteralLike(key) ? key.text : undefined;
        if (name === "random") this.usesRandom = true;
        // `const { random } = Math`, `const { env } = process`, `const { ...all } = process`.
        const decl = b.parent.parent;
        if (ts.isObjectBindingPattern(b.parent) && ts.isVariableDeclaration(decl) && decl.initializer) {
          this.globalMember(b, decl.initializer, b.dotDotDotToken ? undefined : name);
        }
        break;
      }
      case ts.SyntaxKind.NewExpression: {
        const n = node as TS.NewExpression;
        if (!n.arguments?.length && this.globalOf(n.expression) === "Date") this.impure("date", n, "new Date()");
        break;
      }
      case ts.SyntaxKind.CallExpression:
        this.callFacts(node as TS.CallExpression);
        break;
      default:
        break;
    }
    out.push(`(${ts.SyntaxKind[node.kind]}`);
    ts.forEachChild(
      node,
      (child) => this.visit(child),
      (list) => {
        const kept = list.filter((c) => !this.skip(c));
        if (list.length > 0 && kept.length === 0) return;
        out.push(`[${kept.length}`);
        for (const c of kept) this.visit(c);
        out.push("]");
      },
    );
    out.push(")");
  }

  private impure(kind: ImpurityKind, node: TS.Node, detail: string): void {
    this.impurities.push({ kind, node, detail });
  }

  private isGlobal(id: TS.Identifier): boolean {
    try {
      const sym = this.checker.getSymbolAtLocation(id);
      if (!sym) return true; // unresolved: treat as the global
      const decls = sym.declarations ?? [];
      return decls.length === 0 || decls.every((d) => d.getSourceFile().isDeclarationFile);
    } catch {
      return false;
    }
  }

  private propertyAccessFacts(p: TS.PropertyAccessExpression): void {
    const name = p.name.text;
    if (!GLOBAL_MEMBERS.has(name)) return;
    if (name === "random" && this.globalOf(p.expression) !== "Math") this.usesRandom = true;
    else this.globalMember(p, p.expression, name);
  }

  /**
   * A member of Math, process or Date read at `node` (`Math.random`, `Math?.random`,
   * `globalThis.process["env"]`, `const { env } = process`, through const aliases): an impurity
   * when it is the impure member, or when the key is computed (undefined) and could be.
   */
  private globalMember(node: TS.Node, object: TS.Expression, key: string | undefined): void {
    if (key !== undefined && !GLOBAL_MEMBERS.has(key)) return;
    const g = this.globalOf(object);
    if (!g) return;
    const impure = IMPURE_MEMBER[g];
    if (key !== undefined && key !== impure.member) return;
    this.impure(impure.kind, node, key === undefined ? `${g}[…] (a computed member of ${g})` : impure.detail);
  }

  /** Which of Math, process and Date an expression is (the global, `globalThis.X`, a const alias, `import process from "node:process"`). */
  private globalOf(expr: TS.Expression, depth = 0): GlobalName | undefined {
    const e = skipOuter(expr);
    if (ts.isIdentifier(e)) {
      if (isGlobalName(e.text) && this.isGlobal(e)) return e.text;
      if (depth > 3) return undefined;
      let sym: TS.Symbol | undefined;
      try {
        sym = this.checker.getSymbolAtLocation(e);
      } catch {
        return undefined;
      }
      const d = sym?.declarations?.[0];
      if (!sym || !d) return undefined;
      if (sym.flags & ts.SymbolFlags.Alias) {
        const spec = moduleSpecifierOf(d);
        return (spec === "process" || spec === "node:process") && (ts.isImportClause(d) || ts.isNamespaceImport(d)) ? "process" : undefined;
      }
      if (ts.isVariableDeclaration(d) && d.initializer && ts.isIdentifier(d.name) && ts.isVariableDeclarationList(d.parent) && d.parent.flags & ts.NodeFlags.Const) {
        return this.globalOf(d.initializer, depth + 1);
      }
      return undefined;
    }
    if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) {
      const name = ts.isPropertyAccessExpression(e) ? e.name.text : ts.isStringLiteralLike(e.argumentExpression) ? e.argumentExpression.text : undefined;
      const obj = skipOuter(e.expression);
      if (name && isGlobalName(name) && ts.isIdentifier(obj) && GLOBAL_OBJECTS.has(obj.text) && this.isGlobal(obj)) return name;
    }
    return undefined;
  }

  /**
   * The step's function: its context parameter must be typed as the DSL's context for the walk to
   * see every use of it; a function the compiler cannot see (a call's result) or a context typed
   * otherwise (`any`) may call ctx.random(): assumed to.
   */
  private stepContextProof(root: TS.Node): void {
    let fn: TS.Node | undefined = root;
    if (ts.isIdentifier(root) || ts.isPropertyAccessExpression(root)) {
      try {
        let sym = this.checker.getSymbolAtLocation(ts.isPropertyAccessExpression(root) ? root.name : root);
        if (sym && sym.flags & ts.SymbolFlags.Alias) sym = this.checker.getAliasedSymbol(sym);
        const d = sym?.valueDeclaration;
        fn = d && ts.isVariableDeclaration(d) && d.initializer ? skipOuter(d.initializer) : d;
      } catch {
        fn = undefined;
      }
    }
    if (!fn || !(ts.isArrowFunction(fn) || ts.isFunctionExpression(fn) || ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn))) {
      this.usesRandom = true;
      return;
    }
    if (!isProjectFile(this.hasher.host, fn.getSourceFile())) {
      this.usesRandom = true;
      return;
    }
    const p = fn.parameters[1];
    if (!p) return;
    if (p.dotDotDotToken) {
      this.usesRandom = true;
      return;
    }
    if (ts.isIdentifier(p.name)) {
      const sym = this.checker.getSymbolAtLocation(p.name);
      if (!sym || !this.hasher.isContextSymbol(sym)) this.usesRandom = true;
    } else if (ts.isObjectBindingPattern(p.name)) {
      if (p.name.elements.some((e) => e.dotDotDotToken || (e.propertyName && !ts.isIdentifier(e.propertyName)))) this.usesRandom = true;
    } else this.usesRandom = true;
  }

  /**
   * A use of a value typed as the step context. Reading a member other than random, handing it to
   * a project function whose parameter is typed as the context (whose code the walk follows), or
   * naming it with a const (whose uses are checked the same way) keeps the proof; anything else
   * (a package call, a spread, storing it, a computed member) may reach ctx.random().
   */
  private contextUse(id: TS.Identifier): void {
    let e: TS.Node = id;
    while (e.parent && (ts.isParenthesizedExpression(e.parent) || ts.isAsExpression(e.parent) || ts.isNonNullExpression(e.parent) || ts.isSatisfiesExpression(e.parent))) e = e.parent;
    const p = e.parent;
    if (!p) return;
    if (ts.isPropertyAccessExpression(p) && p.expression === e) {
      if (p.name.text === "random") this.usesRandom = true;
      return;
    }
    if (ts.isElementAccessExpression(p) && p.expression === e) {
      if (!ts.isStringLiteralLike(p.argumentExpression) || p.argumentExpression.text === "random") this.usesRandom = true;
      return;
    }
    if ((ts.isCallExpression(p) || ts.isNewExpression(p)) && p.arguments?.includes(e as TS.Expression)) {
      const callee = skipOuter(p.expression);
      let ok = this.resolvesToProject(callee);
      if (ok) {
        const ct = this.checker.getContextualType(e as TS.Expression);
        ok = !!ct && this.hasher.isContextType(ct);
      }
      if (!ok) this.usesRandom = true;
      return;
    }
    if (ts.isVariableDeclaration(p) && p.initializer === e) {
      if (ts.isIdentifier(p.name)) return;
      if (ts.isObjectBindingPattern(p.name) && !p.name.elements.some((b) => b.dotDotDotToken || (b.propertyName && !ts.isIdentifier(b.propertyName)))) return;
    }
    if (ts.isExpressionStatement(p)) return;
    this.usesRandom = true;
  }

  /** `import "./setup.js"` / `import "pkg"` in a file: what loading it runs. */
  private sideEffectImports(sf: TS.SourceFile): void {
    for (const st of sf.statements) {
      if (ts.isImportDeclaration(st) && !st.importClause) {
        this.out.push(`import ${JSON.stringify((st.moduleSpecifier as TS.StringLiteral).text)}`);
        this.reachSpecifier(st.moduleSpecifier);
      }
    }
  }

  /** A module a step can reach as a whole (a namespace object used by a computed key, a dynamic import, a side-effect import). */
  private reachSpecifier(spec: TS.Expression): void {
    if (!ts.isStringLiteralLike(spec)) return;
    const pkg = packageNameOf(spec.text);
    if (pkg) {
      this.addPackage(pkg);
      return;
    }
    let target: TS.Symbol | undefined;
    try {
      target = this.checker.getSymbolAtLocation(spec);
    } catch {
      target = undefined;
    }
    const sf = target?.valueDeclaration;
    if (sf && ts.isSourceFile(sf)) this.reachModule(sf);
  }

  private reachModule(sf: TS.SourceFile): void {
    if (this.reached.has(sf)) return;
    this.reached.add(sf);
    if (isJsonFile(sf)) {
      this.data.add(sf);
      return;
    }
    if (!this.isCodeFile(sf)) {
      const pkg = packageOfPath(sf.fileName);
      if (pkg && pkg !== "node" && pkg !== "typescript") this.externals.add(this.hasher.versions.versionOf(pkg));
      return;
    }
    for (const u of moduleUnits(sf)) {
      if (u.getSourceFile() === this.sf && u.pos <= this.unit.pos && this.unit.end <= u.end) continue; // holds this unit
      this.deps.add(u);
    }
    for (const st of sf.statements) {
      if (ts.isExportDeclaration(st) && st.moduleSpecifier && !st.isTypeOnly) this.reachSpecifier(st.moduleSpecifier);
      else if (ts.isImportDeclaration(st) && !st.importClause) this.reachSpecifier(st.moduleSpecifier);
    }
  }

  private addPackage(pkg: string): void {
    if (pkg.startsWith("node:") || isBuiltin(pkg)) this.externals.add(`node:${pkg.replace(/^node:/, "")}`);
    else this.externals.add(this.hasher.versions.versionOf(pkg));
  }

  private callFacts(c: TS.CallExpression): void {
    const callee = skipOuter(c.expression);
    if (callee.kind === ts.SyntaxKind.ImportKeyword) {
      // A static specifier: the module counts like a namespace import used as a whole.
      const arg = c.arguments[0];
      if (!arg || !ts.isStringLiteralLike(arg)) this.impure("dynamic-import", c, "import() of a computed specifier");
      else this.reachSpecifier(arg);
      return;
    }
    if (ts.isIdentifier(callee) && callee.text === "require" && this.isGlobal(callee)) this.impure("commonjs", callee, "require");
    else if (this.globalOf(callee) === "Date") this.impure("date", c, "Date()");
  }

  private resolvesToProject(callee: TS.Expression): boolean {
    const id = ts.isPropertyAccessExpression(callee) ? callee.name : callee;
    try {
      let sym = this.checker.getSymbolAtLocation(id);
      if (sym && sym.flags & ts.SymbolFlags.Alias) sym = this.checker.getAliasedSymbol(sym);
      const d = sym?.valueDeclaration ?? sym?.declarations?.[0];
      return !!d && isProjectFile(this.hasher.host, d.getSourceFile());
    } catch {
      return false;
    }
  }

  /** Follows a reference; returns its symbol (for the context check). */
  private reference(id: TS.Identifier): TS.Symbol | undefined {
    const checker = this.checker;
    let sym: TS.Symbol | undefined;
    try {
      sym = ts.isShorthandPropertyAssignment(id.parent) && id.parent.name === id
        ? checker.getShorthandAssignmentValueSymbol(id.parent)
        : checker.getSymbolAtLocation(id);
    } catch {
      return undefined;
    }
    if (!sym) {
      if (["__dirname", "__filename", "module", "exports"].includes(id.text) && !ts.isPropertyAccessExpression(id.parent)) {
        this.impure("commonjs", id, id.text);
      }
      return undefined;
    }
    this.referenceSymbol(id, sym);
    return sym;
  }

  private referenceSymbol(id: TS.Identifier, sym: TS.Symbol): void {
    const checker = this.checker;
    if (sym.flags & ts.SymbolFlags.Alias) {
      const aliasDecl = sym.declarations?.[0];
      const spec = aliasDecl ? moduleSpecifierOf(aliasDecl) : undefined;
      let target: TS.Symbol | undefined;
      try {
        target = checker.getAliasedSymbol(sym);
      } catch {
        target = undefined;
      }
      // The DSL's builders (step, source, ...) only make nodes: a factory's step(...) call
      // contributes its shape, not the DSL's code or version.
      if (target && isDslFunctionSymbol(this.hasher.host, target)) return;
      const decls = target?.declarations ?? [];
      // A namespace object (`import * as ops`) used other than as `ops.name`: every member can be reached.
      const moduleFile = target && target.flags & ts.SymbolFlags.ValueModule ? target.valueDeclaration : undefined;
      if (moduleFile && ts.isSourceFile(moduleFile) && !(ts.isPropertyAccessExpression(id.parent) && id.parent.expression === id)) {
        this.reachModule(moduleFile);
      }
      // A package re-exported by project modules (`export { x } from "pkg"`), typed by a package's or a local `declare module`'s declarations.
      this.packagesAlongAliases(sym, decls);
      const projectDecls = decls.filter((d) => this.isCodeFile(d.getSourceFile()));
      if (projectDecls.length) {
        for (const d of projectDecls) this.addDep(d);
        this.mutableCheck(id, projectDecls);
        return;
      }
      const pkg = spec ? packageNameOf(spec) : undefined;
      if (pkg) {
        this.addPackage(pkg);
        const base = pkg.replace(/^node:/, "");
        if (base === "process" && (target?.name === "env" || (ts.isPropertyAccessExpression(id.parent) && id.parent.name.text === "env"))) {
          this.impure("env", id, "process.env");
        }
        return;
      }
      for (const d of decls) this.externalDecl(d);
      return;
    }
    const decls = sym.declarations ?? [];
    const projectDecls = decls.filter((d) => this.isCodeFile(d.getSourceFile()));
    if (projectDecls.length) {
      for (const d of projectDecls) this.addDep(d);
      this.mutableCheck(id, projectDecls);
      return;
    }
    if (["__dirname", "__filename"].includes(id.text) && this.isGlobal(id)) this.impure("commonjs", id, id.text);
    if (decls[0]) this.externalDecl(decls[0]);
  }

  /** Code the hash follows: not a declaration file, not a package. */
  private isCodeFile(sf: TS.SourceFile): boolean {
    return !sf.isDeclarationFile && !/[\\/]node_modules[\\/]/.test(sf.fileName);
  }

  /**
   * The packages an alias passes through on its way to its declaration: a project module's
   * `export … from "pkg"`, and a declaration inside `declare module "pkg"` (a local typing).
   */
  private packagesAlongAliases(sym: TS.Symbol, finalDecls: readonly TS.Declaration[]): void {
    let s: TS.Symbol | undefined = sym;
    for (let hops = 0; s && s.flags & ts.SymbolFlags.Alias && hops < 16; hops++) {
      const d = s.declarations?.[0];
      const spec = d ? moduleSpecifierOf(d) : undefined;
      const pkg = spec ? packageNameOf(spec) : undefined;
      if (pkg && hops > 0) this.addPackage(pkg); // hop 0 is the step's own import, handled by the caller
      try {
        s = this.checker.getImmediateAliasedSymbol(s);
      } catch {
        s = undefined;
      }
    }
    for (const d of finalDecls) {
      for (let n: TS.Node | undefined = d.parent; n; n = n.parent) {
        if (ts.isModuleDeclaration(n) && ts.isStringLiteral(n.name)) {
          const pkg = packageNameOf(n.name.text);
          if (pkg) this.addPackage(pkg);
          break;
        }
      }
    }
  }

  private externalDecl(d: TS.Declaration): void {
    const file = d.getSourceFile().fileName;
    if (isLibFile(file)) return;
    // A data field of a package's interface or type literal (`s.n` for `s: Shape`) runs none of its code.
    if (ts.isPropertySignature(d)) return;
    const pkg = packageOfPath(file);
    if (!pkg || pkg === "node" || pkg === "typescript") return;
    this.externals.add(this.hasher.versions.versionOf(pkg));
  }

  private inside(d: TS.Node): boolean {
    return d.getSourceFile() === this.sf && d.pos >= this.unit.pos && d.end <= this.unit.end;
  }

  private addDep(d: TS.Node): void {
    const sf = d.getSourceFile();
    if (isJsonFile(sf)) {
      this.data.add(sf); // a JSON module: its whole text counts
      return;
    }
    if (this.inside(d)) return;
    let unit = unitOf(d);
    if (!unit) return;
    if (unit.getSourceFile() === this.sf && unit.pos <= this.unit.pos && this.unit.end <= unit.end) {
      // The step's own enclosing declaration: depend on just the declaration referenced.
      if (ts.isVariableDeclaration(d) || ts.isFunctionDeclaration(d) || ts.isClassDeclaration(d) || ts.isEnumDeclaration(d)) unit = d;
      else return;
      if (unit === this.unit || (unit.pos <= this.unit.pos && this.unit.end <= unit.end)) return;
    }
    this.deps.add(unit);
  }

  /**
   * A reference to a module-level `let`/`var`: the step closes over mutable state. A module-level
   * const is noted as a read; it is mutable state if project code mutates it (decided per step
   * hash against the project's mutations, which may sit in any file).
   */
  private mutableCheck(id: TS.Identifier, decls: readonly TS.Declaration[]): void {
    for (const d of decls) {
      if ((ts.isClassDeclaration(d) || ts.isFunctionDeclaration(d)) && ts.isSourceFile(d.parent)) {
        this.constReads.push({ node: id, decl: d }); // static fields, properties: mutable if project code assigns them
        continue;
      }
      if (!ts.isVariableDeclaration(d) || !ts.isVariableDeclarationList(d.parent)) continue;
      const stmt = d.parent.parent;
      if (!stmt || !ts.isVariableStatement(stmt) || !ts.isSourceFile(stmt.parent)) continue;
      const scoped = d.parent.flags & ts.NodeFlags.BlockScoped;
      if (scoped === ts.NodeFlags.Const) {
        this.constReads.push({ node: id, decl: d });
      } else if (!(scoped & (ts.NodeFlags.Const | ts.NodeFlags.Using))) {
        const kw = d.parent.flags & ts.NodeFlags.Let ? "let" : "var";
        this.impure("mutable-state", id, `module-level ${kw} ${id.text}`);
      }
    }
  }
}

function moduleSpecifierOf(aliasDecl: TS.Declaration): string | undefined {
  let n: TS.Node | undefined = aliasDecl;
  while (n && !ts.isImportDeclaration(n) && !ts.isExportDeclaration(n) && !ts.isImportEqualsDeclaration(n)) n = n.parent;
  if (!n) return undefined;
  if (ts.isImportEqualsDeclaration(n)) {
    const r = n.moduleReference;
    return ts.isExternalModuleReference(r) && ts.isStringLiteral(r.expression) ? r.expression.text : undefined;
  }
  const spec = n.moduleSpecifier;
  return spec && ts.isStringLiteral(spec) ? spec.text : undefined;
}

const BUILTINS = new Set([
  "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto", "dgram", "diagnostics_channel",
  "dns", "domain", "events", "fs", "http", "http2", "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process",
  "punycode", "querystring", "readline", "repl", "stream", "string_decoder", "sys", "timers", "tls", "trace_events", "tty", "url",
  "util", "v8", "vm", "wasi", "worker_threads", "zlib",
]);
function isBuiltin(name: string): boolean {
  return BUILTINS.has(name.split("/")[0]!);
}

type GlobalName = "Math" | "process" | "Date";
const GLOBAL_OBJECTS = new Set(["globalThis", "global", "window", "self"]);
const isGlobalName = (n: string): n is GlobalName => n === "Math" || n === "process" || n === "Date";
const IMPURE_MEMBER: Readonly<Record<GlobalName, { member: string; kind: ImpurityKind; detail: string }>> = {
  Math: { member: "random", kind: "math-random", detail: "Math.random()" },
  process: { member: "env", kind: "env", detail: "process.env" },
  Date: { member: "now", kind: "date", detail: "Date.now()" },
};
const GLOBAL_MEMBERS = new Set(["random", "env", "now"]);

let parameterPropertyModifiers: ReadonlySet<TS.SyntaxKind> | undefined;
const PARAMETER_PROPERTY_MODIFIERS = {
  has(kind: TS.SyntaxKind): boolean {
    parameterPropertyModifiers ??= new Set([ts.SyntaxKind.ReadonlyKeyword, ts.SyntaxKind.PublicKeyword, ts.SyntaxKind.PrivateKeyword, ts.SyntaxKind.ProtectedKeyword, ts.SyntaxKind.OverrideKeyword]);
    return parameterPropertyModifiers.has(kind);
  },
};

function declarationKind(list: TS.VariableDeclarationList): string {
  const f = list.flags & ts.NodeFlags.BlockScoped;
  if (f === ts.NodeFlags.AwaitUsing) return "await-using";
  if (f === ts.NodeFlags.Using) return "using";
  if (f === ts.NodeFlags.Const) return "const";
  if (f === ts.NodeFlags.Let) return "let";
  return "var";
}

function isTaggedTemplatePart(node: TS.Node): boolean {
  let n = node.parent;
  if (n && ts.isTemplateSpan(n)) n = n.parent;
  if (n && ts.isTemplateExpression(n)) n = n.parent;
  return !!n && ts.isTaggedTemplateExpression(n);
}

/** A template part's text as written, without its delimiters (`, ${, }). */
function rawTemplateText(node: TS.TemplateLiteralLikeNode, sf: TS.SourceFile): string {
  if (node.rawText !== undefined) return node.rawText;
  const text = (node as TS.Node).getText(sf);
  const open = 1;
  const close = node.kind === ts.SyntaxKind.TemplateHead || node.kind === ts.SyntaxKind.TemplateMiddle ? 2 : 1;
  return text.slice(open, text.length - close);
}
