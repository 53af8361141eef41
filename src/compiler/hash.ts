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
import { isDslFunctionSymbol, isProjectFile, type AnalysisHost, type StepInfo } from "./discover.js";
import { packageNameOf, packageOfPath, packageVersions, type PackageVersions } from "./lockfile.js";
import { skipOuter } from "./evaluate.js";
import { ConstMutations } from "./const-mutations.js";

/** Bump when the normalisation below changes: every hash changes with it. */
export const HASH_SCHEMA_VERSION = 2;

export type ImpurityKind = "date" | "math-random" | "env" | "mutable-state" | "commonjs" | "dynamic-import";

export interface Impurity {
  readonly kind: ImpurityKind;
  readonly node: TS.Node;
  /** What was read, e.g. "Date.now()", "process.env", "let counter". */
  readonly detail: string;
}

/** A read of a module-level const of the project (mutable state if project code mutates it). */
export interface ConstRead {
  readonly node: TS.Identifier;
  readonly decl: TS.VariableDeclaration;
}

/** What one declaration (or a step's function, or a factory call's argument) contributes, before following its references. */
export interface UnitFacts {
  readonly id: string;
  readonly local: string;
  readonly deps: ReadonlySet<TS.Node>;
  readonly externals: ReadonlySet<string>;
  readonly usesRandom: boolean;
  readonly impurities: readonly Impurity[];
  readonly constReads: readonly ConstRead[];
}

/** How a unit is walked: a project declaration, a step's run function, or an argument of a factory call. */
type UnitRole = "unit" | "step" | "argument";

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

export class Hasher {
  private readonly facts = new Map<TS.Node, UnitFacts>();
  /** Facts of step functions and factory-call arguments (ids differ from a declaration's). */
  private readonly rootFacts = new Map<TS.Node, UnitFacts>();
  private readonly stepHashes = new Map<TS.Node, { base: StepHash; constReads: readonly ConstRead[] }>();
  private readonly mutations = new ConstMutations();
  private readonly failed = new Map<TS.Node, unknown>();
  readonly versions: PackageVersions;
  private readonly header: string;

  constructor(public host: AnalysisHost, versions?: PackageVersions) {
    this.versions = versions ?? packageVersions(host.root);
    this.header = `crystallize-structural-hash/${HASH_SCHEMA_VERSION}/typescript@${ts.version}`;
  }

  /**
   * Moves to a new program (watch mode): keeps what was learned about declarations in files
   * that did not change and do not import changed files; forgets the rest and every step hash.
   */
  retarget(host: AnalysisHost, affectedFiles: ReadonlySet<string>): void {
    this.host = host;
    for (const map of [this.facts, this.rootFacts]) {
      for (const unit of [...map.keys()]) if (affectedFiles.has(unit.getSourceFile().fileName)) map.delete(unit);
    }
    this.mutations.forget(affectedFiles);
    this.failed.clear();
    for (const [node, h] of [...this.stepHashes]) {
      if (h.base.files.some((f) => affectedFiles.has(f))) this.stepHashes.delete(node);
    }
  }

