// Issue 17 across the thread boundary: a worker that meets a corrupt cache entry reports it as
// data in the task's outcome, and the main thread rejects the parallel() run with a
// CacheCorruptionError naming the file (onCorrupt: "throw"); "recompute" reruns the step in the worker.
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { logging, parallel, serial } from "crystallize-ts";
import { CacheCorruptionError } from "../../src/errors.js";
import { out, useParallelDirs } from "./parallel-dirs.js";

const { arith } = await import("../fixtures/parallel/arith.mjs");

useParallelDirs();

const quiet = () => [logging({ level: "silent" })];

function entriesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".entry"))
    .map((f) => join(root, f));
}

function flipByte(path: string): void {
  const bytes = readFileSync(path);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x20;
  writeFileSync(path, bytes);
}

describe("a corrupt cache entry under parallel()", () => {
  it('rejects the run with CacheCorruptionError naming the file (onCorrupt: "throw"), and recomputes with "recompute"', async () => {
    const outDir = out();
    const first = await arith.run({ plugins: quiet(), replicates: 4, execution: serial(), outDir });
    const files = entriesUnder(join(outDir, "cache"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) flipByte(f);

    const error = await arith.run({ plugins: quiet(), replicates: 4, execution: parallel({ workers: 2, idleTimeoutMs: 0 }), outDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CacheCorruptionError);
    expect((error as CacheCorruptionError).code).toBe("E_CACHE_CORRUPT");
    expect(files).toContain((error as CacheCorruptionError).file);
    expect((error as Error).message).toContain((error as CacheCorruptionError).file);

    const again = await arith.run({
      plugins: quiet(),
      replicates: 4,
      execution: parallel({ workers: 2, idleTimeoutMs: 0 }),
      outDir,
      cache: { onCorrupt: "recompute" },
    });
    expect(again.metrics).toEqual(first.metrics);
    expect(again.errors.map((e) => e.code)).toEqual(first.errors.map((e) => e.code));
    // Every entry was rewritten whole: a strict serial run now reads them all.
    const strict = await arith.run({ plugins: quiet(), replicates: 4, execution: serial(), outDir });
    const scaled = strict.provenance.flatMap((p) => p.steps.filter((s) => s.step === "scale"));
    expect(scaled.length).toBeGreaterThan(0);
    expect(scaled.every((s) => s.cacheHit)).toBe(true);
  });
});
