// The artifacts plugin with real experiments: layout, result.artifacts, resume, and the
// end-to-end cache guarantees (params in the key; a hit replays metrics, ctx writes, artifacts).
import { createHash } from "node:crypto";
import * as fsp from "node:fs/promises";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CancelledError,
  artifact,
  experiment,
  hypothesis,
  pipeline,
  source,
  step,
  textCodec,
  treatment,
} from "../../src/index.js";
import { artifacts } from "../../src/plugins/artifacts.js";
import { welchTTest } from "../../src/stats/index.js";
import { checkedJsonProblem, checkedJsonText, readCheckedJson } from "../../src/runtime/storage/checked-json.js";
import { JOURNAL_FILE } from "../../src/runtime/storage/run-store.js";
import { parseJournal } from "../../src/runtime/storage/task-journal.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cry-artifacts-"));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const model = artifact<{ mean: number; n: number }>("model.json");
const notes = artifact("notes.txt", { codec: textCodec });

/** An experiment whose step counts its invocations, writes two artifacts and records metrics. */
function counted(calls: { n: number }, replicates = 6) {
  const numbers = source("numbers", (ctx) => Array.from({ length: 20 }, () => ctx.random()));
  const fit = step("fit", { params: { shift: 0 }, metrics: ["mean"] }, (xs: number[], ctx) => {
    calls.n++;
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length + ctx.params.shift;
    ctx.record("mean", mean);
    ctx.artifacts.write(model, { mean, n: xs.length });
    ctx.artifacts.write(notes, `replicate ${ctx.replicate} of ${ctx.condition}`);
    return xs;
  });
  return experiment("counted", {
    source: numbers,
    pipeline: pipeline(fit),
    treatments: [treatment("up", { shift: 0.5 })],
    hypotheses: [hypothesis("mean_up", { metric: "mean", test: welchTTest() })],
    replicates,
    seed: 11,
  });
}

const run = (exp: ReturnType<typeof counted>, extra: Record<string, unknown> = {}) =>
  exp.run({ outDir: join(dir, ".crystallize"), cache: false, plugins: [artifacts({ fsync: false })], ...extra });

