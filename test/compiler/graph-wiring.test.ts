// The compiler and graph() wire graphs by one rule (src/dsl/graph-wiring.ts). Each test writes
// graphs as modules of a temporary project, compiles it, then imports the same modules at run time
// (through vitest's "crystallize-ts" alias) and checks both sides reach the same verdict per input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GraphCycleError, ValidationError } from "../../src/errors.js";
import { analyseGraph, type Graph } from "../../src/dsl/graph.js";
import type { AnyExperiment } from "../../src/dsl/experiment.js";
import type { Analysis } from "../../src/compiler/compile.js";
import { graphMembers, inputLinks } from "../../src/compiler/rules/graphs.js";
import { TempProject } from "./temp-project.js";

interface InputSpec {
  readonly key: string;
  /** Index into the graph's artifact declarations. */
  readonly artifact: number;
  /** An earlier experiment's index: read as `e<from>.output(a<artifact>)`; else the bare artifact. */
  readonly from?: number;
}
interface ExpSpec {
  readonly outputs: readonly number[];
  readonly inputs: readonly InputSpec[];
}
interface GraphSpec {
  readonly name: string;
  /** File names of the artifact declarations a0, a1, ... (repeats: same name, another declaration). */
  readonly artifacts: readonly string[];
  readonly exps: readonly ExpSpec[];
  /** Which experiments the graph lists, in listing order (the others are outside it). */
  readonly members: readonly number[];
}

const common = `import { source, step } from "crystallize-ts";
export const numbers = source("numbers", (ctx) => [ctx.random()]);
export const keep = step("keep", (xs: number[]) => xs);
export const take = step("take", (x: object) => [Object.keys(x).length]);
`;

const expName = (g: GraphSpec, i: number) => `${g.name}-e${i}`;

/** src/<g>-exps.ts (artifacts and experiments: importing it never throws) and src/<g>.ts (the graph). */
function graphFiles(g: GraphSpec): Record<string, string> {
  const lines = [`import { artifact, experiment, input, pipeline } from "crystallize-ts";`, `import { numbers, keep, take } from "./common.js";`];
  g.artifacts.forEach((n, i) => lines.push(`export const a${i} = artifact<number[]>(${JSON.stringify(n)});`));
  g.exps.forEach((e, i) => {
    const entries = e.inputs.map((s) => `${s.key}: ${s.from === undefined ? `a${s.artifact}` : `e${s.from}.output(a${s.artifact})`}`);
    const src = entries.length ? `source: input({ ${entries.join(", ")} }), pipeline: pipeline(take)` : "source: numbers, pipeline: pipeline(keep)";
    const outs = e.outputs.length ? `, outputs: [${e.outputs.map((o) => `a${o}`).join(", ")}]` : "";
    lines.push(`export const e${i} = experiment(${JSON.stringify(expName(g, i))}, { ${src}${outs} });`);
  });
  const used = g.members.map((m) => `e${m}`);
  return {
    [`src/${g.name}-exps.ts`]: `${lines.join("\n")}\n`,
    [`src/${g.name}.ts`]: `import { graph } from "crystallize-ts";\nimport { ${[...new Set(used)].join(", ")} } from "./${g.name}-exps.js";\nexport const ${g.name.replace(/-/g, "_")} = graph(${JSON.stringify(g.name)}, [${used.join(", ")}]);\n`,
  };
}

function project(graphs: readonly GraphSpec[]): TempProject {
  return new TempProject(Object.assign({ "src/common.ts": common }, ...graphs.map(graphFiles)) as Record<string, string>);
}

/** "consumer/key" → "from <producer>" or the problem's kind. */
type Verdicts = Record<string, string>;

function compilerVerdicts(analysis: Analysis, name: string): Verdicts {
  const g = analysis.discovery.graphs.find((d) => d.info.name === name);
  if (!g) throw new Error(`the compiler found no graph "${name}"`);
  const members = graphMembers(g.info);
  const out: Verdicts = {};
  for (const m of members) {
    for (const l of inputLinks(m, members)) out[`${m.name}/${l.key}`] = l.problem ? l.problem.kind : `from ${l.producer?.name}`;
  }
  return out;
}

const problemKinds: readonly [RegExp, string][] = [
  [/, which is not in graph /, "unknown-producer"],
  [/, whose outputs do not list it/, "not-listed"],
  [/, which no experiment in graph /, "no-lister"],
  [/, which several experiments list /, "ambiguous"],
];

