// Cache soundness of the structural hash (issue 12, compiler half): each way a step's code can
// depend on something is in its hash (a namespace object's members chosen at run time, dynamic
// and side-effect imports, JSON modules, static fields assigned elsewhere, raw template text,
// declaration kinds, parameter properties, packages re-exported by the project, compiler options
// that change the emitted code), nothing that cannot change behaviour is (a package used only
// as a type), usesRandom is true unless the walk proves otherwise, and CRY3002/CRY3003 see
// through aliases, destructuring and optional chaining.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Watcher } from "../../src/compiler/watch.js";
import { tempProjects, type TempProject } from "./temp-project.js";
import { apply, formattingOf } from "./formatting-edits.js";

const project = tempProjects();

const HEAD = `import { experiment, pipeline, source, step } from "crystallize-ts";\n`;
const tail = (steps: readonly string[]) =>
  `\nconst data = source("data", () => [1, 2, 3]);\nexport const e = experiment("e", { source: data, pipeline: pipeline(${steps.join(", ")}), replicates: 1 });\n`;

interface Facts {
  hash: string;
  usesRandom: boolean;
}

function hashes(p: TempProject): Record<string, Facts> {
  const out: Record<string, Facts> = {};
  for (const e of p.analyze().manifest.experiments) for (const s of e.steps) if (s.name && s.hash) out[s.name] = { hash: s.hash, usesRandom: s.usesRandom };
  return out;
}

/** The steps whose hash changes when `edits` are written (the files are restored afterwards). */
function changedBy(p: TempProject, edits: Readonly<Record<string, string>>): string[] {
  const before = hashes(p);
  const originals = Object.fromEntries(Object.keys(edits).map((f) => [f, readFileSync(p.path(f), "utf8")]));
  p.write(edits);
  try {
    const after = hashes(p);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    return Object.keys(before).filter((n) => after[n]!.hash !== before[n]!.hash).sort();
  } finally {
    p.write(originals);
  }
}

/**
 * The law every case keeps: reformatting, comments and type-only edits of `files` keep every hash,
 * and never turn usesRandom from true to false (a weaker type may make it true: a miss, not a hit).
 */
function cosmeticEditsKeepHashes(p: TempProject, files: readonly string[], numRuns: number, seed: number): void {
  const originals = Object.fromEntries(files.map((f) => [f, readFileSync(p.path(f), "utf8")]));
  const before = hashes(p);
  fc.assert(
    fc.property(formattingOf(files, (f) => originals[f]!), ({ file, edits }) => {
      p.write({ [file]: apply(originals[file]!, edits) });
      try {
        const after = hashes(p);
        for (const n of Object.keys(before)) {
          expect(after[n]?.hash, `${n} after editing ${file}`).toBe(before[n]!.hash);
          if (before[n]!.usesRandom) expect(after[n]!.usesRandom, n).toBe(true);
        }
      } finally {
        p.write({ [file]: originals[file]! });
      }
    }),
    { numRuns, seed },
  );
}

function lock(packages: Readonly<Record<string, Readonly<Record<string, unknown>>>>): string {
  return JSON.stringify({ name: "t", lockfileVersion: 3, packages: { "": { name: "t" }, ...packages } });
}

/** An installed package: package.json, index.js, index.d.ts under node_modules/name. */
function pkgFiles(name: string, version: string, dts: string, js = "export {};\n"): Record<string, string> {
  const dir = `node_modules/${name}`;
  return {
    [`${dir}/package.json`]: JSON.stringify({ name, version, type: "module", exports: { ".": { types: "./index.d.ts", default: "./index.js" } } }),
    [`${dir}/index.js`]: js,
    [`${dir}/index.d.ts`]: dts,
  };
}

