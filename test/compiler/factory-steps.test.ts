// Steps made by project factory functions (`make("a")` where make returns step(...)): discovery
// follows the call, so each made step has its name, params, metrics and a structural hash, the
// step rules see it, and the manifest gives runners its hash. Factories the compiler cannot
// follow keep CRY1016, with the reason.
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { analyze, loadProject, stepHashesOf, type Analysis, type ManifestExperiment } from "../../src/compiler/index.js";
import { TempProject, tempProjects } from "./temp-project.js";

const HEAD = `import { experiment, hypothesis, pipeline, source, step, treatment, type Verifier } from "crystallize-ts";
const numbers = source("numbers", () => [1, 2, 3]);
const meanDiff: Verifier = {
  kind: "verifier",
  name: "mean-diff",
  alpha: 0.05,
  alternative: "two-sided",
  test: () => ({ pValue: 1, statistic: 0, significant: false, effectSize: 0, method: "none" }),
};
void hypothesis;
void treatment;
void meanDiff;
`;

function experimentNamed(a: Analysis, name: string): ManifestExperiment {
  const e = a.manifest.experiments.find((x) => x.name === name);
  if (!e) throw new Error(`no experiment ${name}`);
  return e;
}

/** `line:col` of `token` on the first line that contains `needle` (1-based). */
function at(text: string, needle: string, token: string = needle): string {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`not found: ${needle}`);
  return `${i + 1}:${lines[i]!.indexOf(token) + 1}`;
}

describe("factory-made steps in the rules fixture (cry1016-factories.ts)", () => {
  let analysis: Analysis;
  beforeAll(() => {
    const load = loadProject({ project: fileURLToPath(new URL("../fixtures/compiler/projects/rules", import.meta.url)) });
    if (!load.ok) throw new Error("cannot load the rules fixture");
    analysis = analyze(load.loaded, { tsDiagnostics: [] });
  });

  it("are listed in the manifest with their names, params, metrics, cacheable flag and distinct hashes", () => {
    const e = experimentNamed(analysis, "cry1016-factories");
    expect(e.steps.map((s) => [s.name, s.params, s.metrics, s.cacheable])).toEqual([
      ["plus-one", {}, [], false],
      ["plus-two", {}, [], false],
      ["x-scaled", { factor: 3 }, ["total"], false],
      ["via-namespace", {}, [], false],
      ["sorted", {}, [], true],
    ]);
    const hashes = e.steps.map((s) => s.hash);
    expect(hashes.every((h) => /^[0-9a-f]{64}$/.test(h ?? ""))).toBe(true);
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(e.steps.map((s) => `${s.file}:${s.line}`)).toEqual([11, 12, 13, 14, 15].map((l) => `src/cry1016-factories.ts:${l}`));
    expect(e.steps.every((s) => s.in === "number[]" && s.out === "number[]")).toBe(true);
    expect(Object.keys(stepHashesOf(e))).toEqual(["plus-one", "plus-two", "x-scaled", "via-namespace", "sorted"]);
  });

  it("leave the unfollowable factory of cry1016.ts unhashed, with the reason in CRY1016's message", () => {
    const e = experimentNamed(analysis, "cry1016");
    expect(e.steps.map((s) => s.hash === null)).toEqual([false, true]);
    const d = analysis.diagnostics.find((x) => x.code === "CRY1016");
    expect(d?.message).toContain("make has more in its body than const declarations and one `return step(...)`");
    expect(d?.message).toContain("make its factory return step(...) in a single return statement");
  });
});

