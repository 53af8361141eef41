// Graph scheduling overhead (issue 7): a generated 200-node graph of trivial experiments (each
// reads the artifacts of up to two earlier nodes and writes its own), run as a graph, against the
// same experiments run directly one after another in a loop (with plain sources instead of
// inputs). Overhead per node = (graph time − loop time) / 200; target ≤ 2 ms. Cache off; first
// without a storage plugin (artifacts handed over in memory), then with artifacts({ fsync: false })
// on both sides (disk-bound: consumers read their inputs from files; reported for information).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifact, experiment, graph, input, logging, pipeline, source, step } from "../dist/index.js";
import { artifacts } from "../dist/plugins/artifacts.js";

const N = 200;
const ROUNDS = 7;
const quiet = logging({ level: "silent", progress: false });

/** Node i reads nodes i-1 and floor(i/2)-1 (when they exist); twins read nothing. */
function build() {
  const nodes = [];
  const twins = [];
  for (let i = 0; i < N; i++) {
    const out = artifact(`n${i}.json`);
    const parents = [...new Set([i - 1, Math.floor(i / 2) - 1])].filter((p) => p >= 0 && p < i);
    const work = step(`w${i}`, (x, ctx) => {
      let s = i;
      for (const v of Object.values(x)) s += v;
      ctx.artifacts.write(out, s % 1000);
      return s;
    });
    const inputs = Object.fromEntries(parents.map((p) => [`p${p}`, nodes[p].output(nodes[p].outputs[0])]));
    const src = parents.length ? input(inputs) : source(`s${i}`, () => ({}));
    nodes.push(experiment(`n${i}`, { source: src, pipeline: pipeline(work), outputs: [out], plugins: [quiet] }));
    const plain = source(`t${i}`, () => Object.fromEntries(parents.map((p) => [`p${p}`, p])));
    twins.push(experiment(`n${i}`, { source: plain, pipeline: pipeline(work), outputs: [out], plugins: [quiet] }));
  }
  return { g: graph("bench", nodes), twins };
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function measure(label, plugins, rounds) {
  const { g, twins } = build();
  const dir = mkdtempSync(join(tmpdir(), "cry-graph-bench-"));
  const options = { cache: false, outDir: dir, plugins };
  try {
    const loop = async () => {
      for (const e of twins) await e.run(options);
    };
    await loop();
    await g.run(options);
    const loopTimes = [];
    const graphTimes = [];
    for (let i = 0; i < rounds; i++) {
      let t = performance.now();
      await loop();
      loopTimes.push(performance.now() - t);
      t = performance.now();
      const { results } = await g.run(options);
      graphTimes.push(performance.now() - t);
      if (Object.keys(results).length !== N) throw new Error("graph did not run every node");
      for (const r of Object.values(results)) if (r.errors.length) throw new Error(`${r.experiment}: ${r.errors[0].message}`);
    }
    const loopMs = median(loopTimes);
    const graphMs = median(graphTimes);
    const perNode = (graphMs - loopMs) / N;
    console.log(
      `${label}: loop of ${N} runs ${loopMs.toFixed(1)} ms; graph ${graphMs.toFixed(1)} ms (${g.edges.length} edges); ` +
        `scheduling overhead ${perNode.toFixed(3)} ms/node (target ≤ 2 ms/node)`,
    );
    return perNode;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// artifacts() is attached by default; a plugin of the same name without storage replaces it.
const noStorage = { name: "artifacts" };
const inMemory = await measure("no storage plugin", [noStorage], ROUNDS);
await measure("artifacts() plugin", [artifacts({ fsync: false })], 3);
if (inMemory > 2) console.log(`below target: ${inMemory.toFixed(3)} ms/node > 2 ms/node`);
