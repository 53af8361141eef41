// Step factories: project functions that return a step(...) call (`const make = (k: number) =>
// step("scale", ...)`). Discovery follows a call to one as if the step were written at the call
// site, with the factory's parameters bound to the call's arguments.
import type * as TS from "typescript";
import ts from "./typescript.js";
import { constInitializer, evaluate, propertyKey, skipOuter, valueDeclarationOf, type Bindings } from "./evaluate.js";
import { dslFunctionOf, isProjectFile, objectLiteralOf, propertyOf, type AnalysisHost, type FactoryUse, type Named } from "./discover.js";

/** The argument (or default) a bare parameter name stands for inside a factory, else the expression itself. */
export function bound(checker: TS.TypeChecker, expr: TS.Expression, env: Bindings | undefined): TS.Expression {
  const e = skipOuter(expr);
  if (!env?.size || !ts.isIdentifier(e)) return expr;
  const decl = valueDeclarationOf(checker, e);
  return (decl && env.get(decl)) ?? expr;
}

/**
 * The name of a factory-made step. Diagnostics about the name go where it can be fixed: a name
 * the factory fixes stays in the factory, a parameter's argument at the call site, and anything
 * else (a template over parameters, say) at the call site.
 */
export function factoryStepName(host: AnalysisHost, node: TS.Expression | undefined, use: FactoryUse): Named {
  if (!node) return { name: undefined, nameNode: use.call };
  const own = evaluate(host.checker, node);
  if (typeof own === "string") return { name: own, nameNode: node };
  const v = evaluate(host.checker, node, use.bindings);
  const arg = bound(host.checker, node, use.bindings);
  const atCall = arg !== node && arg.pos >= use.call.pos && arg.end <= use.call.end;
  return { name: typeof v === "string" ? v : undefined, nameNode: atCall ? arg : use.call };
}

const NOT_SIMPLE = "has more in its body than const declarations and one `return step(...)`";

/**
 * The project function a call's callee names, if it can be a step factory: a function
 * declaration, or a const holding an arrow function or function expression. A string says why a
 * project function cannot be followed; undefined means the callee is not project code.
 */
export function factoryOf(host: AnalysisHost, callee: TS.Expression): TS.FunctionLikeDeclaration | string | undefined {
  const c = skipOuter(callee);
  if (!ts.isIdentifier(c) && !ts.isPropertyAccessExpression(c)) return undefined;
  const decl = valueDeclarationOf(host.checker, ts.isPropertyAccessExpression(c) ? c.name : c);
  if (!decl || !isProjectFile(host, decl.getSourceFile())) return undefined;
  if (ts.isFunctionDeclaration(decl)) return decl.body ? decl : (implementationOf(decl) ?? "has no body the compiler can see");
  if (ts.isVariableDeclaration(decl) && decl.initializer) {
    const init = skipOuter(decl.initializer);
    if (!ts.isArrowFunction(init) && !ts.isFunctionExpression(init)) return "is not bound to a function the compiler can read";
    const list = decl.parent;
    if (!ts.isVariableDeclarationList(list) || (list.flags & ts.NodeFlags.BlockScoped) !== ts.NodeFlags.Const) return "is not a const, so it may be reassigned";
    return init;
  }
  return "is not a function declaration or a const holding a function";
}

/** The implementation of an overloaded function declaration (its overload signatures have no body). */
function implementationOf(decl: TS.FunctionDeclaration): TS.FunctionDeclaration | undefined {
  const siblings: readonly TS.Statement[] = ts.isSourceFile(decl.parent) || ts.isModuleBlock(decl.parent) || ts.isBlock(decl.parent) ? decl.parent.statements : [];
  return siblings.find((s): s is TS.FunctionDeclaration => ts.isFunctionDeclaration(s) && !!s.body && s.name?.text === decl.name?.text);
}

/** The step(...) call a factory returns, or why the compiler cannot tell. */
export function factoryReturn(host: AnalysisHost, fn: TS.FunctionLikeDeclaration): TS.CallExpression | string {
  if (fn.asteriskToken || ts.getModifiers(fn)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) return "is async or a generator";
  const body = fn.body;
  if (!body) return NOT_SIMPLE;
  let returned: TS.Expression;
  if (ts.isBlock(body)) {
    const stmts = body.statements;
    const last = stmts[stmts.length - 1];
    const constsFirst = stmts.slice(0, -1).every((s) => ts.isVariableStatement(s) && (s.declarationList.flags & ts.NodeFlags.BlockScoped) === ts.NodeFlags.Const);
    if (!last || !ts.isReturnStatement(last) || !last.expression || !constsFirst) return NOT_SIMPLE;
    returned = skipOuter(last.expression);
    if (ts.isIdentifier(returned)) {
      // return s; after const s = step(...)
      const init = constInitializer(host.checker, returned);
      const decl = valueDeclarationOf(host.checker, returned);
      if (init && decl && decl.pos >= body.pos && decl.end <= body.end) returned = skipOuter(init);
    }
  } else returned = skipOuter(body);
  if (ts.isCallExpression(returned) && dslFunctionOf(host, returned.expression) === "step") return returned;
  return "does not return a step(...) call";
}

/** What the factory's parameters stand for at a call: arguments, else defaults; destructured object parameters too. */
export function bindParameters(checker: TS.TypeChecker, fn: TS.FunctionLikeDeclaration, args: readonly TS.Expression[]): Bindings {
  const env = new Map<TS.Declaration, TS.Expression>();
  const params = fn.parameters.filter((p) => !(ts.isIdentifier(p.name) && p.name.text === "this"));
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const a = args[i];
    if (p.dotDotDotToken || (a && ts.isSpreadElement(a))) break;
    const value = a ?? p.initializer;
    if (!value) continue;
    if (ts.isIdentifier(p.name)) env.set(p, value);
    else if (ts.isObjectBindingPattern(p.name)) {
      const obj = objectLiteralOf(checker, value, 0, env);
      if (!obj) continue;
      for (const el of p.name.elements) {
        if (el.dotDotDotToken || !ts.isIdentifier(el.name)) continue;
        const key = el.propertyName ? propertyKey(checker, el.propertyName) : el.name.text;
        const v = key === undefined ? undefined : (propertyOf(checker, obj, key) ?? el.initializer);
        if (v) env.set(el, v);
      }
    }
  }
  return env;
}
