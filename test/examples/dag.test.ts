import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluate, prepare, study, train } from "../../examples/dag/dag.js";
import { artifacts } from "../../src/plugins/artifacts.js";
import { renderGraph } from "../../src/runtime/graph-render.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "cry-dag-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("examples/dag", () => {
  it("declares prepare → train → evaluate through typed artifacts", () => {
    expect(study.order).toEqual(["prepare", "train", "evaluate"]);
    expect(study.edges.map((e) => `${e.from}->${e.to}:${e.artifact}`)).toEqual([
      "prepare->train:dataset.json",
      "train->evaluate:model.json",
      "prepare->evaluate:dataset.json",
    ]);
    expect(renderGraph(study)).toContain('n1 -- "model.json" --> n2');
  });

  it("runs end to end: the fitted slope is near 2, and noisier data raises the test error significantly", async () => {
    const events: string[] = [];
    const { results } = await study.run({ outDir: tmp(), cache: false, onEvent: (e) => events.push(`${e.type}:${e.experiment}`) });
    expect(events).toEqual(["start:prepare", "end:prepare", "start:train", "end:train", "start:evaluate", "end:evaluate"]);
    for (const r of Object.values(results)) expect(r.errors).toEqual([]);
    const slopes = results.train!.metrics.baseline.slope!;
    expect(slopes).toHaveLength(12);
    for (const s of slopes) expect(s).toBeGreaterThan(1.9), expect(s).toBeLessThan(2.1);
    // The treatment of prepare is inherited by train and evaluate.
    expect(results.evaluate!.conditions).toEqual(["baseline", "noisier"]);
    const mse = results.evaluate!.metrics;
    const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(mse.treatments.noisier!.mse!)).toBeGreaterThan(10 * mean(mse.baseline.mse!));
    const h = results.evaluate!.hypothesis("noise_hurts");
    expect(h.results.noisier!.significant).toBe(true);
  });

  it("resumes from storage: a second run reuses every experiment, and consumers also run on their own", async () => {
    const outDir = tmp();
    const opts = { outDir, cache: false as const, plugins: [artifacts({ fsync: false })] };
    const first = await study.run(opts);
    const again = await study.run({ ...opts, resume: true });
    expect([...again.reused].sort()).toEqual(["evaluate", "prepare", "train"]);
    expect(again.results.evaluate!.metrics).toEqual(first.results.evaluate!.metrics);
    // Outside the graph, evaluate reads the latest completed stored runs of prepare and train.
    const alone = await evaluate.run({ ...opts, treatments: [] });
    expect(alone.metrics.baseline.mse).toEqual(first.results.evaluate!.metrics.baseline.mse);
    expect(prepare.replicates).toBe(train.replicates);
  });
});