  /**
   * The structural hash of a step (its function, transitively); undefined for a step the hasher
   * cannot read, or one it failed on (a bug: see failures(); the step's cache key then falls back
   * to the runtime's hash, and the other steps are unaffected).
   */
  hashStep(step: StepInfo): StepHash | undefined {
    if (!step.run || this.failed.has(step.node)) return undefined;
    const cached = this.stepHashes.get(step.node);
    if (cached) return this.withMutations(cached);
    try {
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

  private computeStepHash(step: StepInfo, run: TS.Expression): StepHash {
    const root = skipOuter(run);
    const rootFacts = this.rootFactsOf(root, "step");
    const seen = new Set<TS.Node>([root]);
    const queue: TS.Node[] = [];
    const units: UnitFacts[] = [];
    const externals = new Set<string>();
    const impurities: Impurity[] = [];
    const constReads: ConstRead[] = [];
    const files = new Set<string>([root.getSourceFile().fileName]);
    let usesRandom = false;
    const take = (f: UnitFacts) => {
      for (const d of f.deps) if (!seen.has(d)) queue.push(d);
      for (const x of f.externals) externals.add(x);
      impurities.push(...f.impurities);
      constReads.push(...f.constReads);
      usesRandom ||= f.usesRandom;
    };
    take(rootFacts);
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
        if (f !== rootFacts) take(f);
      });
    }
    while (queue.length) {
      const n = queue.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      const f = this.unitFacts(n);
      units.push(f);
      files.add(n.getSourceFile().fileName);
      take(f);
    }
    units.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.local < b.local ? -1 : a.local > b.local ? 1 : 0));
    const ext = [...externals].sort();
    const text = [this.header, `root ${rootFacts.local}`, ...made, ...units.map((u) => `unit ${u.id} ${u.local}`), ...ext.map((e) => this.packageLine(e))].join("\n");
    const base: StepHash = { hash: sha256(text), usesRandom, impurities: uniqueImpurities(impurities), externals: ext, files: [...files].sort() };
    const entry = { base, constReads };
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
   * A step hash with the impurities of the module-level consts it reads that the project mutates.
   * Worked out on every call: a mutation can be added in any file, not only in those the hash
   * follows, so it is not kept with the hash (which watch mode keeps while its files are unchanged).
   */
  private withMutations(entry: { base: StepHash; constReads: readonly ConstRead[] }): StepHash {
    const { base, constReads } = entry;
    if (constReads.length === 0) return base;
    return { ...base, impurities: uniqueImpurities([...base.impurities, ...this.mutatedConsts(constReads)]) };
  }

  /** The reads of module-level consts that project code mutates, as impurities naming where. */
  private mutatedConsts(reads: readonly ConstRead[]): Impurity[] {
    const out: Impurity[] = [];
    for (const r of reads) {
      const at = this.mutations.of(this.host, r.decl);
      if (!at) continue;
      const sf = at.getSourceFile();
      const line = sf.getLineAndCharacterOfPosition(at.getStart(sf)).line + 1;
      out.push({ kind: "mutable-state", node: r.node, detail: `module-level const ${r.decl.name.getText()} (mutated at ${this.relativeFile(sf)}:${line})` });
    }
    return out;
  }

  /** Facts of one declaration unit. */
  unitFacts(unit: TS.Node): UnitFacts {
    const hit = this.facts.get(unit);
    if (hit) return hit;
    const f = new UnitWalker(this, unit, "unit").run();
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

  relativeFile(sf: TS.SourceFile): string {
    return relative(this.host.root, sf.fileName).split(sep).join("/");
  }
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
  private readonly impurities: Impurity[] = [];
  private readonly constReads: ConstRead[] = [];
  private usesRandom = false;
  private readonly sf: TS.SourceFile;
  private readonly checker: TS.TypeChecker;
  private readonly ctxName: string | undefined;

  constructor(
    private readonly hasher: Hasher,
    private readonly unit: TS.Node,
    private readonly role: UnitRole,
  ) {
    this.sf = unit.getSourceFile();
    this.checker = hasher.host.checker;
    if (role === "step" && (ts.isArrowFunction(unit) || ts.isFunctionExpression(unit))) {
      const p = unit.parameters[1];
      if (p && ts.isIdentifier(p.name)) this.ctxName = p.name.text;
    }
  }

  run(): UnitFacts {
    const u = this.unit;
    if (ts.isVariableDeclaration(u) && ts.isVariableDeclarationList(u.parent)) {
      this.out.push(u.parent.flags & ts.NodeFlags.Const ? "const" : u.parent.flags & ts.NodeFlags.Let ? "let" : "var");
    }
    this.visit(u);
    return {
      id: this.role === "step" ? "<step>" : this.role === "argument" ? "<arg>" : unitId(this.hasher, u),
      local: sha256(this.out.join(" ")),
      deps: this.deps,
      externals: this.externals,
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
        if (!isDeclarationName(id) && !isPropertyNamePosition(id)) this.reference(id);
        return;
      }
      case ts.SyntaxKind.PrivateIdentifier:
        out.push(`p:${(node as TS.PrivateIdentifier).text}`);
        return;
      case ts.SyntaxKind.StringLiteral:
      case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
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
        out.push(`t:${JSON.stringify((node as TS.TemplateLiteralLikeNode).text)}`);
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
        if (ts.isStringLiteralLike(a.argumentExpression) && a.argumentExpression.text === "random") this.usesRandom = true;
        break;
      }
      case ts.SyntaxKind.BindingElement: {
        const b = node as TS.BindingElement;
        const key = b.propertyName ?? b.name;
        if (ts.isIdentifier(key) && key.text === "random") this.usesRandom = true;
        break;
      }
      case ts.SyntaxKind.NewExpression: {
        const n = node as TS.NewExpression;
        if (ts.isIdentifier(n.expression) && n.expression.text === "Date" && !n.arguments?.length && this.isGlobal(n.expression)) {
          this.impure("date", n, "new Date()");
        }
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
    const obj = skipOuter(p.expression);
    if (name === "random") {
      if (ts.isIdentifier(obj) && obj.text === "Math" && this.isGlobal(obj)) this.impure("math-random", p, "Math.random()");
      else this.usesRandom = true;
    } else if (name === "now" && ts.isIdentifier(obj) && obj.text === "Date" && this.isGlobal(obj)) {
      this.impure("date", p, "Date.now()");
    } else if (name === "env" && ts.isIdentifier(obj) && obj.text === "process" && this.isGlobal(obj)) {
      this.impure("env", p, "process.env");
    }
  }

  private callFacts(c: TS.CallExpression): void {
    const callee = skipOuter(c.expression);
    if (callee.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = c.arguments[0];
      if (!arg || !ts.isStringLiteralLike(arg)) this.impure("dynamic-import", c, "import() of a computed specifier");
      else {
        const pkg = packageNameOf(arg.text);
        if (pkg) this.externals.add(pkg.startsWith("node:") ? pkg : this.hasher.versions.versionOf(pkg));
      }
      return;
    }
    if (ts.isIdentifier(callee) && callee.text === "Date" && this.isGlobal(callee)) this.impure("date", c, "Date()");
    if (ts.isIdentifier(callee) && callee.text === "require" && this.isGlobal(callee)) this.impure("commonjs", callee, "require");
    // The context handed whole to code the compiler cannot follow may call ctx.random().
    if (this.ctxName && c.arguments.some((a) => ts.isIdentifier(a) && a.text === this.ctxName)) {
      if (!this.resolvesToProject(callee)) this.usesRandom = true;
    }
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

  private reference(id: TS.Identifier): void {
    const checker = this.checker;
    let sym: TS.Symbol | undefined;
    try {
      sym = ts.isShorthandPropertyAssignment(id.parent) && id.parent.name === id
        ? checker.getShorthandAssignmentValueSymbol(id.parent)
        : checker.getSymbolAtLocation(id);
    } catch {
      return;
    }
    if (!sym) {
      if (["__dirname", "__filename", "module", "exports"].includes(id.text) && !ts.isPropertyAccessExpression(id.parent)) {
        this.impure("commonjs", id, id.text);
      }
      return;
    }
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
      const projectDecls = decls.filter((d) => this.isCodeFile(d.getSourceFile()));
      if (projectDecls.length) {
        for (const d of projectDecls) this.addDep(d);
        this.mutableCheck(id, projectDecls);
        return;
      }
      const pkg = spec ? packageNameOf(spec) : undefined;
      if (pkg) {
        if (pkg.startsWith("node:") || isBuiltin(pkg)) {
          const base = pkg.replace(/^node:/, "");
          this.externals.add(`node:${base}`);
          if (base === "process" && (target?.name === "env" || (ts.isPropertyAccessExpression(id.parent) && id.parent.name.text === "env"))) {
            this.impure("env", id, "process.env");
          }
        } else this.externals.add(this.hasher.versions.versionOf(pkg));
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

  private externalDecl(d: TS.Declaration): void {
    const file = d.getSourceFile().fileName;
    if (isLibFile(file)) return;
    const pkg = packageOfPath(file);
    if (!pkg || pkg === "node" || pkg === "typescript") return;
    this.externals.add(this.hasher.versions.versionOf(pkg));
  }

  private inside(d: TS.Node): boolean {
    return d.getSourceFile() === this.sf && d.pos >= this.unit.pos && d.end <= this.unit.end;
  }

  private addDep(d: TS.Node): void {
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
