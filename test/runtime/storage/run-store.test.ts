import { execFileSync } from "node:child_process";
import * as fsp from "node:fs/promises";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArtifactError, StorageError } from "../../../src/errors.js";
import type { RunInfo, TaskOutcome } from "../../../src/runtime/records.js";
import { checkedJsonProblem, readCheckedJson, writeCheckedJson } from "../../../src/runtime/storage/checked-json.js";
import { COMPLETE_MARKER, JOURNAL_FILE, flushFinishedRuns, openRunStore, readStoredTasks, storedTaskKey, type StoredTask } from "../../../src/runtime/storage/run-store.js";
import { parseJournal } from "../../../src/runtime/storage/task-journal.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cry-store-"));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const enc = (s: string) => new TextEncoder().encode(s);

function info(over: Partial<RunInfo> = {}): RunInfo {
  return {
    id: "run-1",
    experiment: "demo",
    seed: 42,
    replicates: 2,
    conditions: ["baseline", "doubled"],
    treatments: ["doubled"],
    outDir: dir,
    resume: false,
    startedAt: "2026-01-01T00:00:00.000Z",
    stepHashes: { fit: "rt1:a" },
    strategy: "serial",
    ...over,
  };
}

function outcome(condition: string, replicate: number, over: Partial<TaskOutcome> = {}): TaskOutcome {
  return {
    condition,
    replicate,
    status: "ok",
    seed: 1000 + replicate,
    metrics: { loss: [replicate + (condition === "baseline" ? 0 : 0.5)], odd: [NaN] },
    provenance: [],
    artifacts: [{ artifact: "model.json", step: "fit", codec: "json", bytes: enc(`{"r":${replicate}}`) }],
    ...over,
  };
}

const options = (over: Record<string, unknown> = {}) => ({ root: join(dir, "artifacts"), outDir: dir, fsync: false, ...over });

/** Lets queued journal lines go out (they are written when the event loop turns). */
const nextTurn = () => new Promise((r) => setImmediate(r));
const journalOf = (versionDir: string) => parseJournal(existsSync(join(versionDir, JOURNAL_FILE)) ? readFileSync(join(versionDir, JOURNAL_FILE)) : Buffer.alloc(0));
const done = (status: "completed" | "failed" | "cancelled" = "completed") => ({ info: info(), status, endedAt: "2026-01-01T00:01:00.000Z", json: {} });

