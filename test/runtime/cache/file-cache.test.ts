import { spawn } from "node:child_process";
import * as fsp from "node:fs/promises";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CacheCorruptionError, StorageError } from "../../../src/errors.js";
import { clearCache, createFileCache } from "../../../src/runtime/cache/index.js";
import type { CachedStep } from "../../../src/runtime/services.js";

const distCache = join(dirname(fileURLToPath(import.meta.url)), "../../../dist/runtime/cache/index.js");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cry-cache-"));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function entry(output: unknown): CachedStep {
  return {
    output,
    metrics: [
      ["loss", 0.25],
      ["loss", NaN],
      ["acc", -0],
    ],
    wrote: [["features", { n: 3 }]],
    artifacts: [{ artifact: "model.json", codec: "json", bytes: new TextEncoder().encode('{"w":1}') }],
  };
}

function logger() {
  const warnings: string[] = [];
  return { warnings, log: { warn: (m: string) => warnings.push(m) } };
}

const request = { experiment: "e", step: "fit", stepHash: "rt1:x", params: { k: 1 }, input: [1, 2] };

describe("file cache", () => {
  it("misses, then returns exactly what was stored (output, metrics, ctx writes, artifacts)", async () => {
    const cache = createFileCache({ root: join(dir, "cache") });
    const { key, inputHash } = cache.key(request);
    expect(inputHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await cache.get(key)).toBeUndefined();
    const output = {
      xs: new Float64Array([1.5, -0, NaN]),
      when: new Date(7),
      m: new Map<unknown, unknown>([[1, new Set(["a"])]]),
      nested: [undefined, null, 2n, "é"],
    };
    await cache.set(key, entry(output));
    const hit = await cache.get(key);
    expect(hit).toBeDefined();
    expect(hit!.output).toEqual(output);
    expect(Object.is((hit!.output as typeof output).xs[1], -0)).toBe(true);
    expect(hit!.metrics).toEqual(entry(output).metrics);
    expect(hit!.wrote).toEqual([["features", { n: 3 }]]);
    expect(new TextDecoder().decode(hit!.artifacts[0]!.bytes)).toBe('{"w":1}');
    expect(existsSync(cache.pathOf(key))).toBe(true);
    expect(cache.pathOf(key)).toBe(join(dir, "cache", key.slice(0, 2), `${key}.entry`));
  });

  it("round-trips any storable value (property)", async () => {
    const cache = createFileCache({ root: join(dir, "cache"), fsync: false });
    const value = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.double(),
        fc.string(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.bigInt(),
        fc.float64Array({ maxLength: 5 }),
        fc.int16Array({ maxLength: 5 }),
        fc.array(tie("v"), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 4 }), tie("v"), { maxKeys: 4 }),
      ),
    })).v;
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const { key } = cache.key({ ...request, input: v });
        await cache.set(key, entry(v));
        expect((await cache.get(key))!.output).toEqual(v);
      }),
      { numRuns: 60 },
    );
  });

  it("raises CacheCorruptionError naming the file for a flipped byte, a truncation, or garbage", async () => {
    const cache = createFileCache({ root: join(dir, "cache") });
    const { key } = cache.key(request);
    await cache.set(key, entry({ big: new Float64Array(1000).fill(3) }));
    const path = cache.pathOf(key);
    const good = readFileSync(path);

    const flipped = Buffer.from(good);
    flipped[flipped.length - 100] = flipped[flipped.length - 100]! ^ 0xff;
    writeFileSync(path, flipped);
    const e1 = await cache.get(key).catch((e) => e);
    expect(e1).toBeInstanceOf(CacheCorruptionError);
    expect((e1 as CacheCorruptionError).file).toBe(path);
    expect((e1 as Error).message).toContain(path);
    expect((e1 as Error).message).toMatch(/checksum/);

    writeFileSync(path, good.subarray(0, good.length - 10));
    await expect(cache.get(key)).rejects.toThrow(/length is wrong/);
    writeFileSync(path, "not an entry at all, just some text that is long enough to have a header".repeat(3));
    await expect(cache.get(key)).rejects.toThrow(/not a Crystallize cache entry/);
    writeFileSync(path, good.subarray(0, 20));
    await expect(cache.get(key)).rejects.toThrow(/truncated/);
  });

  it("refuses an entry stored under another key's name", async () => {
    const cache = createFileCache({ root: join(dir, "cache") });
    const a = cache.key(request).key;
    const b = cache.key({ ...request, params: { k: 2 } }).key;
    await cache.set(a, entry(1));
    await fsp.mkdir(dirname(cache.pathOf(b)), { recursive: true });
    await fsp.copyFile(cache.pathOf(a), cache.pathOf(b));
    await expect(cache.get(b)).rejects.toThrow(/another key/);
  });

  it('with onCorrupt: "recompute", deletes the entry, logs it, and misses; a new set works', async () => {
    const { warnings, log } = logger();
    const cache = createFileCache({ root: join(dir, "cache"), onCorrupt: "recompute", log });
    const { key } = cache.key(request);
    await cache.set(key, entry([1, 2, 3]));
    const path = cache.pathOf(key);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    writeFileSync(path, bytes);
    expect(await cache.get(key)).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path);
    expect(warnings[0]).toMatch(/corrupt.*recomputed/);
    await cache.set(key, entry([1, 2, 3]));
    expect((await cache.get(key))!.output).toEqual([1, 2, 3]);
  });

  it("does not store an output it could not give back faithfully, and says which step", async () => {
    const { warnings, log } = logger();
    const cache = createFileCache({ root: join(dir, "cache"), log });
    class Model {
      w = 1;
    }
    const { key } = cache.key(request);
    await cache.set(key, entry({ model: new Model() }));
    expect(await cache.get(key)).toBeUndefined();
    expect(warnings[0]).toMatch(/Not caching step "fit".*output\.model is an instance of Model/);
    await cache.set(key, entry({ f: () => 1 }));
    expect(warnings[1]).toMatch(/output\.f is a function/);
  });

  it("fails a write with a StorageError naming the path and leaves no partial file", async () => {
    writeFileSync(join(dir, "blocker"), "a file where the cache folder should be");
    const cache = createFileCache({ root: join(dir, "blocker", "cache") });
    const { key } = cache.key(request);
    const err = await cache.set(key, entry(1)).catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).path).toBe(cache.pathOf(key));
    expect(readdirSync(dir)).toEqual(["blocker"]);
  });

  it("clears everything", async () => {
    const cache = createFileCache({ root: join(dir, "cache") });
    const { key } = cache.key(request);
    await cache.set(key, entry(1));
    await cache.clear();
    expect(existsSync(join(dir, "cache"))).toBe(false);
    expect(await cache.get(key)).toBeUndefined();
    await clearCache(join(dir, "never-existed"));
  });

  it("two processes writing the same key at once leave one whole entry", async () => {
    const root = join(dir, "cache");
    const cache = createFileCache({ root });
    const { key } = cache.key(request);
    const writer = (id: number) => `
      import { createFileCache } from ${JSON.stringify(distCache)};
      const cache = createFileCache({ root: ${JSON.stringify(root)} });
      const output = new Float64Array(256 * 1024).fill(${id});
      for (let i = 0; i < 25; i++) {
        await cache.set(${JSON.stringify(key)}, { output, metrics: [["id", ${id}]], wrote: [], artifacts: [] });
      }
    `;
    const run = (id: number) =>
      new Promise<void>((resolvePromise, reject) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", writer(id)], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("exit", (code) => (code === 0 ? resolvePromise() : reject(new Error(`writer ${id} failed: ${stderr}`))));
      });
    let reads = 0;
    let done = false;
    const writers = Promise.all([run(1), run(2)]).finally(() => (done = true));
    // Read while they write: every entry seen is whole and is one writer's.
    while (!done) {
      const hit = await cache.get(key);
      if (hit) {
        reads++;
        const xs = hit.output as Float64Array;
        const id = hit.metrics[0]![1];
        expect(xs.length).toBe(256 * 1024);
        expect(xs.every((x) => x === id)).toBe(true);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await writers;
    const final = await cache.get(key);
    expect([1, 2]).toContain(final!.metrics[0]![1]);
    expect((final!.output as Float64Array).every((x) => x === final!.metrics[0]![1])).toBe(true);
    expect(reads).toBeGreaterThan(0);
    expect(readdirSync(join(root, key.slice(0, 2)))).toEqual([`${key}.entry`]);
  });
});

describe("file cache: recorded reads", () => {
  it("stores and returns what the step read, for the runner to check on a hit", async () => {
    const dir2 = mkdtempSync(join(tmpdir(), "cry-cache-reads-"));
    try {
      const cache = createFileCache({ root: dir2 });
      const { key } = cache.key(request);
      await cache.set(key, { ...entry(1), reads: [["$condition", "ab"], ["threshold", "cd"]] });
      expect((await cache.get(key))!.reads).toEqual([["$condition", "ab"], ["threshold", "cd"]]);
      const other = cache.key({ ...request, input: [9] }).key;
      await cache.set(other, entry(2));
      expect((await cache.get(other))!.reads).toBeUndefined();
    } finally {
      await fsp.rm(dir2, { recursive: true, force: true });
    }
  });
});