describe("a namespace object, dynamic and side-effect imports", () => {
  const p = project({
    "src/ops.ts": `export const add = (x: number): number => x + 1;\nexport const mul = (x: number): number => x * 2;\nexport * from "./more.js";\n`,
    "src/more.ts": `export const sub = (x: number): number => x - 1;\n`,
    "src/helper.ts": `export const f = (x: number): number => x + 10;\nexport const g = (x: number): number => x - 10;\n`,
    "src/setup.ts": `// Sets a global the "scaled" step reads.\n(globalThis as { factor?: number }).factor = 2;\n`,
    "src/scaled.ts": `import { step } from "crystallize-ts";\nimport "./setup.js";\nexport const scaled = step("scaled", (xs: number[]) => xs.map((x) => x * ((globalThis as { factor?: number }).factor ?? 1)));\n`,
    "src/exp.ts": `${HEAD}import * as ops from "./ops.js";
import { scaled } from "./scaled.js";
type Op = "add" | "mul" | "sub";
const pick = step("pick", { params: { op: "add" as Op }, cacheable: true }, (xs: number[], ctx) => xs.map((x) => ops[ctx.params.op](x)));
const all = step("all", (xs: number[]) => xs.map((x) => Object.values(ops).reduce((a, g) => g(a), x)));
const direct = step("direct", (xs: number[]) => xs.map((x) => ops.add(x)));
const dynamic = step("dynamic", { params: { fn: "f" as "f" | "g" } }, async (xs: number[], ctx) => {
  const m = await import("./helper.js");
  return xs.map(m[ctx.params.fn]);
});
${tail(["pick", "all", "direct", "dynamic", "scaled"])}`,
  });

  it("type-checks", () => expect(p.typeErrors()).toEqual([]));

  it("a member chosen at run time (ops[key], Object.values(ops)): every member counts, re-exported ones too", () => {
    expect(changedBy(p, { "src/ops.ts": readFileSync(p.path("src/ops.ts"), "utf8").replace("x * 2", "x * 3") })).toEqual(["all", "pick"]);
    expect(changedBy(p, { "src/more.ts": `export const sub = (x: number): number => x - 2;\n` })).toEqual(["all", "pick"]);
    expect(changedBy(p, { "src/ops.ts": readFileSync(p.path("src/ops.ts"), "utf8").replace("x + 1", "x + 2") })).toEqual(["all", "direct", "pick"]);
  });

  it("await import() with a static specifier counts like a static import", () => {
    expect(changedBy(p, { "src/helper.ts": `export const f = (x: number): number => x + 10;\nexport const g = (x: number): number => x - 11;\n` })).toEqual(["dynamic"]);
  });

  it("a side-effect import counts for the steps of the file that imports it", () => {
    expect(changedBy(p, { "src/setup.ts": `(globalThis as { factor?: number }).factor = 3;\n` })).toEqual(["scaled"]);
    expect(changedBy(p, { "src/setup.ts": `// Another comment.\n(globalThis as { factor?: number }).factor = 2;\n` })).toEqual([]);
  });

  it("keep their hashes under cosmetic edits", () => cosmeticEditsKeepHashes(p, ["src/ops.ts", "src/exp.ts", "src/scaled.ts", "src/setup.ts"], 12, 21));
});

describe("JSON modules", () => {
  const p = project(
    {
      "package.json": JSON.stringify({ name: "t", type: "module" }),
      "src/table.json": `{ "a": 1, "b": 2 }\n`,
      "src/other.json": `{ "c": 3 }\n`,
      "src/exp.ts": `${HEAD}import table from "./table.json" with { type: "json" };
const lookup = step("lookup", { params: { k: "a" as "a" | "b" } }, (xs: number[], ctx) => xs.map((x) => x + table[ctx.params.k]));
const loaded = step("loaded", async (xs: number[]) => {
  const t = await import("./other.json", { with: { type: "json" } });
  return xs.map((x) => x + t.default.c);
});
const plain = step("plain", (xs: number[]) => xs);
${tail(["lookup", "loaded", "plain"])}`,
    },
    { resolveJsonModule: true },
  );

  it("type-checks", () => expect(p.typeErrors()).toEqual([]));

  it("count with their whole content, read by a computed key or through import()", () => {
    expect(changedBy(p, { "src/table.json": `{ "a": 1, "b": 5 }\n` })).toEqual(["lookup"]);
    expect(changedBy(p, { "src/other.json": `{ "c": 4 }\n` })).toEqual(["loaded"]);
  });

  it("are tracked by watch mode, and an edit on disk recompiles with the new hash", async () => {
    const w = Watcher.create({ project: p.dir, emit: false, debounceMs: 10 });
    if (!(w instanceof Watcher)) throw new Error("no watcher");
    const results: Record<string, string | null>[] = [];
    const byName = (r: Awaited<ReturnType<Watcher["update"]>>) => Object.fromEntries(r.manifest!.experiments[0]!.steps.map((s) => [s.name, s.hash]));
    let resolveNext: (() => void) | undefined;
    try {
      await w.start((r) => {
        results.push(byName(r));
        resolveNext?.();
      });
      expect(w.watches(p.path("src/table.json"))).toBe(true);
      expect(w.watches(p.path("src/other.json"))).toBe(true);
      expect(w.watches(p.path("src/unrelated.json"))).toBe(false);
      const next = new Promise<void>((r) => (resolveNext = r));
      writeFileSync(p.path("src/table.json"), `{ "a": 7, "b": 2 }\n`);
      await Promise.race([next, new Promise((_, rej) => setTimeout(() => rej(new Error("no recompile after the JSON edit")), 20000))]);
      expect(results.length).toBe(2);
      expect(results[1]!.lookup).not.toBe(results[0]!.lookup);
      expect(results[1]!.plain).toBe(results[0]!.plain);
    } finally {
      await w.close();
      writeFileSync(p.path("src/table.json"), `{ "a": 1, "b": 2 }\n`);
    }
  }, 60000);
});

