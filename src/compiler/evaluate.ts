// A small static evaluator for literal-ish expressions (names, params, metrics, replicates):
// literals, arrays, object literals, unary minus, template strings and string concatenation of
// known parts, const identifiers that lead to those, and (inside a step factory) parameters bound
// to a call's arguments. It never runs user code. What it cannot see is UNKNOWN; what it sees but
// JSON cannot hold is a NonJson marker carrying the offending node.
import type * as TS from "typescript";
import ts from "./typescript.js";

export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

/** A value JSON cannot represent (a function, a Date, NaN, undefined, a bigint, ...). */
export class NonJson {
  constructor(
    readonly node: TS.Node,
    readonly what: string,
  ) {}
}

export type Static = string | number | boolean | null | Static[] | { [key: string]: Static } | NonJson | Unknown;

/**
 * What a factory's parameters stand for at one call site: the parameter (or the element of a
 * destructured parameter) → the argument expression, or the parameter's default.
 */
export type Bindings = ReadonlyMap<TS.Declaration, TS.Expression>;

/** Strips parentheses and type-only wrappers (`as`, `satisfies`, `!`, `<T>x`). */
export function skipOuter(node: TS.Expression): TS.Expression {
  let n = node;
  for (;;) {
    if (ts.isParenthesizedExpression(n) || ts.isAsExpression(n) || ts.isSatisfiesExpression(n) || ts.isNonNullExpression(n) || ts.isTypeAssertionExpression(n)) {
      n = n.expression;
    } else return n;
  }
}

/** The initializer of the const variable `id` names (through imports), if any. */
export function constInitializer(checker: TS.TypeChecker, id: TS.Identifier): TS.Expression | undefined {
  const decl = valueDeclarationOf(checker, id);
  if (decl && ts.isVariableDeclaration(decl) && decl.initializer && ts.isVariableDeclarationList(decl.parent)) {
    if (decl.parent.flags & ts.NodeFlags.Const) return decl.initializer;
  }
  return undefined;
}

/**
 * The expression an identifier stands for: the argument bound to a factory parameter, or the
 * initializer of a const.
 */
export function identifierValue(checker: TS.TypeChecker, id: TS.Identifier, env?: Bindings): TS.Expression | undefined {
  if (env?.size) {
    const decl = valueDeclarationOf(checker, id);
    const bound = decl && env.get(decl);
    if (bound) return bound;
  }
  return constInitializer(checker, id);
}

/** The declaration an identifier refers to, through import aliases. */
export function valueDeclarationOf(checker: TS.TypeChecker, id: TS.Node): TS.Declaration | undefined {
  let sym: TS.Symbol | undefined;
  try {
    sym = ts.isShorthandPropertyAssignment(id.parent) && id.parent.name === id
      ? checker.getShorthandAssignmentValueSymbol(id.parent)
      : checker.getSymbolAtLocation(id);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  } catch {
    return undefined;
  }
  return sym?.valueDeclaration ?? sym?.declarations?.[0];
}

/** Stringifies what a template or a string concatenation may hold, or undefined. */
function stringPart(v: Static): string | undefined {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v === null ? String(v) : undefined;
}

