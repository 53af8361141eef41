// CRY3004 for module-level consts: a const whose container project code mutates (anywhere, in
// any file, in any of the ways listed below) is mutable state for the cacheable steps that read
// it, directly or through helpers; a const that is only read is not.
import { describe, expect, it } from "vitest";
import { Hasher } from "../../src/compiler/hash.js";
import { TempProject, tempProjects } from "./temp-project.js";

const STEP_IMPORTS = `import { experiment, pipeline, source, step } from "crystallize-ts";\n`;
const NUMBERS = `const numbers = source("numbers", () => [1, 2, 3]);\n`;

/** Ways to mutate a const `x`, each with an initializer that fits it. */
const MUTATIONS: readonly { what: string; init: string; mutate: (x: string) => string }[] = [
  { what: "element assignment", init: "[0, 0]", mutate: (x) => `${x}[0] = 1;` },
  { what: "property assignment", init: "{ a: 0 }", mutate: (x) => `${x}.a = 1;` },
  { what: "nested property assignment", init: "{ inner: { a: 0 } }", mutate: (x) => `${x}.inner.a = 1;` },
  { what: "compound assignment", init: "{ a: 0 }", mutate: (x) => `${x}.a += 2;` },
  { what: "logical assignment", init: "{ a: undefined as number | undefined }", mutate: (x) => `${x}.a ??= 1;` },
  { what: "postfix ++", init: "{ n: 0 }", mutate: (x) => `${x}.n++;` },
  { what: "prefix --", init: "[1]", mutate: (x) => `--${x}[0];` },
  { what: "delete", init: "{ a: 1 } as { a?: number }", mutate: (x) => `delete ${x}.a;` },
  ...["push", "unshift"].map((m) => ({ what: `Array.${m}`, init: "[] as number[]", mutate: (x: string) => `${x}.${m}(1);` })),
  ...["pop", "shift", "sort", "reverse"].map((m) => ({ what: `Array.${m}`, init: "[3, 1, 2]", mutate: (x: string) => `${x}.${m}();` })),
  { what: "Array.splice", init: "[1, 2]", mutate: (x) => `${x}.splice(0, 1);` },
  { what: "Array.fill", init: "[1, 2]", mutate: (x) => `${x}.fill(0);` },
  { what: "Array.copyWithin", init: "[1, 2]", mutate: (x) => `${x}.copyWithin(0, 1);` },
  { what: "Map.set", init: "new Map<string, number>()", mutate: (x) => `${x}.set("k", 1);` },
  { what: "Map.delete", init: "new Map([[\"k\", 1]])", mutate: (x) => `${x}.delete("k");` },
  { what: "Map.clear", init: "new Map([[\"k\", 1]])", mutate: (x) => `${x}.clear();` },
  { what: "Set.add", init: "new Set<number>()", mutate: (x) => `${x}.add(1);` },
  { what: "Object.assign", init: "{ a: 0 }", mutate: (x) => `Object.assign(${x}, { a: 1 });` },
  { what: "a class instance's field", init: "new Box()", mutate: (x) => `${x}.v = 1;` },
  { what: "a nested container's method", init: "{ list: [] as number[] }", mutate: (x) => `${x}.list.push(1);` },
  { what: "destructuring assignment", init: "[0, 0]", mutate: (x) => `[${x}[0], ${x}[1]] = [1, 2];` },
  { what: "a for-of target", init: "{ k: 0 }", mutate: (x) => `for (${x}.k of [1, 2]) void 0;` },
  { what: "a method called by element access", init: "[] as number[]", mutate: (x) => `${x}["push"](1);` },
  { what: "a cast receiver", init: "[] as number[]", mutate: (x) => `(${x} as number[]).push(1);` },
  { what: "a local const alias", init: "[] as number[]", mutate: (x) => `const alias = ${x};\n  alias.push(1);` },
];

function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`not found: ${needle}`);
  return text.slice(0, i).split("\n").length;
}

/** `line:column` of the first occurrence of `token` on the line that contains `lineNeedle`. */
function position(text: string, lineNeedle: string, token: string): string {
  const line = lineOf(text, lineNeedle);
  return `${line}:${text.split("\n")[line - 1]!.indexOf(token) + 1}`;
}