describe("a class's static field assigned elsewhere", () => {
  const p = project({
    "src/config.ts": `export class Config {\n  static factor = 2;\n}\nexport class Fixed {\n  static factor = 2;\n}\n`,
    "src/tune.ts": `import { Config } from "./config.js";\nConfig.factor = 4;\n`,
    "src/later.ts": `import { Fixed } from "./config.js";\nexport function bump(): void {\n  Fixed.factor += 1;\n}\n`,
    "src/exp.ts": `${HEAD}import { Config, Fixed } from "./config.js";
const scaled = step("scaled", { cacheable: true }, (xs: number[]) => xs.map((x) => x * Config.factor));
const fixed = step("fixed", { cacheable: true }, (xs: number[]) => xs.map((x) => x * Fixed.factor));
const plain = step("plain", { cacheable: true }, (xs: number[]) => xs);
${tail(["scaled", "fixed", "plain"])}`,
  });

  it("type-checks", () => expect(p.typeErrors()).toEqual([]));

  it("changes the hash of the steps that read it", () => {
    expect(changedBy(p, { "src/tune.ts": `import { Config } from "./config.js";\nConfig.factor = 5;\n` })).toEqual(["scaled"]);
    expect(changedBy(p, { "src/later.ts": readFileSync(p.path("src/later.ts"), "utf8").replace("+= 1", "+= 2") })).toEqual(["fixed"]);
  });

  it("keeps its hashes under cosmetic edits of the class, the mutations and the steps", () => cosmeticEditsKeepHashes(p, ["src/config.ts", "src/tune.ts", "src/later.ts", "src/exp.ts"], 12, 22));

  it("in watch mode, a mutation added in a new file changes the hash of the steps that read it", async () => {
    const w = Watcher.create({ project: p.dir, emit: false });
    if (!(w instanceof Watcher)) throw new Error("no watcher");
    const byName = (r: Awaited<ReturnType<Watcher["update"]>>) => Object.fromEntries(r.manifest!.experiments[0]!.steps.map((s) => [s.name, s.hash]));
    const added = p.path("src/tune2.ts");
    try {
      const first = byName(await w.update());
      writeFileSync(added, `import { Config } from "./config.js";\nConfig.factor = 9;\n`);
      const second = byName(await w.update([added]));
      expect(second.scaled).not.toBe(first.scaled);
      expect(second.plain).toBe(first.plain);
    } finally {
      await w.close();
      rmSync(added, { force: true });
      p.loaded.refresh([added]);
    }
  });

  it("is reported by CRY3004 at the read, naming where, top-level or in a function", () => {
    const found = p.analyze().diagnostics.filter((d) => d.code === "CRY3004");
    expect(found.map((d) => d.message.match(/step "(\w+)"/)?.[1]).sort()).toEqual(["fixed", "scaled"]);
    expect(found.find((d) => d.message.includes('"scaled"'))!.message).toContain("tune.ts:2");
    expect(found.find((d) => d.message.includes('"fixed"'))!.message).toContain("later.ts:3");
  });
});

