// Canonical hashing throughput and cache-hit cost (issue 4). Imports the built dist/.
// Each figure is printed with its target; a baseline measured in the same run sits beside it.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalHash } from "../dist/runtime/canonical-hash.js";
import { createFileCache } from "../dist/runtime/cache/index.js";

const MB = 1024 * 1024;
const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let failed = false;
const verdict = (ok) => {
  if (!ok) failed = true;
  return ok ? "ok" : "BELOW TARGET";
};

/** Times `fn` `reps` times (after one warm-up) and returns the median in ms. */
async function time(fn, reps) {
  await fn();
  const out = [];
  for (let i = 0; i < reps; i++) {
    globalThis.gc?.();
    const t = now();
    await fn();
    out.push(now() - t);
  }
  return median(out);
}

// 1. A 64 MB Float64Array.
{
  const xs = new Float64Array((64 * MB) / 8);
  for (let i = 0; i < xs.length; i++) xs[i] = Math.sin(i);
  const bytes = new Uint8Array(xs.buffer);
  const hashMs = await time(() => canonicalHash(xs), 7);
  const rawMs = await time(() => createHash("sha256").update(bytes).digest(), 7);
  const rate = 64 / (hashMs / 1000);
  console.log(
    `canonicalHash(64 MB Float64Array): ${hashMs.toFixed(1)} ms = ${rate.toFixed(0)} MB/s ` +
      `(raw sha256 of the same bytes: ${rawMs.toFixed(1)} ms = ${(64 / (rawMs / 1000)).toFixed(0)} MB/s; ` +
      `ratio ${(rawMs / hashMs).toFixed(2)} of raw) — target >= 500 MB/s: ${verdict(rate >= 500)}`,
  );
}

// 2. 100,000 small plain objects.
{
  const objs = Array.from({ length: 100_000 }, (_, i) => ({
    id: i,
    name: `item-${i}`,
    score: i * 0.37,
    ok: i % 3 === 0,
    tags: ["a", "bc"],
  }));
  const size = Buffer.byteLength(JSON.stringify(objs));
  const ms = await time(() => canonicalHash(objs), 9);
  const rate = size / MB / (ms / 1000);
  console.log(
    `canonicalHash(100k small objects, ${(size / MB).toFixed(2)} MB as JSON): ${ms.toFixed(1)} ms = ${rate.toFixed(0)} MB/s ` +
      `— target >= 40 MB/s: ${verdict(rate >= 40)}`,
  );
}

// 3. A cache hit on a step whose input is a 10 MB Float64Array (its output: the array, normalised).
{
  const dir = mkdtempSync(join(tmpdir(), "cry-bench-"));
  try {
    const cache = createFileCache({ root: join(dir, "cache") });
    const input = new Float64Array((10 * MB) / 8);
    for (let i = 0; i < input.length; i++) input[i] = Math.cos(i);
    let max = 0;
    for (const x of input) max = Math.max(max, Math.abs(x));
    const output = input.map((x) => x / max);
    const request = { experiment: "bench", step: "normalise", stepHash: "rt1:bench", params: { scale: 1 }, input, randomSeed: "1" };
    const { key } = cache.key(request);
    await cache.set(key, { output, metrics: [["max", max]], wrote: [], artifacts: [] });
    const path = cache.pathOf(key);
    // Interleave the two measurements so machine load affects both alike.
    const hits = [];
    const reads = [];
    for (let i = 0; i < 15; i++) {
      globalThis.gc?.();
      let t = now();
      await readFile(path);
      reads.push(now() - t);
      globalThis.gc?.();
      t = now();
      const k = cache.key(request);
      const hit = await cache.get(k.key);
      hits.push(now() - t);
      if (!hit || hit.output.length !== output.length) throw new Error("expected a hit");
    }
    const hitMs = median(hits.slice(1));
    const readMs = median(reads.slice(1));
    const ratio = hitMs / readMs;
    console.log(
      `cache hit (10 MB Float64Array input, 10 MB output; key + read + checksum + decode): ${hitMs.toFixed(1)} ms; ` +
        `fs.readFile of the entry file (${((await readFile(path)).length / MB).toFixed(1)} MB): ${readMs.toFixed(1)} ms; ` +
        `ratio ${ratio.toFixed(2)} — target <= 3: ${verdict(ratio <= 3)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Figures on a shared machine are noisy: report, do not fail the bench run.
if (failed) console.log("(some figures are below target; see above)");