describe("factory-made steps", () => {
  const project = tempProjects();

  it("are followed through imports, defaults, const locals, templates, concatenation and destructured options", () => {
    const lib = `import { step } from "crystallize-ts";
export function tagged(prefix: string, sep = "-", k = 2) {
  const label = prefix + sep + "tag";
  const made = step(\`\${label}\${k}\`, { params: { k }, metrics: ["n"], cacheable: k > 1 }, (xs: number[], ctx) => {
    ctx.record("n", xs.length);
    return xs.map((x) => x * ctx.params.k);
  });
  return made;
}
export const opts = ({ name, every: n = 1 }: { name: string; every?: number }) => step(name, { params: { n } }, (xs: number[]) => xs.filter((_, i) => i % n === 0));
`;
    const exp = `${HEAD}import { opts, tagged } from "./lib.js";
const NAME = "const-name";
export const e = experiment("e", {
  source: numbers,
  pipeline: pipeline(tagged("a"), tagged("b", "_", 3), opts({ name: NAME }), opts({ name: "every2", every: 2 })),
  treatments: [treatment("t", { k: 5, n: 2 })],
  hypotheses: [hypothesis("h", { metric: "n", test: meanDiff })],
});
`;
    const p = project({ "src/lib.ts": lib, "src/exp.ts": exp });
    expect(p.typeErrors()).toEqual([]);
    const a = p.analyze();
    expect(a.diagnostics.filter((d) => d.code.startsWith("CRY"))).toEqual([]);
    // cacheable: k > 1 is not a literal, so it reads as false (the compiler does not compute comparisons).
    expect(experimentNamed(a, "e").steps.map((s) => [s.name, s.params, s.metrics, s.cacheable])).toEqual([
      ["a-tag2", { k: 2 }, ["n"], false],
      ["b_tag3", { k: 3 }, ["n"], false],
      ["const-name", { n: 1 }, [], false],
      ["every2", { n: 2 }, [], false],
    ]);
  });

  it("are checked by the step rules, with diagnostics at the call site where the call decides", () => {
    const exp = `${HEAD}let runs = 0;
export function ran(): void {
  runs++;
}
const make = (name: string, by: number) => step(name, { cacheable: true, params: { by } }, (xs: number[]) => xs.map((x) => x + by + runs));
const timed = (name: string) => step(name, { cacheable: true }, (xs: number[]) => xs.map((x) => x + Date.now()));
const withMetric = (name: string, metric: string) => step(name, { metrics: [metric, metric] }, (xs: number[]) => xs);
const label = String(Math.PI);
export const e = experiment("e", {
  source: numbers,
  pipeline: pipeline(make("same", 1), make("same", 2), timed("a/b"), make(label, 3), withMetric("m", "score")),
  treatments: [treatment("t", { bye: 2 })],
  hypotheses: [hypothesis("h", { metric: "scor", test: meanDiff })],
});
`;
    const p = project({ "src/exp.ts": exp });
    const a = p.analyze();
    const codes = ["CRY1002", "CRY1004", "CRY1005", "CRY1011", "CRY1012", "CRY1013", "CRY1016", "CRY3001", "CRY3004"];
    expect(TempProject.where(a.diagnostics, codes).sort()).toEqual(
      [
        `exp.ts:${at(exp, "pipeline(make", 'make("same", 2)')} CRY1002`, // the second use of the name
        `exp.ts:${at(exp, "bye")} CRY1004`,
        `exp.ts:${at(exp, '"scor"')} CRY1005`,
        `exp.ts:${at(exp, "const withMetric", "metric]")} CRY1011`, // in the factory, where the list is
        `exp.ts:${at(exp, "pipeline(make", '"a/b"')} CRY1012`, // the argument that names the step
        `exp.ts:${at(exp, "pipeline(make", "label, 3")} CRY1013`,
        `exp.ts:${at(exp, "const timed", "Date.now")} CRY3001`,
        `exp.ts:${at(exp, "const make", "runs)")} CRY3004`,
      ].sort(),
    );
    const messages = a.diagnostics.map((d) => d.message);
    expect(messages.find((m) => m.includes("Date.now()"))).toContain('step "a/b" is cacheable');
    expect(messages.find((m) => m.includes("let runs"))).toMatch(/steps "same", "\?" are cacheable/);
    expect(messages.find((m) => m.includes('"bye"'))).toContain('Did you mean "by"?');
    // The step with a dynamic name is still hashed; only runners cannot look it up by name.
    const steps = experimentNamed(a, "e").steps;
    expect(steps[3]).toMatchObject({ name: null, params: { by: 3 } });
    expect(steps[3]!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("keep CRY1016, with the reason, for factories the compiler cannot follow", () => {
    const other = `export const helper = (n: number) => n + 1;\n`;
    const exp = `${HEAD}import { helper } from "./other.js";
function branches(name: string, twice: boolean) {
  if (twice) return step(name, (xs: number[]) => xs.map((x) => x * 2));
  return step(name, (xs: number[]) => xs);
}
let reassignable = (name: string) => step(name, (xs: number[]) => xs);
reassignable = (name: string) => step(name + "!", (xs: number[]) => xs);
async function later(name: string) {
  return step(name, (xs: number[]) => xs);
}
const plain = (name: string) => step(name, (xs: number[]) => xs);
const nested = (name: string) => plain(name);
const statements = (name: string) => {
  console.log(name);
  return step(name, (xs: number[]) => xs);
};
const holder = { make: (name: string) => step(name, (xs: number[]) => xs) };
export const e = experiment("e", {
  source: numbers,
  pipeline: pipeline(
    branches("b", true),
    reassignable("r"),
    later("l") as unknown as ReturnType<typeof plain>,
    nested("n"),
    statements("s"),
    holder.make("h"),
    helper(1) as unknown as ReturnType<typeof plain>,
  ),
});
`;
    const p = project({ "src/other.ts": other, "src/exp.ts": exp });
    expect(p.typeErrors()).toEqual([]);
    const found = p.analyze().diagnostics.filter((d) => d.code === "CRY1016");
    const reasons = found.map((d) => `${d.line}:${d.column} ${/ call \((.*)\), so it is/.exec(d.message)?.[1]}`);
    expect(reasons).toEqual([
      `${at(exp, 'branches("b"')} branches has more in its body than const declarations and one \`return step(...)\``,
      `${at(exp, 'reassignable("r"')} reassignable is not a const, so it may be reassigned`,
      `${at(exp, 'later("l")')} later is async or a generator`,
      `${at(exp, 'nested("n"')} nested does not return a step(...) call`,
      `${at(exp, 'statements("s"')} statements has more in its body than const declarations and one \`return step(...)\``,
      `${at(exp, 'holder.make("h"')} make is not a function declaration or a const holding a function`,
      `${at(exp, "helper(1)")} helper does not return a step(...) call`,
    ]);
  });

  it("give the manifest one hash per call: the same for the same factory and arguments, different otherwise", () => {
    const lib = `import { step } from "crystallize-ts";
export const shift = (name: string, by: number) => step(name, (xs: number[]) => xs.map((x) => x + by));
export const apply = (name: string, f: (x: number) => number) => step(name, (xs: number[]) => xs.map(f));
export const run = (name: string, fn: (xs: number[]) => number[]) => step(name, fn);
`;
    const exp = (body: string) => `${HEAD}import { apply, run, shift } from "./lib.js";
const double = (x: number) => x * 2;
${body}
`;
    const one = exp(`export const e1 = experiment("e1", { source: numbers, pipeline: pipeline(shift("s", 1), apply("f", double), run("r", (xs) => xs.slice(1))) });
export const e2 = experiment("e2", { source: numbers, pipeline: pipeline(shift("s", 1), shift("s2", 1), shift("s", 2)) });`);
    const p = project({ "src/lib.ts": lib, "src/exp.ts": one });
    expect(p.typeErrors()).toEqual([]);
    const hashes = () => {
      const a = p.analyze();
      return [...experimentNamed(a, "e1").steps, ...experimentNamed(a, "e2").steps].map((s) => s.hash);
    };
    const [s1, f, r, again, renamed, other] = hashes();
    expect(again).toBe(s1); // same factory, same arguments: same code, same hash
    expect(new Set([s1, f, r, renamed, other]).size).toBe(5);
    // What an argument references is part of the hash: editing `double` changes apply's step only.
    p.write({ "src/exp.ts": one.replace("x * 2", "x * 3") });
    const after = hashes();
    expect(after.map((h, i) => h !== [s1, f, r, again, renamed, other][i])).toEqual([false, true, false, false, false, false]);
    // A run function passed in is the step's own code.
    p.write({ "src/exp.ts": one.replace("xs.slice(1)", "xs.slice(2)") });
    expect(hashes().map((h, i) => h !== [s1, f, r, again, renamed, other][i])).toEqual([false, false, true, false, false, false]);
  });
});