describe("CRY3004 on module-level consts", () => {
  const project = tempProjects();

  it("reports every kind of mutation, in another file, at the step's read, naming where the mutation is", () => {
    const state = [
      "export class Box {\n  v = 0;\n}",
      ...MUTATIONS.map((m, i) => `export const c${i} = ${m.init};\nexport function mutate${i}(): void {\n  ${m.mutate(`c${i}`)}\n}`),
    ].join("\n");
    const steps = MUTATIONS.map((_, i) => `const s${i} = step("s${i}", { cacheable: true }, (xs: number[]) => xs.map((x) => x + String(c${i}).length));`);
    const exp = `${STEP_IMPORTS}import { ${MUTATIONS.map((_, i) => `c${i}`).join(", ")} } from "./state.js";\n${NUMBERS}${steps.join("\n")}\nexport const e = experiment("e", { source: numbers, pipeline: pipeline(${MUTATIONS.map((_, i) => `s${i}`).join(", ")}) });\n`;
    const p = project({ "src/state.ts": state, "src/exp.ts": exp });
    expect(p.typeErrors()).toEqual([]);
    const all = p.analyze().diagnostics;
    expect(all.filter((d) => d.code === "CRY0900")).toEqual([]);
    const found = all.filter((d) => d.code === "CRY3004");
    MUTATIONS.forEach((m, i) => {
      const d = found.find((x) => x.message.includes(`"s${i}"`));
      expect(d, m.what).toBeDefined();
      expect(`${d!.line}:${d!.column}`, m.what).toBe(position(exp, `step("s${i}"`, `c${i}).length`));
      // The mutation is the mutating function's last line (the alias case declares the alias first).
      const mutationLine = lineOf(state, `export function mutate${i}(`) + m.mutate(`c${i}`).split("\n").length;
      expect(d!.message, m.what).toContain(`step "s${i}" is cacheable but closes over module-level const c${i} (mutated at src/state.ts:${mutationLine})`);
    });
    expect(found).toHaveLength(MUTATIONS.length);
  });

  it("does not report consts that are only read: lookup tables, copies, shadowing names, another file's const of the same name", () => {
    const tables = `export const T = [3, 1, 2];
export const O = { a: 1, inner: { b: 2 } };
export const M = new Map([["a", 1]]);
export const S = new Set([1, 2]);
export const F = Object.freeze({ k: 1 });
export function reads(): number {
  const sorted = T.slice().sort();
  const reversed = [...T].reverse();
  const keys = Object.keys(O).sort();
  const copy = { ...O };
  copy.a = 2;
  const cloned = structuredClone(T);
  cloned.push(4);
  const fresh: number[] = [];
  fresh.push(T.length);
  return sorted[0]! + reversed[0]! + keys.length + copy.a + (M.get("a") ?? 0) + (S.has(1) ? 1 : 0) + O.inner.b + F.k + T.indexOf(1) + (T.at(0) ?? 0);
}
export function shadowed(T: number[]): void {
  T.push(1);
}
export function named(valueOf: number[]): void {
  valueOf.push(1);
}
export function local(): number[] {
  const M: number[] = [];
  M.push(1);
  return M;
}
`;
    const other = `const T: number[] = [];
export function fill(): void {
  T.push(1);
}
`;
    const exp = `${STEP_IMPORTS}import { F, M, O, S, T, reads } from "./tables.js";
${NUMBERS}const a = step("a", { cacheable: true }, (xs: number[]) => xs.map((x) => x + T[0]! + O.a + (M.get("a") ?? 0) + S.size + F.k + reads()));
export const e = experiment("e", { source: numbers, pipeline: pipeline(a) });
`;
    const p = project({ "src/tables.ts": tables, "src/other.ts": other, "src/exp.ts": exp });
    expect(p.typeErrors()).toEqual([]);
    expect(p.analyze().diagnostics.filter((d) => d.code.startsWith("CRY"))).toEqual([]);
  });

  it("follows imports under another name and namespace imports, mutation inside the step, helpers, and factory arguments", () => {
    const state = `export const seen: number[] = [];
export const hits = new Map<string, number>();
export const log: string[] = [];
export const table = { n: 0 };
export function count(): number {
  return hits.size;
}
`;
    const mutators = `import { seen as remembered } from "./state.js";
import * as state from "./state.js";
export function remember(x: number): void {
  remembered.push(x);
}
export function hit(k: string): void {
  state.hits.set(k, 1);
}
`;
    const exp = `${STEP_IMPORTS}import { count, log, seen, table } from "./state.js";
${NUMBERS}const viaAlias = step("viaAlias", { cacheable: true }, (xs: number[]) => xs.map((x) => x + seen.length));
const viaHelper = step("viaHelper", { cacheable: true }, (xs: number[]) => xs.map((x) => x + count()));
const itself = step("itself", { cacheable: true }, (xs: number[]) => {
  log.push("ran");
  return xs;
});
const notCached = step("notCached", (xs: number[]) => xs.map((x) => x + seen.length));
const make = (name: string, t: { n: number }) => step(name, { cacheable: true }, (xs: number[]) => xs.map((x) => x + t.n));
export function bump(): void {
  table.n++;
}
export const e = experiment("e", { source: numbers, pipeline: pipeline(viaAlias, viaHelper, itself, notCached, make("made", table)) });
`;
    const p = project({ "src/state.ts": state, "src/mutators.ts": mutators, "src/exp.ts": exp });
    expect(p.typeErrors()).toEqual([]);
    const found = p.analyze().diagnostics.filter((d) => d.code === "CRY3004");
    const at = (file: string, text: string, needle: string, token: string) => `${file}:${position(text, needle, token)}`;
    expect(found.map((d) => `${d.file!.split(/[\\/]src[\\/]/).pop()}:${d.line}:${d.column}`).sort()).toEqual(
      [
        at("exp.ts", exp, `step("viaAlias"`, "seen.length"),
        at("state.ts", state, "return hits.size", "hits"),
        at("exp.ts", exp, `log.push("ran")`, "log"),
        at("exp.ts", exp, `pipeline(viaAlias`, "table))"),
      ].sort(),
    );
    const message = (step: string) => found.find((d) => d.message.includes(`"${step}"`))!.message;
    expect(message("viaAlias")).toContain("module-level const seen (mutated at src/mutators.ts:4)");
    expect(message("viaHelper")).toContain("module-level const hits (mutated at src/mutators.ts:7)");
    expect(message("itself")).toContain(`module-level const log (mutated at src/exp.ts:${lineOf(exp, 'log.push("ran")')})`);
    expect(message("made")).toContain(`module-level const table (mutated at src/exp.ts:${lineOf(exp, "table.n++")})`);
  });

  it("follows mutations added or removed in another file when the hasher is retargeted (watch mode)", () => {
    const state = `export const seen: number[] = [];\n`;
    const exp = `${STEP_IMPORTS}import { seen } from "./state.js";
${NUMBERS}const s = step("s", { cacheable: true }, (xs: number[]) => xs.map((x) => x + seen.length));
export const e = experiment("e", { source: numbers, pipeline: pipeline(s) });
`;
    const quiet = `import { seen } from "./state.js";\nexport function look(): number {\n  return seen.length;\n}\n`;
    const noisy = `import { seen } from "./state.js";\nexport function look(): number {\n  seen.push(1);\n  return seen.length;\n}\n`;
    const p = project({ "src/state.ts": state, "src/exp.ts": exp, "src/other.ts": quiet });
    const hasher = new Hasher(p.loaded.host());
    const check = () => TempProject.where(p.analyze({ hasher }).diagnostics, ["CRY3004"]);
    expect(check()).toEqual([]);
    // other.ts imports state.ts; exp.ts does not import other.ts, so its facts are kept.
    for (const [text, expected] of [[noisy, [`exp.ts:${position(exp, 'step("s"', "seen.length")} CRY3004`]], [quiet, []]] as const) {
      const changed = p.write({ "src/other.ts": text });
      hasher.retarget(p.loaded.host(), new Set(changed));
      expect(check()).toEqual(expected);
    }
  });
});
