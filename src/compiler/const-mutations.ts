// Which module-level bindings (consts, classes' static fields, functions' properties) the
// project's code mutates, and where, anywhere in the project (top-level statements or inside
// functions): a cacheable step that reads such a binding closes over mutable state (rule
// CRY3004), like one that reads a module-level let, and the mutations' code is in its hash.
import type * as TS from "typescript";
import ts from "./typescript.js";
import { isProjectFile, type AnalysisHost } from "./discover.js";
import { skipOuter } from "./evaluate.js";
import type { ModuleBinding } from "./hash.js";

/** Methods that change their receiver in place (Array; Map and Set). */
const MUTATING_METHODS = new Set(["push", "pop", "shift", "unshift", "splice", "sort", "reverse", "fill", "copyWithin", "set", "add", "delete", "clear"]);
/** `Object.x(target, …)` / `Reflect.x(target, …)` calls that change `target`. */
const MUTATING_STATICS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ["Object", new Set(["assign", "defineProperty", "defineProperties", "setPrototypeOf"])],
  ["Reflect", new Set(["set", "deleteProperty", "defineProperty", "setPrototypeOf"])],
]);

interface Mutation {
  readonly decl: ModuleBinding;
  /** The expression that mutates it. */
  readonly node: TS.Node;
}

function isModuleConst(d: TS.Declaration | undefined): d is TS.VariableDeclaration {
  if (!d || !ts.isVariableDeclaration(d) || !ts.isVariableDeclarationList(d.parent)) return false;
  if ((d.parent.flags & ts.NodeFlags.BlockScoped) !== ts.NodeFlags.Const) return false;
  const stmt = d.parent.parent;
  return ts.isVariableStatement(stmt) && ts.isSourceFile(stmt.parent);
}

function resolvedSymbol(checker: TS.TypeChecker, id: TS.Node): TS.Symbol | undefined {
  try {
    const sym = checker.getSymbolAtLocation(id);
    return sym && sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
  } catch {
    return undefined;
  }
}

/** A top-level class or function declaration (its static fields or properties can be assigned). */
function isModuleObject(d: TS.Declaration | undefined): d is TS.ClassDeclaration | TS.FunctionDeclaration {
  return !!d && (ts.isClassDeclaration(d) || ts.isFunctionDeclaration(d)) && ts.isSourceFile(d.parent);
}

/**
 * The module-level binding whose contents `target` changes: the root of an access chain (`x`,
 * `x.a`, `x[i].b`, `Config.factor`), through imports, namespace imports (`ns.x.a`) and local
 * const aliases (`const y = x; y.a = 1`). `whole` allows the bare root (a receiver or
 * Object.assign's target); otherwise only its elements or properties count (assigning the
 * binding itself is a type error). A class or function as a bare receiver (`Registry.add(x)`)
 * is a static method call, not counted; as Object.assign's target it is.
 */
function mutatedConst(checker: TS.TypeChecker, target: TS.Expression, whole: boolean, receiver = false): ModuleBinding | undefined {
  let e = skipOuter(target);
  const chain: (TS.PropertyAccessExpression | TS.ElementAccessExpression)[] = [];
  while (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) {
    chain.push(e);
    e = skipOuter(e.expression);
  }
  if (!ts.isIdentifier(e) || (!whole && chain.length === 0)) return undefined;
  let sym = resolvedSymbol(checker, e);
  const first = chain[chain.length - 1];
  if (sym && sym.flags & ts.SymbolFlags.ValueModule && first && ts.isPropertyAccessExpression(first)) sym = resolvedSymbol(checker, first.name);
  let decl = sym?.valueDeclaration;
  if (isModuleObject(decl)) return receiver && chain.length === 0 ? undefined : decl;
  for (let hops = 0; hops < 5 && decl && !isModuleConst(decl); hops++) {
    // A local const alias of a module-level const.
    if (!ts.isVariableDeclaration(decl) || !ts.isVariableDeclarationList(decl.parent) || (decl.parent.flags & ts.NodeFlags.BlockScoped) !== ts.NodeFlags.Const) return undefined;
    const init = decl.initializer && skipOuter(decl.initializer);
    if (!init || !ts.isIdentifier(init)) return undefined;
    decl = resolvedSymbol(checker, init)?.valueDeclaration;
  }
  return isModuleConst(decl) ? decl : undefined;
}