function runtimeVerdicts(name: string, members: readonly AnyExperiment[]): Verdicts {
  const a = analyseGraph(name, members);
  const out: Verdicts = {};
  for (const e of a.edges) out[`${e.to}/${e.input}`] = `from ${e.from}`;
  for (const p of a.problems) {
    const at = /^input "([^"]+)" of experiment "([^"]+)" /.exec(p);
    const kind = problemKinds.find(([re]) => re.test(p))?.[1];
    if (!at || !kind) throw new Error(`unexpected problem: ${p}`);
    out[`${at[2]}/${at[1]}`] = kind;
  }
  return out;
}

function codesOf(analysis: Analysis, g: GraphSpec): string[] {
  const files = [`${g.name}.ts`, `${g.name}-exps.ts`];
  return analysis.diagnostics
    .filter((d) => d.code.startsWith("CRY") && files.some((f) => d.file?.endsWith(`/src/${f}`) || d.file?.endsWith(`\\src\\${f}`)))
    .map((d) => d.code)
    .sort();
}

/** What importing src/<g>.ts does: graph() accepts (the graph) or throws. */
async function importGraph(p: TempProject, g: GraphSpec): Promise<{ graph?: Graph; error?: unknown }> {
  try {
    const mod = (await import(/* @vite-ignore */ p.path(`src/${g.name}.ts`))) as Record<string, Graph>;
    return { graph: mod[g.name.replace(/-/g, "_")] };
  } catch (error) {
    return { error };
  }
}

async function membersOf(p: TempProject, g: GraphSpec): Promise<AnyExperiment[]> {
  const mod = (await import(/* @vite-ignore */ p.path(`src/${g.name}-exps.ts`))) as Record<string, AnyExperiment>;
  return g.members.map((m) => mod[`e${m}`]!);
}

/** Both sides agree on every input's verdict, on rejecting the graph, and on the reason. */
async function expectAgreement(p: TempProject, analysis: Analysis, g: GraphSpec): Promise<Verdicts> {
  const verdicts = compilerVerdicts(analysis, g.name);
  const members = await membersOf(p, g);
  expect(runtimeVerdicts(g.name, members), g.name).toEqual(verdicts);

  const problems = Object.values(verdicts).filter((v) => !v.startsWith("from "));
  const codes = codesOf(analysis, g);
  const cycle = analyseGraph(g.name, members).cycle !== undefined;
  expect(codes.filter((c) => c === "CRY2004").length, g.name).toBe(problems.filter((k) => k === "no-lister" || k === "unknown-producer").length);
  expect(codes.filter((c) => c === "CRY2008").length, g.name).toBe(problems.filter((k) => k === "ambiguous").length);
  expect(codes.includes("CRY2001"), g.name).toBe(cycle);

  const { graph: made, error } = await importGraph(p, g);
  if (problems.length) expect(error, g.name).toBeInstanceOf(ValidationError);
  else if (cycle) expect(error, g.name).toBeInstanceOf(GraphCycleError);
  else {
    expect(error, g.name).toBeUndefined();
    expect(codes, g.name).toEqual([]);
    expect(() => made!.validate()).not.toThrow();
    // The manifest's edges are graph()'s edges.
    const manifest = analysis.manifest.graphs.find((m) => m.name === g.name)!;
    const key = (e: { from: string; to: string; input: string }) => `${e.from}>${e.to}/${e.input}`;
    expect(manifest.edges.map(key).sort()).toEqual(made!.edges.map(key).sort());
  }
  return verdicts;
}

