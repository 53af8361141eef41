// Edits of TypeScript source for hash property tests: formatting, comments and type-only edits
// that must keep every structural hash, and how to apply a set of them.
import fc from "fast-check";
import ts from "typescript";

export interface Edit {
  readonly pos: number;
  readonly del: number;
  readonly text: string;
}

export function apply(text: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.pos - a.pos || b.del - a.del);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.pos) + e.text + out.slice(e.pos + e.del);
  return out;
}

export function inType(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node; n; n = n.parent) if (ts.isTypeNode(n)) return true;
  return false;
}

export function isNameArg(node: ts.Node): boolean {
  const p = node.parent;
  return !!p && ts.isCallExpression(p) && p.arguments[0] === node && ts.isIdentifier(p.expression) && ["step", "source", "experiment"].includes(p.expression.text);
}

/** Edits that must not change any hash: comments, quotes, numeric spelling, parens, semicolons, trailing commas, line breaks, types. */
export function formattingEdits(text: string): Edit[] {
  const sf = ts.createSourceFile("x.ts", text, ts.ScriptTarget.Latest, true);
  const edits: Edit[] = [];
  let k = 0;
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) && !inType(node) && !/['\\]/.test(node.text)) {
      edits.push({ pos: node.getStart(sf), del: node.getWidth(sf), text: `'${node.text}'` });
    } else if (ts.isNumericLiteral(node) && !inType(node) && /^\d+$/.test(node.text)) {
      const n = Number(node.text);
      edits.push({ pos: node.getStart(sf), del: node.getWidth(sf), text: n >= 10 ? `${String(n).slice(0, -1)}_${String(n).slice(-1)}` : `${n}.0` });
    } else if ((ts.isBinaryExpression(node) || (ts.isCallExpression(node) && node.expression.kind !== ts.SyntaxKind.ImportKeyword)) && !inType(node)) {
      edits.push({ pos: node.getStart(sf), del: 0, text: "(" }, { pos: node.end, del: 0, text: ")" });
    }
    if ((ts.isArrayLiteralExpression(node) || ts.isObjectLiteralExpression(node)) && !inType(node)) {
      const list = ts.isArrayLiteralExpression(node) ? node.elements : node.properties;
      if (list.length && !list.hasTrailingComma) edits.push({ pos: list[list.length - 1]!.end, del: 0, text: "," });
    }
    if (ts.isCallExpression(node) && node.arguments.length > 1) {
      edits.push({ pos: node.arguments[0]!.end, del: 0, text: "\n   " });
    }
    if (ts.isParameter(node) && node.type) {
      edits.push({ pos: node.type.getStart(sf), del: node.type.getWidth(sf), text: "readonly any[] | any" });
    }
    if ((ts.isVariableStatement(node) || ts.isExpressionStatement(node) || ts.isReturnStatement(node)) && text[node.end - 1] === ";") {
      const next = /^[ \t]*\n\s*([A-Za-z}]|$)/.exec(text.slice(node.end));
      if (next) edits.push({ pos: node.end - 1, del: 1, text: "" });
    }
    if (ts.isStatement(node) || ts.isImportDeclaration(node)) {
      edits.push({ pos: node.end, del: 0, text: k++ % 2 ? " /* a comment */" : "\n// a line comment\n" });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  edits.push({ pos: 0, del: 0, text: `// header comment\ntype Unused = { readonly n: number };\ninterface Shape { x: string }\nimport type { Step as _Step } from "crystallize-ts";\n` });
  return edits;
}

/** Some formatting edits of one of `files`. */
export function formattingOf<F extends string>(files: readonly F[], textOf: (file: F) => string): fc.Arbitrary<{ file: F; edits: Edit[] }> {
  return fc.constantFrom(...files).chain((file) => {
    const all = formattingEdits(textOf(file));
    // Parens come in pairs: pick by index of the open paren and keep its close paren with it.
    return fc.subarray(all.map((_, i) => i), { minLength: 1 }).map((picked) => {
      const set = new Set(picked);
      all.forEach((e, i) => {
        if (e.text === "(" && set.has(i)) set.add(i + 1);
        if (e.text === ")" && set.has(i)) set.add(i - 1);
      });
      return { file, edits: [...set].map((i) => all[i]!) };
    });
  });
}