describe("artifacts() with real runs", () => {
  it("writes the layout, lists every artifact in result.artifacts, and versions each run", async () => {
    const calls = { n: 0 };
    const r = await run(counted(calls, 2));
    const v0 = join(dir, ".crystallize", "artifacts", "counted", "v0");
    expect(JSON.parse(readFileSync(join(v0, "replicate_1", "up", "fit", "model.json"), "utf8"))).toEqual({
      mean: r.metrics.treatments.up!.mean[1],
      n: 20,
    });
    expect(readFileSync(join(v0, "replicate_0", "baseline", "fit", "notes.txt"), "utf8")).toBe("replicate 0 of baseline");
    expect(r.artifacts).toHaveLength(2 * 2 * 2);
    expect(r.artifacts).toContainEqual({
      artifact: "model.json",
      step: "fit",
      condition: "up",
      replicate: 1,
      version: 0,
      path: "artifacts/counted/v0/replicate_1/up/fit/model.json",
      bytes: readFileSync(join(v0, "replicate_1", "up", "fit", "model.json")).length,
    });
    for (const a of r.artifacts) expect(existsSync(join(dir, ".crystallize", a.path))).toBe(true);
    const meta = await readCheckedJson(join(v0, "metadata.json"));
    expect(meta).toMatchObject({ experiment: "counted", version: 0, status: "completed", seed: 11, replicates: 2, treatments: ["up"] });
    expect(Object.keys(meta!.stepHashes as object)).toEqual(["fit"]);
    const up = await readCheckedJson(join(v0, "up", "results.json"));
    expect(up!.metrics).toEqual({ mean: r.metrics.treatments.up!.mean });
    expect((up!.hypotheses as Array<{ name: string }>)[0]!.name).toBe("mean_up");
    const again = await run(counted(calls, 2));
    expect(again.artifacts[0]!.version).toBe(1);
    expect(existsSync(join(dir, ".crystallize", "artifacts", "counted", "v1", "metadata.json"))).toBe(true);
  });

  it("resume skips completed tasks and recomputes hypotheses over all results", async () => {
    const reference = await run(counted({ n: 0 }));
    const calls = { n: 0 };
    const controller = new AbortController();
    const first = await run(counted(calls), {
      signal: controller.signal,
      progress: (p: { done: number }) => {
        if (p.done === 5) controller.abort();
      },
    }).catch((e) => e);
    expect(first).toBeInstanceOf(CancelledError);
    const doneFirst = calls.n;
    expect(doneFirst).toBeGreaterThanOrEqual(5);
    expect(doneFirst).toBeLessThan(12);

    const resumed = await run(counted(calls), { resume: true });
    // Only the missing tasks ran.
    expect(calls.n - doneFirst).toBe(12 - doneFirst);
    expect(resumed.toJSON().metrics).toEqual(reference.toJSON().metrics);
    expect(resumed.toJSON().hypotheses).toEqual(reference.toJSON().hypotheses);
    expect(resumed.hypothesis("mean_up").results.up!.pValue).toBe(reference.hypothesis("mean_up").results.up!.pValue);
    // Artifacts from both sessions are listed, all in the one version.
    expect(resumed.artifacts).toHaveLength(24);
    expect(new Set(resumed.artifacts.map((a) => a.version))).toEqual(new Set([1]));

    // A fully complete version: resume runs no step and returns the stored results.
    const before = calls.n;
    const full = await run(counted(calls), { resume: true });
    expect(calls.n).toBe(before);
    expect(full.toJSON().metrics).toEqual(reference.toJSON().metrics);
    expect(full.toJSON().hypotheses).toEqual(reference.toJSON().hypotheses);
    expect(full.artifacts).toHaveLength(24);
  });

  it("every file it wrote is whole (checked JSON verifies; journal lines verify; artifacts match their lines)", async () => {
    await run(counted({ n: 0 }, 2));
    const v0 = join(dir, ".crystallize", "artifacts", "counted", "v0");
    const files = (await fsp.readdir(v0, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
    expect(files.some((f) => f.name.endsWith(".tmp"))).toBe(false);
    for (const f of files.filter((f) => f.name === ".complete.json" || f.name.endsWith("results.json") || f.name === "metadata.json" || f.name === "result.json")) {
      expect(checkedJsonProblem(readFileSync(join(f.parentPath ?? (f as unknown as { path: string }).path, f.name), "utf8"))).toBeUndefined();
    }
    const journal = parseJournal(readFileSync(join(v0, JOURNAL_FILE)));
    expect(journal).toMatchObject({ damaged: [], tornBytes: 0 });
    expect(journal.tasks.map((t) => `${t.condition}/${t.replicate}`).sort()).toEqual(["baseline/0", "baseline/1", "up/0", "up/1"]);
    for (const t of journal.tasks) {
      expect(t.artifacts.map((a) => a.artifact).sort()).toEqual(["model.json", "notes.txt"]);
      for (const a of t.artifacts) {
        const bytes = readFileSync(join(v0, a.path));
        expect(createHash("sha256").update(bytes).digest("hex")).toBe(a.sha256);
      }
    }
  });

  it("result.json is exactly the checked JSON of result.toJSON(), for a fresh run and a resumed one (its provenance text is reused from the journal)", async () => {
    const exp = counted({ n: 0 }, 3);
    const r = await run(exp);
    const v0 = join(dir, ".crystallize", "artifacts", "counted", "v0");
    expect(readFileSync(join(v0, "result.json"), "utf8")).toBe(checkedJsonText({ result: r.toJSON() }, { pretty: false }));
    // A resumed run: the restored tasks' provenance comes from the journal, the rest from this run.
    const lines = readFileSync(join(v0, JOURNAL_FILE), "utf8").split("\n");
    await fsp.writeFile(join(v0, JOURNAL_FILE), lines.slice(0, 3).join("\n") + "\n");
    const again = await run(exp, { resume: true });
    expect(readFileSync(join(v0, "result.json"), "utf8")).toBe(checkedJsonText({ result: again.toJSON() }, { pretty: false }));
    expect(again.toJSON()).toEqual(r.toJSON());
    // The journal's schema 2 lines read back with every step's duration.
    const tasks = parseJournal(readFileSync(join(v0, JOURNAL_FILE))).tasks;
    expect(tasks).toHaveLength(6);
    for (const t of tasks) for (const p of t.provenance as Array<{ durationMs: unknown }>) expect(typeof p.durationMs).toBe("number");
  });

  it("tasks that write no artifacts leave no per-task files: one journal line each", async () => {
    const numbers = source("numbers", (ctx) => [ctx.random()]);
    const exp = experiment("plain", {
      source: numbers,
      pipeline: pipeline(step("m", { metrics: ["x"] }, (xs: number[], ctx) => (ctx.record("x", xs[0]!), xs))),
      replicates: 3,
      seed: 2,
    });
    const r = await exp.run({ outDir: join(dir, ".crystallize"), cache: false, plugins: [artifacts({ fsync: false })] });
    const v0 = join(dir, ".crystallize", "artifacts", "plain", "v0");
    const files = (await fsp.readdir(v0, { recursive: true })).sort();
    expect(files).toEqual(["baseline", "baseline/results.json", "metadata.json", "result.json", "tasks.jsonl"]);
    const journal = parseJournal(readFileSync(join(v0, JOURNAL_FILE)));
    expect(journal.tasks.map((t) => t.metrics.x![0])).toEqual(r.metrics.baseline.x);
    const resumed = await exp.run({ outDir: join(dir, ".crystallize"), cache: false, plugins: [artifacts({ fsync: false, resume: true })] });
    expect(resumed.run.resumedTasks).toBe(3);
    expect(resumed.toJSON()).toEqual(r.toJSON());
  });
});

describe("bad artifact writes", () => {
  const numbers = source("numbers", () => [1, 2, 3]);
  const writer = (name: string, value: unknown) =>
    step("writer", (xs: number[], ctx) => {
      ctx.artifacts.write(name, value);
      return xs;
    });

  it.each([
    ["../x.json", 1, /x\.json/],
    ["/abs/path.json", 1, /path\.json/],
    ["fine.json", 10n, /bigint/],
  ])("writing %j fails the task with an error naming the artifact and the step", async (name, value, why) => {
    const exp = experiment("bad", { source: numbers, pipeline: pipeline(writer(name, value)) });
    const r = await exp.run({ outDir: join(dir, ".crystallize"), cache: false, plugins: [artifacts({ fsync: false })] });
    expect(r.errors).toHaveLength(1);
    // The step failed because of the artifact (the runner may report either code).
    expect(["E_ARTIFACT", "E_STEP_FAILED"]).toContain(r.errors[0]!.code);
    expect(r.errors[0]!.step).toBe("writer");
    expect(r.errors[0]!.message).toContain(name);
    expect(r.errors[0]!.message).toMatch(/writer/);
    expect(r.errors[0]!.message).toMatch(why);
    expect(existsSync(join(dir, ".crystallize", "artifacts", "x.json"))).toBe(false);
    expect(existsSync(join(dir, "x.json"))).toBe(false);
  });

  it("writing an artifact the experiment's outputs do not declare names both", async () => {
    const declared = artifact<number>("declared.json");
    const exp = experiment("undeclared", { source: numbers, pipeline: pipeline(writer("other.json", 1)), outputs: [declared] });
    const r = await exp.run({ outDir: join(dir, ".crystallize"), cache: false, plugins: [artifacts({ fsync: false })] });
    expect(["E_ARTIFACT", "E_STEP_FAILED"]).toContain(r.errors[0]!.code);
    expect(r.errors[0]!.message).toMatch(/"writer".*"other\.json"|"other\.json".*"writer"/);
    expect(r.errors[0]!.message).toMatch(/declared\.json/);
  });
});

describe("the cache end to end", () => {
  const label = artifact<{ delta: number; sum: number }>("label.json");

  function cached(calls: { n: number }) {
    const numbers = source("numbers", (ctx) => Array.from({ length: 5 }, (_, i) => i + ctx.replicate));
    const addDelta = step(
      "addDelta",
      { params: { delta: 0 }, metrics: ["sum"], cacheable: true },
      (xs: number[], ctx) => {
        calls.n++;
        const out = xs.map((x) => x + ctx.params.delta);
        const sum = out.reduce((a, b) => a + b, 0);
        ctx.record("sum", sum);
        ctx.add("total", sum);
        ctx.artifacts.write(label, { delta: ctx.params.delta, sum });
        return out;
      },
    );
    const report = step("report", { metrics: ["total"] }, (xs: number[], ctx) => {
      ctx.record("total", ctx.get("total") as number);
      return xs;
    });
    return experiment("cached", {
      source: numbers,
      pipeline: pipeline(addDelta, report),
      treatments: [treatment("five", { delta: 5 }), treatment("nine", { delta: 9 })],
      replicates: 2,
      seed: 3,
    });
  }

  it("never serves the baseline's output to a treatment, and a hit replays metrics, ctx writes and artifacts", async () => {
    const outDir = join(dir, ".crystallize");
    const calls = { n: 0 };
    const first = await cached(calls).run({ outDir, plugins: [artifacts({ fsync: false })] });
    expect(calls.n).toBe(6);
    // Params are in the key: each condition computed its own output.
    first.metrics.baseline.sum!.forEach((s, r) => {
      expect(first.metrics.treatments.five!.sum![r]).toBe(s + 25);
      expect(first.metrics.treatments.nine!.sum![r]).toBe(s + 45);
    });
    expect(first.provenance.every((p) => p.steps[0]!.cacheHit === false)).toBe(true);

    const second = await cached(calls).run({ outDir, plugins: [artifacts({ fsync: false })] });
    expect(calls.n).toBe(6); // every addDelta was a hit
    expect(second.provenance.every((p) => p.steps[0]!.cacheHit === true)).toBe(true);
    expect(second.provenance.every((p) => p.steps[1]!.cacheHit === false)).toBe(true);
    // Metrics (recorded by the cached step, and by the next step from its ctx write) are replayed.
    expect(second.toJSON().metrics).toEqual(first.toJSON().metrics);
    expect(second.metrics.treatments.nine!.total).toEqual(second.metrics.treatments.nine!.sum);
    // Artifacts are replayed into the new version.
    expect(second.artifacts.map((a) => a.version)).toEqual(Array(6).fill(1));
    const v1 = join(outDir, "artifacts", "cached", "v1");
    expect(JSON.parse(readFileSync(join(v1, "replicate_1", "nine", "addDelta", "label.json"), "utf8"))).toEqual({
      delta: 9,
      sum: second.metrics.treatments.nine!.sum![1],
    });

    // cache: false recomputes; a changed treatment value is a miss for that condition only.
    await cached(calls).run({ outDir, cache: false });
    expect(calls.n).toBe(12);
  });
});