describe("usesRandom", () => {
  const p = project({
    ...pkgFiles("ctxlib", "1.0.0", "export declare function use(c: unknown): number;\n", "export const use = () => 0;\n"),
    "src/helpers.ts": `import type { Context } from "crystallize-ts";
export function scale(xs: number[], ctx: Context<{ k: number }>): number[] {
  return xs.map((x) => x * ctx.params.k);
}
export function jitter(xs: number[], ctx: Context<{ k: number }>): number[] {
  return xs.map((x) => x + ctx.random());
}
export function opaque(xs: number[], ctx: unknown): number[] {
  return typeof ctx === "object" ? xs : [];
}
export function run(xs: number[], ctx: Context<{ k: number }>): number[] {
  return xs.map((x) => x * ctx.params.k);
}
export function runLoose(xs: number[], ctx: { params: { k: number } }): number[] {
  return xs.map((x) => x * ctx.params.k);
}
export const make = () => (xs: number[]) => xs;
`,
    "src/exp.ts": `${HEAD}import { use } from "ctxlib";
import { jitter, make, opaque, run, runLoose, scale } from "./helpers.js";
const o = { params: { k: 2 } };
const viaScale = step("viaScale", o, (xs: number[], ctx) => scale(xs, ctx));
const viaJitter = step("viaJitter", o, (xs: number[], ctx) => jitter(xs, ctx));
const viaOpaque = step("viaOpaque", o, (xs: number[], ctx) => opaque(xs, ctx));
const viaPkg = step("viaPkg", o, (xs: number[], ctx) => xs.map((x) => x + use(ctx)));
const apart = step("apart", o, run);
const apartLoose = step("apartLoose", o, runLoose);
const made = step("made", make());
const alias = step("alias", o, (xs: number[], ctx) => {
  const c = ctx;
  return xs.map((x) => x * c.params.k);
});
const rest = step("rest", o, (xs: number[], ctx) => {
  const { params, ...others } = ctx;
  return Object.keys(others).length ? xs.map((x) => x * params.k) : xs;
});
const stored = step("stored", o, (xs: number[], ctx) => {
  const box = { ctx };
  return box.ctx.params.k ? xs : [];
});
const plain = step("plain", (xs: number[]) => xs);
${tail(["viaScale", "viaJitter", "viaOpaque", "viaPkg", "apart", "apartLoose", "made", "alias", "rest", "stored", "plain"])}`,
    "package-lock.json": lock({ "node_modules/ctxlib": { version: "1.0.0" } }),
  });

  it("type-checks", () => expect(p.typeErrors()).toEqual([]));

  it("is true unless the walk proves the context cannot reach random()", () => {
    const h = hashes(p);
    const random = Object.keys(h).filter((n) => h[n]!.usesRandom).sort();
    expect(random).toEqual(["apartLoose", "made", "rest", "stored", "viaJitter", "viaOpaque", "viaPkg"].sort());
  });

  it("stays true under cosmetic edits, which keep every hash", () => cosmeticEditsKeepHashes(p, ["src/helpers.ts", "src/exp.ts"], 12, 23));
});

describe("CRY3002 / CRY3003 through aliases, destructuring and optional chaining", () => {
  const random = {
    destructured: "const { random } = Math;\n  return xs.map(() => random());",
    renamed: "const { random: rnd } = Math;\n  return xs.map(() => rnd());",
    member: "const r = Math.random;\n  return xs.map(() => r());",
    optional: "return xs.map(() => Math?.random());",
    aliased: "const m = Math;\n  return xs.map(() => m.random());",
    viaGlobalThis: "return xs.map(() => globalThis.Math.random());",
    elementKey: 'return xs.map(() => Math["random"]());',
  };
  const env = {
    envDestructured: "const { env } = process;\n  return env.K ? xs : [];",
    envOptional: "return process?.env.K ? xs : [];",
    envAliased: "const pr = process;\n  return pr.env.K ? xs : [];",
    envGlobalThis: "return globalThis.process.env.K ? xs : [];",
    envKey: 'return process["env"].K ? xs : [];',
    envImported: "const { env } = proc;\n  return env.K ? xs : [];",
    envRest: "const { ...all } = process;\n  return all.env.K ? xs : [];",
  };
  const clean = {
    mathMax: "const { max } = Math;\n  return xs.map((x) => max(x, 0));",
    argv: "const { argv } = process;\n  return argv.length ? xs : [];",
  };
  const all = { ...random, ...env, ...clean };
  const p = project({
    "src/exp.ts": `${HEAD}import proc from "node:process";
${Object.entries(all).map(([n, body]) => `const ${n} = step("${n}", { cacheable: true }, (xs: number[]) => {\n  ${body}\n});`).join("\n")}
${tail(Object.keys(all))}`,
  });

  it("type-checks", () => expect(p.typeErrors()).toEqual([]));

  it("are reported for every form, and not for other members", () => {
    const d = p.analyze().diagnostics;
    const named = (code: string) => d.filter((x) => x.code === code).map((x) => x.message.match(/step "(\w+)"/)?.[1]).sort();
    expect(named("CRY3002")).toEqual(Object.keys(random).sort());
    expect(named("CRY3003")).toEqual(Object.keys(env).sort());
  });
});

