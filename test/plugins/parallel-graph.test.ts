// Issue 14 (workers everywhere): a graph run with parallel() runs its input()-bound consumer on
// worker threads too: the workers bind the module's input() source themselves and read the
// producer's artifacts through the main thread. Results equal serial()'s.
import { describe, expect, it } from "vitest";
import { logging, parallel, serial } from "../../src/index.js";
import { out, useParallelDirs } from "./parallel-dirs.js";

const { chain, consume, produce } = await import("../fixtures/parallel/chain.mjs");
const quiet = () => logging({ level: "silent", stream: { write: () => undefined, isTTY: false } });

useParallelDirs();

describe("parallel() in a graph whose consumer's input() is bound to a producer run", () => {
  it("runs the consumer on workers, equal to serial()", async () => {
    const options = (execution: ReturnType<typeof serial>) => ({ execution, cache: false as const, outDir: out(), plugins: [quiet()] });
    const p = await chain.run({ ...options(parallel({ workers: 2, idleTimeoutMs: 0 })) });
    const s = await chain.run({ ...options(serial()) });
    const consume = p.results.consume!;
    // Only the condition whose producer tasks failed: the same MissingArtifactError (path included) as serial().
    expect(consume.errors.map((e) => e.condition)).toEqual(Array(6).fill("broken"));
    expect(JSON.stringify(consume.toJSON().errors)).toEqual(JSON.stringify(s.results.consume!.toJSON().errors));
    expect(JSON.stringify(consume.toJSON().errors)).toContain("numbers.json");
    expect(consume.metrics.baseline.inWorker).toEqual([1, 1, 1, 1, 1, 1]);
    expect(s.results.consume!.metrics.baseline.inWorker).toEqual([0, 0, 0, 0, 0, 0]);
    // replicate r reads producer replicate r mod 3; the plain source still runs per replicate.
    expect(consume.metrics.baseline.count).toEqual([6, 6, 6, 6, 6, 6]);
    expect(consume.metrics.baseline.offset).toEqual([0, 10, 20, 30, 40, 50]);
    expect(consume.metrics.baseline.total).toEqual(s.results.consume!.metrics.baseline.total);
    expect(consume.metrics.treatments.more!.count).toEqual([9, 9, 9, 9, 9, 9]);
    expect(consume.metrics.treatments.more!.total).toEqual(s.results.consume!.metrics.treatments.more!.total);
  });

  it("outside a graph, the consumer bound to the producer's stored run runs on workers too", async () => {
    const outDir = out();
    await produce.run({ execution: serial(), cache: false, outDir, plugins: [quiet()] });
    const p = await consume.run({ execution: parallel({ workers: 2, idleTimeoutMs: 0 }), cache: false, outDir, plugins: [quiet()] });
    const s = await consume.run({ execution: serial(), cache: false, outDir, plugins: [quiet()] });
    expect(p.errors).toEqual([]);
    expect(p.metrics.baseline.inWorker).toEqual([1, 1, 1, 1, 1, 1]);
    expect(p.metrics.baseline.total).toEqual(s.metrics.baseline.total);
  });
});