describe("run store", () => {
  it("fsync: false: every file is in place when finish() resolves; the flush to disk follows, and a folder removed meanwhile is no warning", async () => {
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m) };
    const store = await openRunStore(info({ replicates: 1 }), options({ log, registry: false }));
    await store.saveTask(outcome("baseline", 0));
    await store.finish(done());
    // Written and renamed already (the flush runs in the background).
    expect(journalOf(store.dir).tasks.map((t) => t.condition)).toEqual(["baseline"]);
    expect(JSON.parse(readFileSync(join(store.dir, "metadata.json"), "utf8")).status).toBe("completed");
    expect(existsSync(join(store.dir, "result.json"))).toBe(true);
    await flushFinishedRuns();
    // A second version removed before its flush ran: nothing to flush, nothing to warn about.
    const other = await openRunStore(info({ replicates: 1, id: "run-2" }), options({ log, registry: false }));
    await other.saveTask(outcome("baseline", 0));
    await other.finish(done());
    rmSync(other.dir, { recursive: true, force: true });
    await flushFinishedRuns();
    expect(warnings).toEqual([]);
  });

  it("claims a new version per run and writes metadata.json at once (status running)", async () => {
    const a = await openRunStore(info(), options());
    const b = await openRunStore(info({ id: "run-2" }), options());
    expect([a.version, b.version]).toEqual([0, 1]);
    const meta = await readCheckedJson(join(dir, "artifacts", "demo", "v0", "metadata.json"));
    expect(meta).toMatchObject({ experiment: "demo", version: 0, runId: "run-1", status: "running", seed: 42, replicates: 2 });
    expect(meta!.packages).toMatchObject({ crystallize: "0.1.0", node: process.versions.node });
  });

  it("writes a task's artifacts at replicate_<r>/<condition>/<step>/<file>, then its journal line", async () => {
    const store = await openRunStore(info(), options());
    const records = await store.saveTask(outcome("doubled", 1));
    const path = join(dir, "artifacts", "demo", "v0", "replicate_1", "doubled", "fit", "model.json");
    expect(readFileSync(path, "utf8")).toBe('{"r":1}');
    expect(records).toEqual([
      { artifact: "model.json", step: "fit", condition: "doubled", replicate: 1, version: 0, path: "artifacts/demo/v0/replicate_1/doubled/fit/model.json", bytes: 7 },
    ]);
    await nextTurn();
    const journal = journalOf(store.dir);
    expect(journal.damaged).toEqual([]);
    expect(journal.tasks).toHaveLength(1);
    const line = journal.tasks[0]!;
    expect(line).toMatchObject({ condition: "doubled", replicate: 1, status: "ok", seed: 1001, runId: "run-1", metrics: { loss: [1.5], odd: [NaN] } });
    expect(line.artifacts[0]).toMatchObject({ artifact: "model.json", step: "fit", codec: "json", path: "replicate_1/doubled/fit/model.json", bytes: 7 });
    expect(line.artifacts[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    // The artifact index src/runtime/input-resolver.ts reads (not used by resume).
    const index = await readCheckedJson(join(store.dir, "replicate_1", "doubled", COMPLETE_MARKER));
    expect(index).toMatchObject({ condition: "doubled", replicate: 1, status: "ok", artifacts: [line.artifacts[0]] });
    await store.finish(done());
  });

  it("a task that wrote no artifacts costs one journal line: no file, no folder", async () => {
    const store = await openRunStore(info(), options());
    expect(await store.saveTask(outcome("baseline", 0, { artifacts: [] }))).toEqual([]);
    expect(readdirSync(store.dir).sort()).toEqual(["metadata.json", JOURNAL_FILE]);
    await nextTurn();
    expect(journalOf(store.dir).tasks.map((t) => [t.condition, t.replicate])).toEqual([["baseline", 0]]);
    await store.finish(done());
  });

  it("does not mark a failed task complete", async () => {
    const store = await openRunStore(info(), options());
    const failed = outcome("baseline", 0, { status: "failed", error: { condition: "baseline", replicate: 0, code: "E_STEP_FAILED", message: "x", stack: "" } });
    expect(await store.saveTask(failed)).toEqual([]);
    await store.finish(done("failed"));
    expect(existsSync(join(dir, "artifacts", "demo", "v0", "replicate_0"))).toBe(false);
    expect(journalOf(store.dir).tasks).toEqual([]);
  });

  it("refuses unsafe or duplicate artifact names, naming the artifact and the step", async () => {
    const store = await openRunStore(info(), options());
    for (const bad of ["../escape.json", "/abs.json", "a/b.json"]) {
      const o = outcome("baseline", 0, { artifacts: [{ artifact: bad, step: "fit", codec: "json", bytes: enc("1") }] });
      const err = await store.saveTask(o).catch((e) => e);
      expect(err).toBeInstanceOf(ArtifactError);
      expect((err as Error).message).toContain(`"${bad}"`);
      expect((err as Error).message).toContain('step "fit"');
    }
    expect(existsSync(join(dir, "artifacts", "demo", "escape.json"))).toBe(false);
    expect(existsSync(join(dir, "artifacts", "demo", "v0", "replicate_0", "escape.json"))).toBe(false);
    const twice = outcome("baseline", 0, { artifacts: [outcome("baseline", 0).artifacts[0]!, outcome("baseline", 0).artifacts[0]!] });
    await expect(store.saveTask(twice)).rejects.toThrow(/wrote artifact "model.json" twice/);
    // Checked before anything is written: no file, no journal line.
    const late = outcome("baseline", 1, { artifacts: [outcome("baseline", 1).artifacts[0]!, { artifact: "../x", step: "fit", codec: "json", bytes: enc("1") }] });
    await expect(store.saveTask(late)).rejects.toThrow(ArtifactError);
    expect(existsSync(join(store.dir, "replicate_1"))).toBe(false);
    await store.finish(done("failed"));
    expect(journalOf(store.dir).tasks).toEqual([]);
  });

  it("finish writes results.json per condition (replicate order) and the final metadata", async () => {
    const store = await openRunStore(info(), options());
    for (const o of [outcome("doubled", 1), outcome("baseline", 1), outcome("baseline", 0), outcome("doubled", 0)]) await store.saveTask(o);
    await store.finish({
      info: info(),
      status: "completed",
      endedAt: "2026-01-01T00:01:00.000Z",
      json: {
        hypotheses: [
          { name: "h", metrics: ["loss"], results: { doubled: { pValue: 0.01 } }, byMetric: { loss: { doubled: { pValue: 0.01 } } }, effects: { doubled: "worse" }, ranking: ["doubled"] },
        ],
      },
    });
    const v0 = join(dir, "artifacts", "demo", "v0");
    const base = await readCheckedJson(join(v0, "baseline", "results.json"));
    expect(base).toMatchObject({ condition: "baseline", replicates: [0, 1], missing: [], metrics: { loss: [0, 1], odd: [NaN, NaN] }, hypotheses: [] });
    const dbl = await readCheckedJson(join(v0, "doubled", "results.json"));
    expect(dbl!.metrics).toEqual({ loss: [0.5, 1.5], odd: [NaN, NaN] });
    expect(dbl!.hypotheses).toEqual([{ name: "h", metrics: ["loss"], result: { pValue: 0.01 }, byMetric: { loss: { pValue: 0.01 } }, rank: 1, effect: "worse" }]);
    const meta = await readCheckedJson(join(v0, "metadata.json"));
    expect(meta).toMatchObject({ status: "completed", endedAt: "2026-01-01T00:01:00.000Z", stepHashes: { fit: "rt1:a" }, conditions: ["baseline", "doubled"] });
    expect((meta!.sessions as unknown[]).length).toBe(1);
    expect(meta).toMatchObject({ schema: 2, durability: "run" });
    // result.json is one line (it holds the whole result); every file is whole.
    expect(readFileSync(join(v0, "result.json"), "utf8").split("\n")).toHaveLength(2);
    expect(await readCheckedJson(join(v0, "result.json"))).toHaveProperty("result.hypotheses");
    expect(journalOf(v0)).toMatchObject({ damaged: [], tornBytes: 0 });
    expect(journalOf(v0).tasks).toHaveLength(4);
  });

  it("fsync: true — a task's line is in the journal when saveTask resolves", async () => {
    const store = await openRunStore(info(), options({ fsync: true }));
    await store.saveTask(outcome("baseline", 0));
    expect(journalOf(store.dir).tasks.map((t) => t.replicate)).toEqual([0]);
    await Promise.all([store.saveTask(outcome("baseline", 1)), store.saveTask(outcome("doubled", 1, { artifacts: [] }))]);
    expect(journalOf(store.dir).tasks).toHaveLength(3);
    await store.finish(done());
    expect(await readCheckedJson(join(store.dir, "metadata.json"))).toMatchObject({ durability: "task", status: "completed" });
  });

  it("finish writes queued lines before metadata.json says how the run ended", async () => {
    const store = await openRunStore(info(), options());
    // No turn of the event loop between these and finish: the lines may still be queued.
    for (let r = 0; r < 2; r++) await store.saveTask(outcome("baseline", r, { artifacts: [] }));
    await store.finish(done("cancelled"));
    expect(journalOf(store.dir).tasks).toHaveLength(2);
    expect(await readCheckedJson(join(store.dir, "metadata.json"))).toMatchObject({ status: "cancelled" });
    expect(await readCheckedJson(join(store.dir, "baseline", "results.json"))).toMatchObject({ status: "cancelled", replicates: [0, 1] });
  });

  it("resume continues the latest version and returns completed tasks with their stored artifacts", async () => {
    const first = await openRunStore(info(), options());
    await first.saveTask(outcome("baseline", 0));
    await first.saveTask(outcome("doubled", 0));
    // Killed after its lines reached the kernel, before finish. A leftover temporary file:
    await nextTurn();
    writeFileSync(join(first.dir, "replicate_0", "baseline", ".x.json.999999999-ab.tmp"), "partial");
    const second = await openRunStore(info({ id: "run-2", resume: true }), options({ resume: true }));
    expect(second.version).toBe(0);
    const done2 = (await second.completed()) as StoredTask[];
    expect(done2.map((t) => [t.condition, t.replicate])).toEqual([
      ["baseline", 0],
      ["doubled", 0],
    ]);
    expect(done2[0]!.metrics.odd).toEqual([NaN]);
    expect(done2[0]!.seed).toBe(1000);
    expect(done2[0]!.artifacts).toEqual([]);
    expect(done2[0]!.stored[0]!.path).toBe("artifacts/demo/v0/replicate_0/baseline/fit/model.json");
    expect(readdirSync(join(first.dir, "replicate_0", "baseline"))).not.toContain(".x.json.999999999-ab.tmp");
    await second.saveTask(outcome("baseline", 1));
    await second.saveTask(outcome("doubled", 1));
    await second.finish({ info: info(), status: "completed", endedAt: "2026-01-01T00:02:00.000Z", json: {} });
    const base = await readCheckedJson(join(first.dir, "baseline", "results.json"));
    expect(base!.replicates).toEqual([0, 1]);
    const meta = await readCheckedJson(join(first.dir, "metadata.json"));
    expect((meta!.sessions as Array<{ runId: string; resumed: boolean }>).map((s) => [s.runId, s.resumed])).toEqual([
      ["run-1", false],
      ["run-2", true],
    ]);
    expect(meta!.startedAt).toBe("2026-01-01T00:00:00.000Z");
    // The resumed run appended to the same journal.
    expect(journalOf(first.dir).tasks.map((t) => [t.runId, t.replicate])).toEqual([
      ["run-1", 0],
      ["run-1", 0],
      ["run-2", 1],
      ["run-2", 1],
    ]);
    await first.finish(done()).catch(() => undefined);
  });

  it("resume returns provenance and metrics exactly as saved (NaN, -0, nested params)", async () => {
    const first = await openRunStore(info(), options());
    const provenance = [
      { step: "fit", stepHash: "rt1:a", params: Object.freeze({ w: -0, nested: { k: [1, 2] } }), cacheHit: true, durationMs: 0.25, inputHash: "ih", ctx: { reads: ["x"], wrote: [] }, metrics: { loss: [-0] } },
    ];
    await first.saveTask(outcome("baseline", 0, { provenance, metrics: { loss: [-0, NaN, Infinity] }, artifacts: [] }));
    await first.finish(done());
    const second = await openRunStore(info({ resume: true }), options({ resume: true }));
    const [t] = await second.completed();
    expect(t!.provenance).toEqual(provenance);
    expect(Object.is((t!.provenance[0]!.params as { w: number }).w, -0)).toBe(true);
    expect(t!.metrics.loss).toEqual([-0, NaN, Infinity]);
    expect(Object.is(t!.metrics.loss![0], -0)).toBe(true);
    await second.finish(done());
  });

  it("reruns a task whose journal line is damaged or whose artifact is missing or changed", async () => {
    const warnings: string[] = [];
    const first = await openRunStore(info(), options());
    await first.saveTask(outcome("baseline", 0));
    await first.saveTask(outcome("baseline", 1));
    await first.saveTask(outcome("doubled", 0));
    await first.saveTask(outcome("doubled", 1));
    await first.finish(done());
    const journal = join(first.dir, JOURNAL_FILE);
    writeFileSync(journal, readFileSync(journal, "utf8").replace('"seed":1000', '"seed":1001'));
    await fsp.rm(join(first.dir, "replicate_1", "baseline", "fit", "model.json"));
    writeFileSync(join(first.dir, "replicate_0", "doubled", "fit", "model.json"), '{"r":9}'); // same size
    const second = await openRunStore(info({ resume: true }), options({ resume: true, log: { warn: (m: string) => warnings.push(m) } }));
    expect((await second.completed()).map((t) => [t.condition, t.replicate])).toEqual([["doubled", 1]]);
    const text = warnings.join("\n");
    expect(text).toMatch(/Line 1 of .*tasks\.jsonl is damaged \(its checksum does not match/);
    expect(text).toMatch(/replicate_1\/baseline\/fit\/model\.json of a completed task is missing/);
    expect(text).toMatch(/replicate_0\/doubled\/fit\/model\.json of a completed task is not what was written \(its sha256 differs\)/);
    // The damaged line stays (ignored); the rerun's line is appended and wins.
    await second.saveTask(outcome("baseline", 0));
    await second.finish(done());
    const third = await openRunStore(info({ resume: true }), options({ resume: true, log: { warn: () => undefined } }));
    expect((await third.completed()).map((t) => [t.condition, t.replicate])).toEqual([
      ["baseline", 0],
      ["doubled", 1],
    ]);
    await third.finish(done());
  });

  it("a line torn by a crash is reported, cut off, and its task runs again", async () => {
    const warnings: string[] = [];
    const first = await openRunStore(info(), options());
    await first.saveTask(outcome("baseline", 0, { artifacts: [] }));
    await first.finish(done());
    const journal = join(first.dir, JOURNAL_FILE);
    const whole = readFileSync(journal, "utf8");
    writeFileSync(journal, whole + whole.slice(0, 60).replace('"replicate":0', '"replicate":1'));
    const second = await openRunStore(info({ resume: true }), options({ resume: true, log: { warn: (m: string) => warnings.push(m) } }));
    expect(warnings).toEqual([expect.stringMatching(/tasks\.jsonl ends with a partial line \(60 bytes.*removed/)]);
    expect(readFileSync(journal, "utf8")).toBe(whole);
    expect((await second.completed()).map((t) => t.replicate)).toEqual([0]);
    await second.saveTask(outcome("baseline", 1, { artifacts: [] }));
    await second.finish(done());
    expect(journalOf(first.dir)).toMatchObject({ damaged: [], tornBytes: 0 });
    expect(journalOf(first.dir).tasks.map((t) => t.replicate)).toEqual([0, 1]);
  });

  it("readStoredTasks: a stored version's completed tasks, last line per task", async () => {
    const store = await openRunStore(info(), options());
    await store.saveTask(outcome("doubled", 1));
    await store.saveTask(outcome("doubled", 1, { seed: 5 }));
    await store.finish(done());
    const tasks = await readStoredTasks(store.dir);
    expect([...tasks.keys()]).toEqual([storedTaskKey("doubled", 1)]);
    expect(tasks.get(storedTaskKey("doubled", 1))).toMatchObject({ seed: 5, artifacts: [{ artifact: "model.json", path: "replicate_1/doubled/fit/model.json" }] });
    expect((await readStoredTasks(join(dir, "nowhere"))).size).toBe(0);
  });

  it("does not resume a version made with another seed or other step code: a new version, with a warning", async () => {
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m) };
    await openRunStore(info(), options());
    const otherSeed = await openRunStore(info({ seed: 7, resume: true }), options({ resume: true, log }));
    expect(otherSeed.version).toBe(1);
    expect(warnings[0]).toMatch(/seed 42.*seed 7.*new version/);
    const otherCode = await openRunStore(info({ seed: 7, stepHashes: { fit: "rt1:b" }, resume: true }), options({ resume: true, log }));
    expect(otherCode.version).toBe(2);
    expect(warnings[1]).toMatch(/code of step "fit" changed/);
  });

  it("does not resume a version written with per-task marker files (schema 1)", async () => {
    const warnings: string[] = [];
    const v0 = join(dir, "artifacts", "demo", "v0");
    await writeCheckedJson(join(v0, "metadata.json"), { schema: 1, experiment: "demo", seed: 42, stepHashes: { fit: "rt1:a" }, sessions: [] });
    const store = await openRunStore(info({ resume: true }), options({ resume: true, log: { warn: (m: string) => warnings.push(m) } }));
    expect(store.version).toBe(1);
    expect(warnings[0]).toMatch(/schema 1.*new version/);
    await store.finish(done());
  });

  it("unversioned: v0 is cleared for a new run and kept for a resume (unless it cannot be continued)", async () => {
    const a = await openRunStore(info(), options({ versioned: false }));
    await a.saveTask(outcome("baseline", 0));
    await a.finish(done());
    const b = await openRunStore(info({ resume: true }), options({ versioned: false, resume: true }));
    expect(b.version).toBe(0);
    expect((await b.completed()).length).toBe(1);
    await b.finish(done());
    const c = await openRunStore(info(), options({ versioned: false }));
    expect(c.version).toBe(0);
    expect(existsSync(join(c.dir, "replicate_0"))).toBe(false);
    expect(journalOf(c.dir).tasks).toEqual([]);
    await c.saveTask(outcome("baseline", 0));
    await c.finish(done());
    // Another seed: v0 is not continued but cleared (never read as this run's tasks).
    const d = await openRunStore(info({ seed: 1, resume: true }), options({ versioned: false, resume: true, log: { warn: () => undefined } }));
    expect(d.version).toBe(0);
    expect(await d.completed()).toEqual([]);
    expect(journalOf(d.dir).tasks).toEqual([]);
    await d.finish(done());
  });

  it("refuses condition names that collide with the layout", async () => {
    await expect(openRunStore(info({ conditions: ["baseline", "replicate_0"] }), options())).rejects.toThrow(/reserved/);
    await expect(openRunStore(info({ conditions: ["baseline", "tasks.jsonl"] }), options())).rejects.toThrow(/reserved/);
    await expect(openRunStore(info({ experiment: "../up" }), options())).rejects.toThrow(StorageError);
  });

  it("a full disk while saving a task: an error naming the path, no partial file, no journal line", async () => {
    const root = join(dir, "small");
    await fsp.mkdir(root);
    let mounted = false;
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=128k", "tmpfs", root], { stdio: "ignore" });
      mounted = true;
    } catch {
      // Without permission to mount, fill the disk by making the path unwritable instead.
    }
    try {
      const store = await openRunStore(info(), options({ root }));
      const big = outcome("baseline", 0, { artifacts: [{ artifact: "big.bin", step: "fit", codec: "bytes", bytes: new Uint8Array(512 * 1024) }] });
      if (!mounted) writeFileSync(join(store.dir, "replicate_0"), "in the way");
      const err = await store.saveTask(big).catch((e) => e);
      expect(err).toBeInstanceOf(StorageError);
      const target = join(store.dir, "replicate_0", "baseline", "fit", "big.bin");
      expect((err as StorageError).path).toBe(target);
      expect((err as Error).message).toContain(target);
      if (mounted) {
        expect((err as Error).message).toMatch(/disk is full/);
        expect(readdirSync(join(store.dir, "replicate_0", "baseline", "fit"))).toEqual([]);
      }
      expect(existsSync(join(store.dir, "replicate_0", "baseline", COMPLETE_MARKER))).toBe(false);
      await store.finish(done("failed")).catch(() => undefined); // closes the journal
      expect(journalOf(store.dir).tasks).toEqual([]);
      // The flush to disk after the run holds the files open for a moment: the mount is busy till then.
      await flushFinishedRuns();
    } finally {
      if (mounted) execFileSync("umount", [root]);
    }
  });
});
