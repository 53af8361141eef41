import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CancelledError,
  GraphCycleError,
  InputError,
  MissingArtifactError,
  ValidationError,
  artifact,
  experiment,
  graph,
  input,
  pipeline,
  source,
  step,
  treatment,
  type SomeExperiment,
  type Artifact,
  type Graph,
  type Plugin,
} from "../../src/index.js";
import { artifacts } from "../../src/plugins/artifacts.js";
import { graphStatePath } from "../../src/runtime/graph-runner.js";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cry-graph-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A logging plugin that keeps warnings (replaces the built-in one by name). */
function capturingLog(lines: string[]): Plugin {
  const keep = (m: string) => void lines.push(m);
  return { name: "logging", logger: { debug() {}, info() {}, warn: keep, error: keep } } as Plugin;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Span {
  readonly name: string;
  start: number;
  end: number;
  /** The upstream names this node read through its inputs' artifacts. */
  lineage?: string[];
}

/**
 * A node that records when its step ran and writes `<name>.json`: the names of every node upstream
 * of it (its lineage), read from its parents' artifacts.
 */
function node(name: string, parents: readonly SomeExperiment[], spans: Span[], delayMs = 2) {
  const out = artifact<string[]>(`${name}.json`);
  const refs = Object.fromEntries(parents.map((p) => [p.name, p.output(p.outputs[0] as Artifact<string[]>)]));
  const src = parents.length ? input(refs) : source(`${name}-root`, () => ({}) as Record<string, string[]>);
  const work = step(`${name}-work`, async (inputs: Record<string, unknown>, ctx) => {
    const span: Span = { name, start: performance.now(), end: Number.NaN };
    spans.push(span);
    await sleep(delayMs);
    const lineage = new Set<string>();
    for (const v of Object.values(inputs)) for (const n of v as string[]) lineage.add(n);
    for (const p of parents) lineage.add(p.name);
    const list = [...lineage].sort();
    span.lineage = list;
    ctx.artifacts.write(out, list);
    span.end = performance.now();
    return list;
  });
  return experiment(name, { source: src as never, pipeline: pipeline(work), outputs: [out] });
}

describe("graph(): construction", () => {
  it("computes edges and a topological order from typed artifacts", () => {
    const spans: Span[] = [];
    const a = node("a", [], spans);
    const b = node("b", [a], spans);
    const c = node("c", [a], spans);
    const d = node("d", [c, b], spans);
    const g = graph("diamond", [d, c, b, a]);
    expect(g.kind).toBe("graph");
    expect(g.order).toEqual(["a", "c", "b", "d"]);
    expect(g.edges).toEqual([
      { from: "c", to: "d", artifact: "c.json", input: "c" },
      { from: "b", to: "d", artifact: "b.json", input: "b" },
      { from: "a", to: "c", artifact: "a.json", input: "a" },
      { from: "a", to: "b", artifact: "a.json", input: "a" },
    ]);
    expect(Object.isFrozen(g)).toBe(true);
  });

  it("rejects duplicate experiment names, naming the name", () => {
    const spans: Span[] = [];
    const a1 = node("a", [], spans);
    const a2 = node("a", [], spans);
    const e = (() => {
      try {
        graph("g", [a1, a2]);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).problems).toEqual([expect.stringContaining('experiment name "a" is used twice')]);
  });

  it("rejects an input that reads from an experiment not in the graph, naming the input, consumer and producer", () => {
    const spans: Span[] = [];
    const a = node("prep", [], spans);
    const b = node("train", [a], spans);
    expect(() => graph("g", [b])).toThrow(ValidationError);
    expect(() => graph("g", [b])).toThrow(/input "prep" of experiment "train" reads "prep\.json" from experiment "prep", which is not in graph "g"/);
  });

  it("rejects a bare artifact no experiment lists, or one several experiments list", () => {
    const shared = artifact<number>("shared.json");
    const writer = step("w", (x: number, ctx) => {
      ctx.artifacts.write(shared, x);
      return x;
    });
    const reader = step("r", (x: { s: number }) => x.s);
    const consumer = experiment("consumer", { source: input({ s: shared }), pipeline: pipeline(reader) });
    expect(() => graph("g", [consumer])).toThrow(/reads artifact "shared\.json", which no experiment in graph "g" lists/);
    const p1 = experiment("p1", { source: source("n", () => 1), pipeline: pipeline(writer), outputs: [shared] });
    const p2 = experiment("p2", { source: source("n", () => 2), pipeline: pipeline(writer), outputs: [shared] });
    expect(() => graph("g", [p1, p2, consumer])).toThrow(/several experiments list in their outputs \(p1, p2\)/);
  });

  it("a bare artifact resolves to the experiment that lists it in its outputs", () => {
    const shared = artifact<number>("shared.json");
    const writer = step("w", (x: number, ctx) => {
      ctx.artifacts.write(shared, x);
      return x;
    });
    const p = experiment("p", { source: source("n", () => 1), pipeline: pipeline(writer), outputs: [shared] });
    const c = experiment("c", { source: input({ s: shared }), pipeline: pipeline(step("r", (x: { s: number }) => x.s)) });
    expect(graph("g", [c, p]).edges).toEqual([{ from: "p", to: "c", artifact: "shared.json", input: "s" }]);
  });

  it("GraphCycleError lists the cycle, before any work", async () => {
    const x = artifact<number>("x.json");
    const y = artifact<number>("y.json");
    let ran = 0;
    const relay = (out: Artifact<number>) =>
      step("relay", (v: { v: number }, ctx) => {
        ran++;
        ctx.artifacts.write(out, v.v + 1);
        return v.v;
      });
    const a = experiment("a", { source: input({ v: y }), pipeline: pipeline(relay(x)), outputs: [x] });
    const b = experiment("b", { source: input({ v: x }), pipeline: pipeline(relay(y)), outputs: [y] });
    const c = experiment("c", { source: source("n", () => ({ v: 0 })), pipeline: pipeline(relay(artifact<number>("z.json"))), outputs: [artifact<number>("z.json")] });
    let err: unknown;
    try {
      graph("loop", [c, a, b]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GraphCycleError);
    expect((err as GraphCycleError).cycle).toEqual(["a", "b", "a"]);
    expect((err as GraphCycleError).message).toContain("a -> b -> a");

    // A hand-made node (not built by graph()) is checked again by run(), before any experiment runs.
    const { runGraph } = await import("../../src/runtime/graph-runner.js");
    const handMade = { kind: "graph", name: "loop", experiments: [c, a, b], edges: [], order: [] } as unknown as Graph;
    await expect(
      runGraph(handMade, { cache: false, outDir: tmp() }, { defaultPlugins: () => [], defaultExecution: () => ({ kind: "execution", name: "x", execute: async () => {} }), fallbackLogger: () => console }),
    ).rejects.toBeInstanceOf(GraphCycleError);
    expect(ran).toBe(0);
  });

  it("a self-loop is a cycle of one", () => {
    const x = artifact<number>("x.json");
    const a = experiment("a", {
      source: input({ v: x }),
      pipeline: pipeline(step("s", (v: { v: number }) => v.v)),
      outputs: [x],
    });
    expect(() => graph("g", [a])).toThrow(GraphCycleError);
    expect(() => graph("g", [a])).toThrow(/a -> a/);
  });
});

describe("graph.run(): order and concurrency", () => {
  it("runs producers before consumers (recorded start/end) and passes typed artifacts along", async () => {
    const spans: Span[] = [];
    const a = node("a", [], spans);
    const b = node("b", [a], spans);
    const c = node("c", [a], spans);
    const d = node("d", [b, c], spans);
    const e = node("e", [d, a], spans);
    const g = graph("g", [e, d, c, b, a]);
    const { results, completed } = await g.run({ cache: false, outDir: tmp() });
    expect(Object.keys(results)).toEqual(["e", "d", "c", "b", "a"]);
    const span = (n: string) => spans.find((s) => s.name === n)!;
    for (const edge of g.edges) expect(span(edge.to).start).toBeGreaterThanOrEqual(span(edge.from).end);
    expect(completed.indexOf("a")).toBe(0);
    expect(completed.indexOf("e")).toBe(4);
    for (const r of Object.values(results)) expect(r.errors).toEqual([]);
    // Each node saw its whole lineage through the artifacts it read.
    expect(spans.length).toBe(5);
    expect(span("e").lineage).toEqual(["a", "b", "c", "d"]);
    expect(span("b").lineage).toEqual(["a"]);
  });

  it("runs experiments without a path between them concurrently", async () => {
    let aStarted!: () => void;
    let bStarted!: () => void;
    const aStart = new Promise<void>((r) => (aStarted = r));
    const bStart = new Promise<void>((r) => (bStarted = r));
    const within = (p: Promise<void>, what: string) =>
      Promise.race([p, sleep(5000).then(() => Promise.reject(new Error(`${what} never started: not concurrent`)))]);
    const spans: Span[] = [];
    const mk = (name: string, mine: () => void, other: Promise<void>) =>
      experiment(name, {
        source: source(`${name}-src`, () => 1),
        pipeline: pipeline(
          step(`${name}-wait`, async (x: number) => {
            const span = { name, start: performance.now(), end: Number.NaN };
            spans.push(span);
            mine();
            await within(other, name === "a" ? "b" : "a");
            span.end = performance.now();
            return x;
          }),
        ),
      });
    const g = graph("pair", [mk("a", aStarted, bStart), mk("b", bStarted, aStart)]);
    const { results } = await g.run({ cache: false, outDir: tmp() });
    expect(results.a!.errors).toEqual([]);
    expect(results.b!.errors).toEqual([]);
    const [s1, s2] = spans;
    expect(s1!.start).toBeLessThan(s2!.end);
    expect(s2!.start).toBeLessThan(s1!.end);
  });

  it("concurrency: 1 runs one experiment at a time", async () => {
    const spans: Span[] = [];
    const nodes = ["p", "q", "r", "s"].map((n) => node(n, [], spans, 5));
    await graph("flat", nodes).run({ cache: false, outDir: tmp(), concurrency: 1 });
    const sorted = [...spans].sort((x, y) => x.start - y.start);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.start).toBeGreaterThanOrEqual(sorted[i - 1]!.end);
    await expect(graph("flat", nodes).run({ concurrency: 0 })).rejects.toThrow(/concurrency must be a positive integer/);
  });

  it("property: in any random DAG every experiment starts after all its producers ended", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 7 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 12 }), fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })),
        ),
        async ([n, pairs, listing]) => {
          const spans: Span[] = [];
          const parentsOf = Array.from({ length: n }, () => new Set<number>());
          for (const [x, y] of pairs) if (x < y) parentsOf[y]!.add(x);
          const exps: SomeExperiment[] = [];
          for (let i = 0; i < n; i++) exps.push(node(`n${i}`, [...parentsOf[i]!].map((p) => exps[p]!), spans, 0) as SomeExperiment);
          const g = graph("random", listing.map((i) => exps[i]!));
          const { results } = await g.run({ cache: false, outDir: tmp() });
          expect(Object.keys(results).length).toBe(n);
          const span = (name: string) => spans.find((s) => s.name === name)!;
          for (let i = 0; i < n; i++) {
            for (const p of parentsOf[i]!) expect(span(`n${i}`).start).toBeGreaterThanOrEqual(span(`n${p}`).end);
            // The lineage read through artifacts is exactly the set of ancestors.
            const ancestors = new Set<string>();
            const walk = (k: number) => parentsOf[k]!.forEach((p) => (ancestors.add(`n${p}`), walk(p)));
            walk(i);
            expect(results[`n${i}`]!.errors).toEqual([]);
            expect(span(`n${i}`).lineage).toEqual([...ancestors].sort());
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("graph.run(): artifacts across replicates and conditions", () => {
  const rows = artifact<number[]>("rows.json");
  const make = step("make", { params: { scale: 1 } }, (r: number, ctx) => {
    const xs = [r, r + 1].map((x) => x * ctx.params.scale);
    ctx.artifacts.write(rows, xs);
    return xs;
  });
  const sum = step("sum", { params: { bonus: 0 }, metrics: ["sum"] }, (x: { rows: number[] }, ctx) => {
    const s = x.rows.reduce((a, b) => a + b, 0) + ctx.params.bonus;
    ctx.record("sum", s);
    return s;
  });
  const prepare = (replicates: number, treatments: ReturnType<typeof treatment<"big", { scale: number }>>[] = []) =>
    experiment("prepare", {
      source: source("rep", (ctx) => ctx.replicate),
      pipeline: pipeline(make),
      outputs: [rows],
      replicates,
      treatments,
    });

  it("consumer replicate r reads producer replicate r mod N", async () => {
    const p = prepare(2);
    const total = experiment("total", { source: input({ rows: p.output(rows) }), pipeline: pipeline(sum), replicates: 5 });
    const { results } = await graph("g", [p, total]).run({ cache: false, outDir: tmp() });
    // producer replicate 0 wrote [0, 1], replicate 1 wrote [1, 2].
    expect(results.total!.metrics.baseline.sum).toEqual([1, 3, 1, 3, 1]);
  });

  it("treatments are inherited from ancestors; a consumer's own treatment reads the producer's baseline, with a warning", async () => {
    const p = prepare(1, [treatment("big", { scale: 10 })]);
    const total = experiment("total", {
      source: input({ rows: p.output(rows) }),
      pipeline: pipeline(sum),
      treatments: [treatment("extra", { bonus: 100 })],
    });
    const warnings: string[] = [];
    const { results } = await graph("g", [p, total]).run({ cache: false, outDir: tmp(), plugins: [capturingLog(warnings)] });
    const r = results.total!;
    expect(r.conditions).toEqual(["baseline", "extra", "big"]);
    expect(r.metrics.baseline.sum).toEqual([1]);
    expect(r.metrics.treatments.big!.sum).toEqual([10]); // read the producer's "big" rows [0, 10]
    expect(r.metrics.treatments.extra!.sum).toEqual([101]); // the producer has no "extra": baseline rows
    expect(warnings).toEqual([expect.stringContaining('"prepare" did not run condition "extra"')]);
    // graph.run({ treatments }) replaces every experiment's treatments.
    const only = await graph("g", [p, total]).run({ cache: false, outDir: tmp(), treatments: ["big"] });
    expect(only.results.total!.conditions).toEqual(["baseline", "big"]);
    expect(only.results.prepare!.conditions).toEqual(["baseline", "big"]);
    await expect(graph("g", [p, total]).run({ treatments: ["nope"] })).rejects.toThrow(/treatments names "nope", which no experiment of the graph has/);
  });

  it("an inherited treatment computed per replicate keeps only the consumer's own params", async () => {
    const p = prepare(2, [treatment("big", (ctx) => ({ scale: 10 + ctx.replicate })) as never]);
    const total = experiment("total", { source: input({ rows: p.output(rows) }), pipeline: pipeline(sum), replicates: 2 });
    const { results } = await graph("g", [p, total]).run({ cache: false, outDir: tmp() });
    expect(results.total!.errors).toEqual([]);
    expect(results.total!.metrics.treatments.big!.sum).toEqual([10, 33]); // [0,10] and [11,22]
  });

  it("plain sources inside input() keep their own random streams", async () => {
    const noise = source("noise", (ctx) => ctx.random());
    const direct = experiment("direct", {
      source: noise,
      pipeline: pipeline(step("keep", { metrics: ["v"] }, (x: number, ctx) => (ctx.record("v", x), x))),
      replicates: 3,
    });
    const wrapped = experiment("wrapped", {
      source: input({ x: noise }),
      pipeline: pipeline(step("keep", { metrics: ["v"] }, (x: { x: number }, ctx) => (ctx.record("v", x.x), x.x))),
      replicates: 3,
    });
    const { results } = await graph("g", [direct, wrapped]).run({ cache: false, outDir: tmp() });
    expect(results.wrapped!.metrics.baseline.v).toEqual(results.direct!.metrics.baseline.v);
  });

  it("InputError names each input when artifact inputs disagree on replicate counts, before any work", async () => {
    let ran = 0;
    const a = artifact<number>("a.json");
    const b = artifact<number>("b.json");
    const writer = (art: Artifact<number>) =>
      step("w", (x: number, ctx) => {
        ran++;
        ctx.artifacts.write(art, x);
        return x;
      });
    const pa = experiment("pa", { source: source("n", () => 1), pipeline: pipeline(writer(a)), outputs: [a], replicates: 2 });
    const pb = experiment("pb", { source: source("n", () => 1), pipeline: pipeline(writer(b)), outputs: [b], replicates: 3 });
    const both = experiment("both", {
      source: input({ left: pa.output(a), right: pb.output(b) }),
      pipeline: pipeline(step("add", (x: { left: number; right: number }) => x.left + x.right)),
    });
    const g = graph("g", [pa, pb, both]);
    let err: unknown;
    try {
      await g.run({ cache: false, outDir: tmp() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).inputs).toEqual(["left", "right"]);
    expect((err as InputError).message).toContain('"left" (pa/a.json) has 2');
    expect((err as InputError).message).toContain('"right" (pb/b.json) has 3');
    expect(ran).toBe(0);
    // A graph-wide replicate count makes them agree.
    const { results } = await g.run({ cache: false, outDir: tmp(), replicates: 2 });
    expect(results.both!.errors).toEqual([]);
  });

  it("MissingArtifactError names the producer, artifact, condition and replicate of a failed producer task", async () => {
    const flaky = step("flaky", (r: number, ctx) => {
      if (r === 1) throw new Error("boom");
      ctx.artifacts.write(rows, [r]);
      return r;
    });
    const p = experiment("prepare", { source: source("rep", (ctx) => ctx.replicate), pipeline: pipeline(flaky), outputs: [rows], replicates: 2 });
    const total = experiment("total", { source: input({ rows: p.output(rows) }), pipeline: pipeline(sum), replicates: 4 });
    const { results } = await graph("g", [p, total]).run({ cache: false, outDir: tmp(), plugins: [capturingLog([])] });
    expect(results.prepare!.errors.map((e) => e.replicate)).toEqual([1]);
    const errs = results.total!.errors;
    expect(errs.map((e) => e.replicate)).toEqual([1, 3]);
    for (const e of errs) {
      expect(e.code).toBe("E_MISSING_ARTIFACT");
      expect(e.phase).toBe("source");
      expect(e.message).toContain('Artifact "rows.json" of experiment "prepare" is missing for condition "baseline", replicate 1');
    }
    expect(results.total!.metrics.baseline.sum).toEqual([0, 0]);
  });

  it("a declared output the producer never wrote is a missing artifact too", async () => {
    const p = experiment("prepare", { source: source("rep", () => 1), pipeline: pipeline(step("nothing", (x: number) => x)), outputs: [rows] });
    const total = experiment("total", { source: input({ rows: p.output(rows) }), pipeline: pipeline(sum) });
    const { results } = await graph("g", [p, total]).run({ cache: false, outDir: tmp(), plugins: [capturingLog([])] });
    expect(results.total!.errors).toEqual([expect.objectContaining({ code: "E_MISSING_ARTIFACT", replicate: 0, condition: "baseline" })]);
  });

  it("a failing experiment rejects the graph run; cancelling rejects with CancelledError holding what finished", async () => {
    const spans: Span[] = [];
    const a = node("a", [], spans);
    const broken = experiment("broken", { source: input({ a: a.output(a.outputs[0] as Artifact<string[]>) }), pipeline: pipeline(step("x", (v: unknown) => v)), replicates: 1 });
    // A run option the experiments reject (a negative seed) fails the first run, which rejects the graph.
    await expect(graph("g", [a, broken]).run({ cache: false, outDir: tmp(), seed: -1 })).rejects.toBeInstanceOf(ValidationError);

    const controller = new AbortController();
    const slow = experiment("slow", {
      source: source("n", () => 1),
      pipeline: pipeline(step("wait", async (x: number) => (controller.abort(), await sleep(20), x))),
    });
    const after = node("after", [], spans);
    let err: unknown;
    try {
      await graph("g", [slow, after]).run({ cache: false, outDir: tmp(), signal: controller.signal, concurrency: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CancelledError);
    expect(Object.keys((err as CancelledError<{ results: object }>).partial!.results)).toEqual([]);
  });
});

describe("graph.run({ resume }) and stored runs", () => {
  const counts: Record<string, number> = {};
  const rows = artifact<number[]>("rows.json");
  const model = artifact<{ w: number }>("model.json");

  const prepare = experiment("prepare", {
    source: source("rep", (ctx) => ctx.replicate),
    pipeline: pipeline(
      step("make", (r: number, ctx) => {
        counts.prepare = (counts.prepare ?? 0) + 1;
        ctx.artifacts.write(rows, [r, r + 1, r + 2]);
        return r;
      }),
    ),
    outputs: [rows],
    replicates: 2,
  });
  const trainV1 = step("fit", (x: { rows: number[] }, ctx) => {
    counts.train = (counts.train ?? 0) + 1;
    const w = x.rows.reduce((a, b) => a + b, 0);
    ctx.artifacts.write(model, { w });
    return w;
  });
  const trainV2 = step("fit", (x: { rows: number[] }, ctx) => {
    counts.train = (counts.train ?? 0) + 1;
    const w = 2 * x.rows.reduce((a, b) => a + b, 0);
    ctx.artifacts.write(model, { w });
    return w;
  });
  const train = (fit: typeof trainV1) =>
    experiment("train", { source: input({ rows: prepare.output(rows) }), pipeline: pipeline(fit), outputs: [model], replicates: 2 });
  const evaluate = (t: SomeExperiment) =>
    experiment("evaluate", {
      source: input({ model: t.output(model as Artifact<{ w: number }>) }),
      pipeline: pipeline(
        step("score", { metrics: ["w"] }, (x: { model: { w: number } }, ctx) => {
          counts.evaluate = (counts.evaluate ?? 0) + 1;
          ctx.record("w", x.model.w);
          return x.model.w;
        }),
      ),
      replicates: 2,
    });
  const side = experiment("side", {
    source: source("one", () => 1),
    pipeline: pipeline(
      step("side", (x: number) => {
        counts.side = (counts.side ?? 0) + 1;
        return x;
      }),
    ),
  });

  it("skips experiments whose stored run is unchanged and reruns everything downstream of a changed step", async () => {
    const outDir = tmp();
    const opts = { cache: false as const, outDir, plugins: [artifacts({ fsync: false })] };
    for (const k of Object.keys(counts)) delete counts[k];
    const t1 = train(trainV1);
    const first = await graph("study", [prepare, t1, evaluate(t1), side]).run(opts);
    expect(first.results.evaluate!.metrics.baseline.w).toEqual([3, 6]);
    expect(counts).toEqual({ prepare: 2, train: 2, evaluate: 2, side: 1 });
    expect(existsSync(graphStatePath(outDir, "study", "train"))).toBe(true);

    // Nothing changed: every experiment is reused from storage, no step runs.
    const again = await graph("study", [prepare, t1, evaluate(t1), side]).run({ ...opts, resume: true });
    expect(counts).toEqual({ prepare: 2, train: 2, evaluate: 2, side: 1 });
    expect([...again.reused].sort()).toEqual(["evaluate", "prepare", "side", "train"]);
    expect(again.results.evaluate!.metrics.baseline.w).toEqual([3, 6]);
    expect(again.results.train!.run.version).toBe(first.results.train!.run.version);

    // train's step changed: prepare and side are reused, train and evaluate (downstream) run again.
    const t2 = train(trainV2);
    const changed = await graph("study", [prepare, t2, evaluate(t2), side]).run({ ...opts, resume: true });
    expect(counts).toEqual({ prepare: 2, train: 4, evaluate: 4, side: 1 });
    expect([...changed.reused].sort()).toEqual(["prepare", "side"]);
    expect(changed.results.evaluate!.metrics.baseline.w).toEqual([6, 12]);
    expect(changed.results.train!.run.version).toBe(first.results.train!.run.version! + 1);

    // A changed setting (replicates) reruns the experiments it changes and what is downstream of them
    // ("side" already ran one replicate, so it is reused).
    const replicated = await graph("study", [prepare, t2, evaluate(t2), side]).run({ ...opts, resume: true, replicates: 1 });
    expect(replicated.reused).toEqual(["side"]);
    expect(counts).toEqual({ prepare: 3, train: 5, evaluate: 5, side: 1 });
  });

  it("resume continues an experiment whose run was cancelled half-way, running only its missing tasks", async () => {
    const outDir = tmp();
    const opts = { cache: false as const, outDir, plugins: [artifacts({ fsync: false })] };
    let ran: number[] = [];
    let controller: AbortController | undefined = new AbortController();
    const consumer = experiment("consumer", {
      source: input({ rows: prepare.output(rows) }),
      pipeline: pipeline(
        step("use", { metrics: ["n"] }, (x: { rows: number[] }, ctx) => {
          ran.push(ctx.replicate);
          if (ctx.replicate === 1) controller?.abort();
          ctx.record("n", x.rows[0]!);
          return x.rows.length;
        }),
      ),
      replicates: 4,
    });
    const g = graph("partial", [prepare, consumer]);
    await expect(g.run({ ...opts, signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(ran).toEqual([0, 1]);
    ran = [];
    controller = undefined;
    const resumed = await g.run({ ...opts, resume: true });
    expect(ran).toEqual([2, 3]);
    expect(resumed.reused).toEqual(["prepare"]);
    expect(resumed.results.consumer!.metrics.baseline.n).toEqual([0, 1, 0, 1]);
    expect(resumed.results.consumer!.run.resumedTasks).toBe(2);
  });

  it("outside a graph, a consumer reads its producers' latest completed stored run", async () => {
    const outDir = tmp();
    const opts = { cache: false as const, outDir, plugins: [artifacts({ fsync: false })] };
    const t1 = train(trainV1);
    await expect(t1.run(opts)).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof MissingArtifactError && e.details.producer === "prepare" && e.details.artifact === "rows.json",
    );
    await prepare.run(opts);
    const trained = await t1.run(opts);
    expect(trained.errors).toEqual([]);
    const evaluated = await evaluate(t1).run(opts);
    expect(evaluated.metrics.baseline.w).toEqual([3, 6]);
    // apply() of a consumer without data reads storage the same way.
    expect(await evaluate(t1).apply(undefined, { outDir, replicate: 1 })).toBe(6);
  });

  it("outside a graph, a bare artifact input cannot find its producer: InputError", async () => {
    const c = experiment("c", { source: input({ rows }), pipeline: pipeline(step("n", (x: { rows: number[] }) => x.rows.length)) });
    await expect(c.run({ cache: false, outDir: tmp() })).rejects.toBeInstanceOf(InputError);
  });
});

describe("graph.run({ compiledHashes })", () => {
  const nums = artifact<number[]>("nums.json");
  const make = () => {
    const a = experiment("ca", {
      source: source("s", () => [1, 2]),
      pipeline: pipeline(step("work", (xs: number[], ctx) => (ctx.artifacts.write(nums, xs), xs))),
      outputs: [nums],
    });
    const b = experiment("cb", { source: input({ d: a.output(nums) }), pipeline: pipeline(step("work", ({ d }: { d: number[] }) => d.length)) });
    return graph("cg", [a, b]);
  };

  it("gives each experiment its own step hashes (a step name may repeat across experiments)", async () => {
    const outDir = tmp();
    const compiledHashes = { ca: { stepHashes: { work: { hash: "hash-a" } }, sourceHash: "src-a" }, cb: { stepHashes: { work: { hash: "hash-b" } } } };
    const r = await make().run({ outDir, compiledHashes });
    expect(r.results.ca!.provenance[0]!.steps[0]!.stepHash).toBe("hash-a");
    expect(r.results.cb!.provenance[0]!.steps[0]!.stepHash).toBe("hash-b");
    // The resume fingerprint uses the same hashes: unchanged, both are reused; a changed one reruns.
    expect([...(await make().run({ outDir, compiledHashes, resume: true })).reused].sort()).toEqual(["ca", "cb"]);
    const changed = { ...compiledHashes, ca: { ...compiledHashes.ca, sourceHash: "src-a2" } };
    expect((await make().run({ outDir, compiledHashes: changed, resume: true })).reused).toEqual([]);
  });

  it("rejects a wrong shape or an unknown experiment with a ValidationError", async () => {
    await expect(make().run({ cache: false, compiledHashes: { nope: { stepHashes: {} } } })).rejects.toThrow(/compiledHashes names "nope"/);
    await expect(make().run({ cache: false, compiledHashes: { ca: { stepHashes: { work: "x" } } } as never })).rejects.toBeInstanceOf(ValidationError);
    await expect(make().run({ cache: false, compiledHashes: { ca: {} } as never })).rejects.toThrow(/compiledHashes\["ca"\]\.stepHashes/);
  });
});