describe("packages", () => {
  const base = {
    ...pkgFiles("shapes", "1.0.0", "export interface Shape { n: number }\nexport declare function area(s: Shape): number;\n", "export const area = (s) => s.n;\n"),
    ...pkgFiles("padder", "1.0.0", "export declare function pad(s: string): string;\n", "export const pad = (s) => s;\n"),
    "node_modules/typed-locally/package.json": JSON.stringify({ name: "typed-locally", version: "1.0.0", type: "module", main: "index.js" }),
    "node_modules/typed-locally/index.js": "export const twice = (x) => 2 * x;\n",
    "src/typings.d.ts": `declare module "typed-locally" {\n  export function twice(x: number): number;\n}\n`,
    "src/barrel.ts": `export { pad } from "padder";\nexport { twice } from "typed-locally";\n`,
    "src/exp.ts": `${HEAD}import { Shape, area } from "shapes";
import type { Shape as S2 } from "shapes";
import { pad, twice } from "./barrel.js";
const typeOnly = step("typeOnly", (xs: number[]) => xs.map((n): Shape => ({ n })).map((s: S2) => s.n));
const value = step("value", (xs: number[]) => xs.map((n) => area({ n })));
const padded = step("padded", (xs: number[]) => xs.map((n) => pad(String(n)).length));
const doubled = step("doubled", (xs: number[]) => xs.map(twice));
${tail(["typeOnly", "value", "padded", "doubled"])}`,
  };
  const versions = { shapes: "1.0.0", padder: "1.0.0", "typed-locally": "1.0.0", left: "1.0.0", right: "1.0.0", nested: "1.0.0" };
  const lockOf = (v: typeof versions) =>
    lock({
      "node_modules/shapes": { version: v.shapes },
      "node_modules/padder": { version: v.padder, dependencies: { left: "^1.0.0" } },
      "node_modules/left": { version: v.left, dependencies: { nested: "^1.0.0" } },
      "node_modules/nested": { version: v.nested, integrity: `sha512-${v.nested}` },
      "node_modules/right": { version: v.right },
      "node_modules/typed-locally": { version: v["typed-locally"] },
    });
  const p = project({ ...base, "package-lock.json": lockOf(versions) });

  it("type-checks", () => expect(p.typeErrors()).toEqual([]));

  it("a package used only as a type does not count; one used as a value does", () => {
    expect(changedBy(p, { "package-lock.json": lockOf({ ...versions, shapes: "1.1.0" }) })).toEqual(["value"]);
  });

  it("a package re-exported by a project module counts, also one typed by a local declare module", () => {
    expect(changedBy(p, { "package-lock.json": lockOf({ ...versions, padder: "1.0.1" }) })).toEqual(["padded"]);
    expect(changedBy(p, { "package-lock.json": lockOf({ ...versions, "typed-locally": "2.0.0" }) })).toEqual(["doubled"]);
  });

  it("a dependency's dependency counts with its version and integrity (the lockfile closure); an unrelated package does not", () => {
    expect(changedBy(p, { "package-lock.json": lockOf({ ...versions, nested: "1.0.1" }) })).toEqual(["padded"]);
    expect(changedBy(p, { "package-lock.json": lockOf({ ...versions, right: "1.0.1" }) })).toEqual([]);
  });

  it("keep their hashes under cosmetic edits of the barrel and the steps", () => cosmeticEditsKeepHashes(p, ["src/barrel.ts", "src/exp.ts"], 10, 24));
});