/** Every mutation of a module-level const in one file, in source order (one walk). */
function mutationsIn(checker: TS.TypeChecker, sf: TS.SourceFile): Mutation[] {
  const out: Mutation[] = [];
  const note = (target: TS.Expression, node: TS.Node, whole: boolean, receiver = false) => {
    const decl = mutatedConst(checker, target, whole, receiver);
    if (decl) out.push({ decl, node });
  };
  // Destructuring assignment: `[a[0], b.x] = …`, `({ k: a.x } = …)`.
  const targets = (t: TS.Expression, node: TS.Node): void => {
    const e = skipOuter(t);
    if (ts.isArrayLiteralExpression(e)) {
      for (const el of e.elements) targets(ts.isSpreadElement(el) ? el.expression : el, node);
    } else if (ts.isObjectLiteralExpression(e)) {
      for (const p of e.properties) {
        if (ts.isPropertyAssignment(p)) targets(p.initializer, node);
        else if (ts.isSpreadAssignment(p)) targets(p.expression, node);
      }
    } else if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      targets(e.left, node); // a default value
    } else note(e, node, false);
  };
  const visit = (n: TS.Node): void => {
    switch (n.kind) {
      case ts.SyntaxKind.BinaryExpression: {
        const b = n as TS.BinaryExpression;
        const op = b.operatorToken.kind;
        if (op === ts.SyntaxKind.EqualsToken) targets(b.left, b);
        else if (op >= ts.SyntaxKind.FirstCompoundAssignment && op <= ts.SyntaxKind.LastCompoundAssignment) note(b.left, b, false);
        break;
      }
      case ts.SyntaxKind.PrefixUnaryExpression:
      case ts.SyntaxKind.PostfixUnaryExpression: {
        const u = n as TS.PrefixUnaryExpression;
        if (u.operator === ts.SyntaxKind.PlusPlusToken || u.operator === ts.SyntaxKind.MinusMinusToken) note(u.operand, u, false);
        break;
      }
      case ts.SyntaxKind.DeleteExpression:
        note((n as TS.DeleteExpression).expression, n, false);
        break;
      case ts.SyntaxKind.ForOfStatement:
      case ts.SyntaxKind.ForInStatement: {
        const init = (n as TS.ForOfStatement).initializer;
        if (!ts.isVariableDeclarationList(init)) targets(init, n);
        break;
      }
      case ts.SyntaxKind.CallExpression: {
        const c = n as TS.CallExpression;
        const callee = skipOuter(c.expression);
        const method = ts.isPropertyAccessExpression(callee) ? callee.name.text
          : ts.isElementAccessExpression(callee) && ts.isStringLiteralLike(callee.argumentExpression) ? callee.argumentExpression.text : undefined;
        if (method === undefined) break;
        const receiver = skipOuter((callee as TS.PropertyAccessExpression).expression);
        if (ts.isIdentifier(receiver) && MUTATING_STATICS.get(receiver.text)?.has(method)) {
          if (c.arguments[0]) note(c.arguments[0], c, true);
        } else if (MUTATING_METHODS.has(method)) note(receiver, c, true, true);
        break;
      }
      default:
        break;
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/**
 * Which module-level consts the project's code mutates, and where (the first place, in program
 * order). One walk per project file, kept per file; watch mode forgets the files it re-checks.
 */
export class ConstMutations {
  private readonly byFile = new Map<string, { readonly sf: TS.SourceFile; readonly found: readonly Mutation[] }>();
  private all: Map<TS.Node, TS.Node[]> | undefined;

  /** Where `decl` is first mutated, or undefined when no project code mutates it. */
  of(host: AnalysisHost, decl: ModuleBinding): TS.Node | undefined {
    return this.sitesOf(host, decl)[0];
  }

  /** Every place project code mutates `decl`, in program order. */
  sitesOf(host: AnalysisHost, decl: ModuleBinding): readonly TS.Node[] {
    this.all ??= this.collect(host);
    return this.all.get(decl) ?? [];
  }

  forget(files: ReadonlySet<string>): void {
    for (const f of files) this.byFile.delete(f);
    this.all = undefined;
  }

  private collect(host: AnalysisHost): Map<TS.Node, TS.Node[]> {
    const all = new Map<TS.Node, TS.Node[]>();
    const live = new Set<string>();
    for (const sf of host.program.getSourceFiles()) {
      if (!isProjectFile(host, sf)) continue;
      live.add(sf.fileName);
      let hit = this.byFile.get(sf.fileName);
      if (!hit || hit.sf !== sf) this.byFile.set(sf.fileName, (hit = { sf, found: mutationsIn(host.checker, sf) }));
      for (const m of hit.found) {
        const list = all.get(m.decl);
        if (list) list.push(m.node);
        else all.set(m.decl, [m.node]);
      }
    }
    for (const f of [...this.byFile.keys()]) if (!live.has(f)) this.byFile.delete(f);
    return all;
  }
}
