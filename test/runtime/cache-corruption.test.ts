// Issue 17: a cache entry whose bytes were edited on disk stops the run (onCorrupt: "throw", the
// default) with CacheCorruptionError naming the file, leaving the store consistent; with
// onCorrupt: "recompute" the step runs again, the entry is rewritten, and the run succeeds.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CacheCorruptionError, concurrent, experiment, graph, gridSearch, pipeline, source, step } from "../../src/index.js";
import { createFileCache } from "../../src/runtime/cache/index.js";
import { readCheckedJson } from "../../src/runtime/storage/checked-json.js";
import { readStoredTasks, storedTaskKey } from "../../src/runtime/storage/run-store.js";

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "cry-corrupt-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let runs = 0;
// The source's value is the replicate, so every replicate has its own entry; with usesRandom:
// false (as a manifest would say) the key is (stepHash, params, input) and a test can compute it.
const counted = source("counted", (ctx) => ctx.replicate);
const double = step("double", { cacheable: true, metrics: ["twice"] }, (x: number, ctx) => {
  runs++;
  ctx.record("twice", x * 2);
  return x * 2;
});
const exp = experiment("corrupt-demo", { source: counted, pipeline: pipeline(double), replicates: 3, seed: 1 });
const stepHashes = { double: { hash: "double-v1", usesRandom: false } };

/** The file of the entry `double` writes for this input. */
function entryFor(outDir: string, input: number): string {
  const cache = createFileCache({ root: join(outDir, "cache") });
  const { key } = cache.key({ experiment: exp.name, step: "double", stepHash: "double-v1", params: {}, input });
  return cache.pathOf(key);
}

function entriesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".entry"))
    .map((f) => join(root, f));
}

/** Edits one byte in the middle of the file (as a disk fault or a careless editor would). */
function flipByte(path: string): void {
  const bytes = readFileSync(path);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x20;
  writeFileSync(path, bytes);
}

const versionDir = (outDir: string, name: string, v: number) => join(outDir, "artifacts", name, `v${v}`);

describe("a corrupt cache entry (onCorrupt: \"throw\", the default)", () => {
  it("rejects experiment.run() with CacheCorruptionError naming the file; completed tasks are journaled and the version is marked failed", async () => {
    const outDir = temp();
    const first = await exp.run({ outDir, stepHashes });
    expect(first.errors).toEqual([]);
    const bad = entryFor(outDir, 2);
    expect(existsSync(bad)).toBe(true);
    flipByte(bad);

    const error = await exp.run({ outDir, stepHashes }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CacheCorruptionError);
    const corrupt = error as CacheCorruptionError;
    expect(corrupt.code).toBe("E_CACHE_CORRUPT");
    expect(corrupt.file).toBe(bad);
    expect(corrupt.message).toContain(bad);

    // Replicates 0 and 1 ran (cache hits) before replicate 2 met the corrupt entry.
    const second = versionDir(outDir, exp.name, 1); // versions count from v0
    const stored = await readStoredTasks(second);
    expect([...stored.keys()].sort()).toEqual([storedTaskKey("baseline", 0), storedTaskKey("baseline", 1)]);
    const meta = (await readCheckedJson(join(second, "metadata.json"))) as { status: string };
    expect(meta.status).toBe("failed");
    // The corrupt entry is left for the user to inspect: nothing deleted or rewritten it.
    expect(existsSync(bad)).toBe(true);

    // Once it is removed, resume continues the failed version: only replicate 2 runs.
    rmSync(bad);
    const resumed = await exp.run({ outDir, stepHashes, resume: true });
    expect(resumed.errors).toEqual([]);
    expect(resumed.run.version).toBe(1);
    expect(resumed.run.resumedTasks).toBe(2);
    expect(resumed.metrics.baseline.twice).toEqual(first.metrics.baseline.twice);
  });

  it("also stops a concurrent() run and a graph run", async () => {
    const outDir = temp();
    await exp.run({ outDir, stepHashes, cache: { onCorrupt: "throw" } });
    for (const f of entriesUnder(join(outDir, "cache"))) flipByte(f);
    const files = entriesUnder(join(outDir, "cache"));

    const fromConcurrent = await exp.run({ outDir, stepHashes, execution: concurrent({ limit: 3 }) }).catch((e: unknown) => e);
    expect(fromConcurrent).toBeInstanceOf(CacheCorruptionError);
    expect(files).toContain((fromConcurrent as CacheCorruptionError).file);

    const g = graph("corrupt-graph", [exp]);
    const fromGraph = await g.run({ outDir, stepHashes }).catch((e: unknown) => e);
    expect(fromGraph).toBeInstanceOf(CacheCorruptionError);
    expect(files).toContain((fromGraph as CacheCorruptionError).file);
  });

  it("also stops optimize()", async () => {
    const outDir = temp();
    const offset = step("offset", { params: { by: 0 }, cacheable: true, metrics: ["value"] }, (x: number, ctx) => {
      ctx.record("value", x + ctx.params.by);
      return x + ctx.params.by;
    });
    const tuned = experiment("corrupt-tuned", { source: counted, pipeline: pipeline(offset), replicates: 2 });
    const search = () => tuned.optimize(gridSearch({ by: [1, 2] }), { objective: { metric: "value", direction: "maximize" }, outDir });
    const first = await search();
    expect(first.best?.params).toEqual({ by: 2 });
    const files = entriesUnder(join(outDir, "cache"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) flipByte(f);
    const error = await search().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheCorruptionError);
    expect(files).toContain((error as CacheCorruptionError).file);
    const again = await tuned.optimize(gridSearch({ by: [1, 2] }), {
      objective: { metric: "value", direction: "maximize" },
      outDir,
      cache: { onCorrupt: "recompute" },
    });
    expect(again.best?.params).toEqual({ by: 2 });
  });

  it("a step that throws CacheCorruptionError itself is an ordinary step failure (recorded, the run resolves)", async () => {
    const liar = step("liar", (x: number) => {
      if (x === 1) throw new CacheCorruptionError("/not/a/cache/entry", "made up");
      return x;
    });
    const r = await experiment("liar", { source: counted, pipeline: pipeline(liar), replicates: 2 }).run({ outDir: temp() });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.step).toBe("liar");
    expect(r.errors[0]!.wrapperCode).toBe("E_STEP_FAILED");
  });
});

describe('a corrupt cache entry with onCorrupt: "recompute"', () => {
  it("recomputes the step, rewrites the entry, and the run succeeds", async () => {
    const outDir = temp();
    const first = await exp.run({ outDir, stepHashes });
    const bad = entryFor(outDir, 2);
    flipByte(bad);
    const before = runs;

    const r = await exp.run({ outDir, stepHashes, cache: { onCorrupt: "recompute" } });
    expect(r.errors).toEqual([]);
    expect(runs - before).toBe(1);
    expect(r.provenance.map((p) => [p.replicate, p.steps[0]!.cacheHit])).toEqual([
      [0, true],
      [1, true],
      [2, false],
    ]);
    expect(r.metrics.baseline.twice).toEqual(first.metrics.baseline.twice);

    // The entry was rewritten whole: a strict run now hits everywhere.
    expect(existsSync(bad)).toBe(true);
    const strict = await exp.run({ outDir, stepHashes });
    expect(strict.provenance.every((p) => p.steps[0]!.cacheHit)).toBe(true);
    expect(runs - before).toBe(1);
  });
});