describe("a file: package", () => {
  const p = project({
    "local/package.json": JSON.stringify({ name: "local", version: "1.0.0", type: "module" }),
    "local/index.js": "export const k = 1;\n",
    ...pkgFiles("local", "1.0.0", "export declare const k: number;\n", "export const k = 1;\n"),
    "package-lock.json": lock({ "node_modules/local": { resolved: "local", link: true }, local: { name: "local", version: "1.0.0" } }),
    "src/exp.ts": `${HEAD}import { k } from "local";
const uses = step("uses", (xs: number[]) => xs.map((x) => x + k));
const plain = step("plain", (xs: number[]) => xs);
${tail(["uses", "plain"])}`,
  });

  it("counts with its files' content under the same version", () => {
    expect(p.typeErrors()).toEqual([]);
    expect(changedBy(p, { "local/index.js": "export const k = 2;\n" })).toEqual(["uses"]);
  });
});

describe("compiler options that change the emitted code", () => {
  const files = {
    "src/exp.ts": `${HEAD}class Box {\n  n = 1;\n}\nconst boxed = step("boxed", (xs: number[]) => xs.map((x) => x + new Box().n));\n${tail(["boxed"])}`,
  };
  const hashWith = (options: Record<string, unknown>) => hashes(project(files, options)).boxed!.hash;

  it("are in the hash (target, useDefineForClassFields, experimentalDecorators, jsx, module); others are not", () => {
    const base = hashWith({});
    const variants = [{ target: "ES2020" }, { useDefineForClassFields: false }, { experimentalDecorators: true }, { jsx: "react-jsx" }, { module: "ES2022", moduleResolution: "Bundler" }];
    const hs = variants.map(hashWith);
    expect(new Set([base, ...hs]).size).toBe(variants.length + 1);
    expect(hashWith({ noUnusedLocals: true, noImplicitReturns: true })).toBe(base);
    // The default of useDefineForClassFields follows the target: saying it explicitly is no change.
    expect(hashWith({ useDefineForClassFields: true })).toBe(base);
  });
});

describe("syntax whose meaning the hash must keep", () => {
  const stepFile = (body: string) => `${HEAD}const s = step("s", (xs: number[]) => {\n  ${body}\n});\n${tail(["s"])}`;
  const p = project({ "src/exp.ts": stepFile("return xs;") });
  const hashOf = (body: string) => {
    p.write({ "src/exp.ts": stepFile(body) });
    return hashes(p).s!.hash;
  };
  // Characters with an escape spelling that has the same cooked value.
  const chars = fc.constantFrom("A", "z", "0", "é", "~");
  const escape = (c: string) => `\\u{${c.codePointAt(0)!.toString(16)}}`;

  it("a tagged template hashes its raw text; an untagged one its value (escapes are cosmetic there)", () => {
    fc.assert(
      fc.property(chars, fc.string({ unit: fc.constantFrom("a", "b", " "), maxLength: 4 }), (c, rest) => {
        expect(hashOf(`return xs.map(() => \`${rest}${escape(c)}\`.length);`)).toBe(hashOf(`return xs.map(() => \`${rest}${c}\`.length);`));
        expect(hashOf(`return xs.map(() => String.raw\`${rest}${escape(c)}\`.length);`)).not.toBe(hashOf(`return xs.map(() => String.raw\`${rest}${c}\`.length);`));
      }),
      { numRuns: 6, seed: 12 },
    );
    expect(hashOf("return xs.map(() => String.raw`\\d${1}+`.length);")).not.toBe(hashOf("return xs.map(() => String.raw`d${1}+`.length);"));
  });

  it("declaration kinds inside functions (let, var, const) differ", () => {
    const loop = (kw: string) => `const fs: (() => number)[] = [];\n  for (${kw} i = 0; i < 3; i++) fs.push(() => i);\n  return xs.map((x, j) => x + fs[j % 3]!());`;
    const [l, v] = [hashOf(loop("let")), hashOf(loop("var"))];
    expect(l).not.toBe(v);
    const decl = (kw: string) => `${kw} k = 2;\n  return xs.map((x) => x * k);`;
    expect(new Set([hashOf(decl("let")), hashOf(decl("var")), hashOf(decl("const"))]).size).toBe(3);
  });

  it("a constructor parameter property counts; which accessibility it has does not", () => {
    const cls = (mod: string) => `class P {\n    constructor(${mod}x: number) {}\n  }\n  return xs.map((x) => Object.keys(new P(x)).length);`;
    const plain = hashOf(cls(""));
    const props = ["readonly ", "public ", "private ", "protected ", "public readonly "].map((m) => hashOf(cls(m)));
    expect(new Set(props).size).toBe(1);
    expect(props[0]).not.toBe(plain);
  });
});