export function evaluate(checker: TS.TypeChecker, expr: TS.Expression, env?: Bindings, depth = 0): Static {
  if (depth > 20) return UNKNOWN;
  const e = skipOuter(expr);
  switch (e.kind) {
    case ts.SyntaxKind.StringLiteral:
    case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
      return (e as TS.StringLiteral).text;
    case ts.SyntaxKind.NumericLiteral:
      return Number((e as TS.NumericLiteral).text);
    case ts.SyntaxKind.TrueKeyword:
      return true;
    case ts.SyntaxKind.FalseKeyword:
      return false;
    case ts.SyntaxKind.NullKeyword:
      return null;
    case ts.SyntaxKind.BigIntLiteral:
      return new NonJson(e, "a bigint");
    case ts.SyntaxKind.RegularExpressionLiteral:
      return new NonJson(e, "a regular expression");
    case ts.SyntaxKind.ArrowFunction:
    case ts.SyntaxKind.FunctionExpression:
      return new NonJson(e, "a function");
    case ts.SyntaxKind.ClassExpression:
      return new NonJson(e, "a class");
    case ts.SyntaxKind.VoidExpression:
      return new NonJson(e, "undefined");
    case ts.SyntaxKind.NewExpression: {
      const callee = (e as TS.NewExpression).expression;
      return new NonJson(e, `a ${ts.isIdentifier(callee) ? callee.text : "class"} instance`);
    }
  }
  if (ts.isPrefixUnaryExpression(e)) {
    const v = evaluate(checker, e.operand, env, depth + 1);
    if (typeof v === "number") {
      if (e.operator === ts.SyntaxKind.MinusToken) return -v;
      if (e.operator === ts.SyntaxKind.PlusToken) return v;
    }
    if (e.operator === ts.SyntaxKind.ExclamationToken && typeof v === "boolean") return !v;
    return v instanceof NonJson ? v : UNKNOWN;
  }
  if (ts.isIdentifier(e)) {
    if (e.text === "undefined") return new NonJson(e, "undefined");
    if (e.text === "NaN") return new NonJson(e, "NaN");
    if (e.text === "Infinity") return new NonJson(e, "Infinity");
    const decl = valueDeclarationOf(checker, e);
    if (decl && (ts.isFunctionDeclaration(decl) || ts.isClassDeclaration(decl))) return new NonJson(e, ts.isFunctionDeclaration(decl) ? "a function" : "a class");
    const init = identifierValue(checker, e, env);
    return init ? evaluate(checker, init, env, depth + 1) : UNKNOWN;
  }
  if (ts.isTemplateExpression(e)) {
    let out = e.head.text;
    for (const span of e.templateSpans) {
      const part = stringPart(evaluate(checker, span.expression, env, depth + 1));
      if (part === undefined) return UNKNOWN;
      out += part + span.literal.text;
    }
    return out;
  }
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    // String concatenation only ("a" + name, name + 1): numeric sums are left unknown.
    const l = evaluate(checker, e.left, env, depth + 1);
    const r = evaluate(checker, e.right, env, depth + 1);
    if (typeof l !== "string" && typeof r !== "string") return UNKNOWN;
    const ls = stringPart(l);
    const rs = stringPart(r);
    return ls !== undefined && rs !== undefined ? ls + rs : UNKNOWN;
  }
  if (ts.isArrayLiteralExpression(e)) {
    const out: Static[] = [];
    for (const el of e.elements) {
      if (ts.isSpreadElement(el)) {
        const v = evaluate(checker, el.expression, env, depth + 1);
        if (Array.isArray(v)) out.push(...v);
        else return v instanceof NonJson ? v : UNKNOWN;
      } else if (ts.isOmittedExpression(el)) out.push(new NonJson(el, "an array hole"));
      else out.push(evaluate(checker, el, env, depth + 1));
    }
    return out;
  }
  if (ts.isObjectLiteralExpression(e)) {
    const out: { [key: string]: Static } = {};
    for (const p of e.properties) {
      if (ts.isPropertyAssignment(p)) {
        const key = propertyKey(checker, p.name);
        if (key === undefined) return UNKNOWN;
        out[key] = evaluate(checker, p.initializer, env, depth + 1);
      } else if (ts.isShorthandPropertyAssignment(p)) {
        out[p.name.text] = evaluate(checker, p.name, env, depth + 1);
      } else if (ts.isSpreadAssignment(p)) {
        const v = evaluate(checker, p.expression, env, depth + 1);
        if (v && typeof v === "object" && !Array.isArray(v) && !(v instanceof NonJson)) Object.assign(out, v);
        else return UNKNOWN;
      } else if (ts.isMethodDeclaration(p) || ts.isGetAccessorDeclaration(p) || ts.isSetAccessorDeclaration(p)) {
        const key = propertyKey(checker, p.name);
        out[key ?? "?"] = new NonJson(p, "a function");
      }
    }
    return out;
  }
  if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression)) {
    // Number.NaN, Number.POSITIVE_INFINITY, Symbol.iterator...
    const base = e.expression.text;
    if (base === "Number" && /NaN|INFINITY/.test(e.name.text)) return new NonJson(e, e.name.text);
    if (base === "Symbol") return new NonJson(e, "a symbol");
  }
  if (ts.isCallExpression(e) && ts.isIdentifier(e.expression)) {
    if (e.expression.text === "Symbol") return new NonJson(e, "a symbol");
    if (e.expression.text === "BigInt") return new NonJson(e, "a bigint");
  }
  return UNKNOWN;
}

export function propertyKey(checker: TS.TypeChecker, name: TS.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isPrivateIdentifier(name)) {
    return ts.isNumericLiteral(name) ? String(Number(name.text)) : name.text;
  }
  if (ts.isComputedPropertyName(name)) {
    const v = evaluate(checker, name.expression);
    return typeof v === "string" || typeof v === "number" ? String(v) : undefined;
  }
  return undefined;
}

/** The first non-JSON part of a value, with its path, or undefined. */
export function findNonJson(value: Static, path: string): { marker: NonJson; path: string } | undefined {
  if (value instanceof NonJson) return { marker: value, path };
  if (typeof value === "number" && !Number.isFinite(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const f = findNonJson(value[i]!, `${path}[${i}]`);
      if (f) return f;
    }
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const f = findNonJson(v, `${path}.${k}`);
      if (f) return f;
    }
  }
  return undefined;
}

/** The value as plain JSON, with unknown parts as null (for the manifest). */
export function toPlainJson(value: Static): unknown {
  if (value === UNKNOWN || value instanceof NonJson) return null;
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlainJson(v);
    return out;
  }
  return value;
}

export function isFullyKnown(value: Static): boolean {
  if (value === UNKNOWN) return false;
  if (Array.isArray(value)) return value.every(isFullyKnown);
  if (value && typeof value === "object" && !(value instanceof NonJson)) return Object.values(value).every(isFullyKnown);
  return true;
}