describe("graph wiring: compile and graph() agree", () => {
  it("on identity, same-name, ambiguous, unlisted and outside-producer inputs", async () => {
    const cases: GraphSpec[] = [
      // identity: the consumer reads the very declaration the producer lists
      { name: "identity", artifacts: ["m.json"], exps: [{ outputs: [0], inputs: [] }, { outputs: [], inputs: [{ key: "m", artifact: 0 }] }], members: [0, 1] },
      // same file name, another declaration: the one member listing that name produces it
      { name: "same-name", artifacts: ["m.json", "m.json"], exps: [{ outputs: [0], inputs: [] }, { outputs: [], inputs: [{ key: "m", artifact: 1 }] }], members: [0, 1] },
      // the same declaration listed twice
      {
        name: "ambiguous",
        artifacts: ["s.json"],
        exps: [{ outputs: [0], inputs: [] }, { outputs: [0], inputs: [] }, { outputs: [], inputs: [{ key: "s", artifact: 0 }] }],
        members: [0, 1, 2],
      },
      // no declaration listed, the name listed twice
      {
        name: "ambiguous-name",
        artifacts: ["n.json", "n.json", "n.json"],
        exps: [{ outputs: [0], inputs: [] }, { outputs: [1], inputs: [] }, { outputs: [], inputs: [{ key: "n", artifact: 2 }] }],
        members: [0, 1, 2],
      },
      // nobody lists it
      { name: "unlisted", artifacts: ["o.json", "p.json"], exps: [{ outputs: [1], inputs: [] }, { outputs: [], inputs: [{ key: "o", artifact: 0 }] }], members: [0, 1] },
      // producer.output(art) of an experiment that is not in the graph
      { name: "outside", artifacts: ["q.json"], exps: [{ outputs: [0], inputs: [] }, { outputs: [], inputs: [{ key: "q", artifact: 0, from: 0 }] }], members: [1] },
    ];
    const p = project(cases);
    try {
      const analysis = p.analyze();
      expect(p.typeErrors()).toEqual([]);
      const verdicts: Record<string, Verdicts> = {};
      for (const g of cases) verdicts[g.name] = await expectAgreement(p, analysis, g);
      expect(verdicts).toEqual({
        identity: { "identity-e1/m": "from identity-e0" },
        "same-name": { "same-name-e1/m": "from same-name-e0" },
        ambiguous: { "ambiguous-e2/s": "ambiguous" },
        "ambiguous-name": { "ambiguous-name-e2/n": "ambiguous" },
        unlisted: { "unlisted-e1/o": "no-lister" },
        outside: { "outside-e1/q": "unknown-producer" },
      });
      const messages = analysis.diagnostics.filter((d) => d.code === "CRY2008").map((d) => d.message);
      expect(messages).toEqual([
        expect.stringMatching(/graph "ambiguous" list "s\.json" in their outputs \("ambiguous-e0", "ambiguous-e1"\).*name one with producer\.output/),
        expect.stringMatching(/graph "ambiguous-name" list "n\.json" in their outputs under that name \("ambiguous-name-e0", "ambiguous-name-e1"\)/),
      ]);
      const rejected = await importGraph(p, cases[3]!);
      expect((rejected.error as ValidationError).problems).toEqual([
        'input "n" of experiment "ambiguous-name-e2" reads artifact "n.json", which several experiments list in their outputs under that name (ambiguous-name-e0, ambiguous-name-e1); name one with producer.output(artifact)',
      ]);
    } finally {
      p.close();
    }
  });

  // Random graphs: declarations share file names, members may list the same artifact, inputs read
  // bare artifacts or producer.output(art) of earlier experiments (members or not).
  const graphSpec = (name: string): fc.Arbitrary<GraphSpec> =>
    fc
      .record({
        artifacts: fc.array(fc.constantFrom("x.json", "y.json", "z.json"), { minLength: 1, maxLength: 4 }),
        exps: fc.array(
          fc.record({
            outputs: fc.array(fc.nat(3), { maxLength: 2 }),
            inputs: fc.array(fc.record({ artifact: fc.nat(3), from: fc.option(fc.nat(4), { nil: undefined }) }), { maxLength: 2 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        inGraph: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      })
      .map(({ artifacts, exps, inGraph }): GraphSpec => {
        const nA = artifacts.length;
        const built: ExpSpec[] = [];
        exps.forEach((e, i) => {
          // Distinct output names per experiment (CRY2005 is another rule).
          const outputs: number[] = [];
          for (const o of e.outputs.map((x) => x % nA)) if (!outputs.some((y) => artifacts[y] === artifacts[o])) outputs.push(o);
          const inputs = e.inputs.map((s, k): InputSpec => {
            const from = s.from !== undefined && i > 0 ? s.from % i : undefined;
            // output() throws for an unlisted artifact, so a reference reads one the producer lists.
            const listed = from !== undefined ? built[from]!.outputs : [];
            return listed.length ? { key: `i${k}`, artifact: listed[s.artifact % listed.length]!, from } : { key: `i${k}`, artifact: s.artifact % nA };
          });
          built.push({ outputs, inputs });
        });
        const members = built.map((_, i) => i).filter((i) => inGraph[i]);
        return { name, artifacts, exps: built, members: members.length ? members : [0] };
      });

  it("property: on random graphs, every input gets the same producer or problem on both sides", async () => {
    const graphs = fc.tuple(...[0, 1, 2, 3, 4, 5].map((i) => graphSpec(`r${i}`)));
    await fc.assert(
      fc.asyncProperty(graphs, async (specs) => {
        const p = project(specs);
        try {
          const analysis = p.analyze();
          expect(p.typeErrors()).toEqual([]);
          for (const g of specs) await expectAgreement(p, analysis, g);
        } finally {
          p.close();
        }
      }),
      { numRuns: 5 },
    );
  }, 120_000);
});
