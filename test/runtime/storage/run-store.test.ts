import { execFileSync } from "node:child_process";
import * as fsp from "node:fs/promises";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArtifactError, StorageError } from "../../../src/errors.js";
import type { RunInfo, TaskOutcome } from "../../../src/runtime/records.js";
import { checkedJsonProblem, readCheckedJson } from "../../../src/runtime/storage/checked-json.js";
import { COMPLETE_MARKER, openRunStore, type StoredTask } from "../../../src/runtime/storage/run-store.js";

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

describe("run store", () => {
  it("claims a new version per run and writes metadata.json at once (status running)", async () => {
    const a = await openRunStore(info(), options());
    const b = await openRunStore(info({ id: "run-2" }), options());
    expect([a.version, b.version]).toEqual([0, 1]);
    const meta = await readCheckedJson(join(dir, "artifacts", "demo", "v0", "metadata.json"));
    expect(meta).toMatchObject({ experiment: "demo", version: 0, runId: "run-1", status: "running", seed: 42, replicates: 2 });
    expect(meta!.packages).toMatchObject({ crystallize: "0.1.0", node: process.versions.node });
  });

  it("writes a task's artifacts at replicate_<r>/<condition>/<step>/<file>, then its marker", async () => {
    const store = await openRunStore(info(), options());
    const records = await store.saveTask(outcome("doubled", 1));
    const path = join(dir, "artifacts", "demo", "v0", "replicate_1", "doubled", "fit", "model.json");
    expect(readFileSync(path, "utf8")).toBe('{"r":1}');
    expect(records).toEqual([
      { artifact: "model.json", step: "fit", condition: "doubled", replicate: 1, version: 0, path: "artifacts/demo/v0/replicate_1/doubled/fit/model.json", bytes: 7 },
    ]);
    const marker = readFileSync(join(dir, "artifacts", "demo", "v0", "replicate_1", "doubled", COMPLETE_MARKER), "utf8");
    expect(checkedJsonProblem(marker)).toBeUndefined();
    const m = JSON.parse(marker);
    expect(m.artifacts[0]).toMatchObject({ path: "replicate_1/doubled/fit/model.json", bytes: 7 });
    expect(m.artifacts[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("does not mark a failed task complete", async () => {
    const store = await openRunStore(info(), options());
    const failed = outcome("baseline", 0, { status: "failed", error: { condition: "baseline", replicate: 0, code: "E_STEP_FAILED", message: "x", stack: "" } });
    expect(await store.saveTask(failed)).toEqual([]);
    expect(existsSync(join(dir, "artifacts", "demo", "v0", "replicate_0"))).toBe(false);
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
          { name: "h", metrics: ["loss"], results: { doubled: { pValue: 0.01 } }, byMetric: { loss: { doubled: { pValue: 0.01 } } }, ranking: ["doubled"] },
        ],
      },
    });
    const v0 = join(dir, "artifacts", "demo", "v0");
    const base = await readCheckedJson(join(v0, "baseline", "results.json"));
    expect(base).toMatchObject({ condition: "baseline", replicates: [0, 1], missing: [], metrics: { loss: [0, 1], odd: [NaN, NaN] }, hypotheses: [] });
    const dbl = await readCheckedJson(join(v0, "doubled", "results.json"));
    expect(dbl!.metrics).toEqual({ loss: [0.5, 1.5], odd: [NaN, NaN] });
    expect(dbl!.hypotheses).toEqual([{ name: "h", metrics: ["loss"], result: { pValue: 0.01 }, byMetric: { loss: { pValue: 0.01 } }, rank: 1 }]);
    const meta = await readCheckedJson(join(v0, "metadata.json"));
    expect(meta).toMatchObject({ status: "completed", endedAt: "2026-01-01T00:01:00.000Z", stepHashes: { fit: "rt1:a" }, conditions: ["baseline", "doubled"] });
    expect((meta!.sessions as unknown[]).length).toBe(1);
    expect(await readCheckedJson(join(v0, "result.json"))).toHaveProperty("result.hypotheses");
  });

  it("resume continues the latest version and returns completed tasks with their stored artifacts", async () => {
    const first = await openRunStore(info(), options());
    await first.saveTask(outcome("baseline", 0));
    await first.saveTask(outcome("doubled", 0));
    // Crash: no finish. A leftover temporary file from the dead writer:
    writeFileSync(join(first.dir, "replicate_0", "baseline", ".x.json.999999999-ab.tmp"), "partial");
    const second = await openRunStore(info({ id: "run-2", resume: true }), options({ resume: true }));
    expect(second.version).toBe(0);
    const done = (await second.completed()) as StoredTask[];
    expect(done.map((t) => [t.condition, t.replicate])).toEqual([
      ["baseline", 0],
      ["doubled", 0],
    ]);
    expect(done[0]!.metrics.odd).toEqual([NaN]);
    expect(done[0]!.seed).toBe(1000);
    expect(done[0]!.artifacts).toEqual([]);
    expect(done[0]!.stored[0]!.path).toBe("artifacts/demo/v0/replicate_0/baseline/fit/model.json");
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
  });

  it("reruns a task whose marker is damaged or whose artifact went missing", async () => {
    const warnings: string[] = [];
    const first = await openRunStore(info(), options());
    await first.saveTask(outcome("baseline", 0));
    await first.saveTask(outcome("baseline", 1));
    const marker = join(first.dir, "replicate_0", "baseline", COMPLETE_MARKER);
    writeFileSync(marker, readFileSync(marker, "utf8").replace('"seed": 1000', '"seed": 1001'));
    await fsp.rm(join(first.dir, "replicate_1", "baseline", "fit", "model.json"));
    const second = await openRunStore(info({ resume: true }), options({ resume: true, log: { warn: (m: string) => warnings.push(m) } }));
    expect(await second.completed()).toEqual([]);
    expect(warnings.join("\n")).toMatch(/checksum/);
    expect(warnings.join("\n")).toMatch(/missing/);
    expect(existsSync(marker)).toBe(false);
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

  it("unversioned: v0 is cleared for a new run and kept for a resume", async () => {
    const a = await openRunStore(info(), options({ versioned: false }));
    await a.saveTask(outcome("baseline", 0));
    const b = await openRunStore(info({ resume: true }), options({ versioned: false, resume: true }));
    expect(b.version).toBe(0);
    expect((await b.completed()).length).toBe(1);
    const c = await openRunStore(info(), options({ versioned: false }));
    expect(c.version).toBe(0);
    expect(existsSync(join(c.dir, "replicate_0"))).toBe(false);
  });

  it("refuses condition names that collide with the layout", async () => {
    await expect(openRunStore(info({ conditions: ["baseline", "replicate_0"] }), options())).rejects.toThrow(/reserved/);
    await expect(openRunStore(info({ experiment: "../up" }), options())).rejects.toThrow(StorageError);
  });

  it("a full disk while saving a task: an error naming the path, no partial file, no marker", async () => {
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
    } finally {
      if (mounted) execFileSync("umount", [root]);
    }
  });
});
