// Framework overhead per step execution (issue 2): the experiment vs a hand-written loop doing
// the same arithmetic with the same RNG, in the same process. Also the heap held by the Result of
// 10,000 replicates.
import seedrandom from "seedrandom";
import { experiment, pipeline, source, step, treatment, replicateSeed, streamSeed, artifacts } from "../dist/index.js";

const REPLICATES = 200;
const STEPS = 10;
const N = 1000;

const numbers = source("numbers", (ctx) => {
  const xs = new Array(N);
  for (let i = 0; i < N; i++) xs[i] = ctx.random();
  return xs;
});
const steps = Array.from({ length: STEPS }, (_, k) =>
  k === STEPS - 1
    ? step(`s${k}`, { params: { p: 0 }, metrics: ["total"] }, (xs, ctx) => {
        const p = ctx.params.p;
        const out = xs.map((x) => x * 1.0001 + p);
        let t = 0;
        for (const v of out) t += v;
        ctx.record("total", t);
        return out;
      })
    : step(`s${k}`, { params: { p: 0 } }, (xs, ctx) => {
        const p = ctx.params.p;
        return xs.map((x) => x * 1.0001 + p);
      }),
);
const exp = (replicates) =>
  experiment("bench", {
    source: numbers,
    pipeline: pipeline(...steps),
    treatments: [treatment("plus", { p: 1 })],
    replicates,
    seed: 1,
  });

function handLoop(replicates) {
  const totals = [];
  for (let r = 0; r < replicates; r++) {
    const seed = replicateSeed(1, r, true);
    for (const p of [0, 1]) {
      const rng = seedrandom.alea(streamSeed(seed, "source:numbers"));
      let xs = new Array(N);
      for (let i = 0; i < N; i++) xs[i] = rng();
      for (let k = 0; k < STEPS; k++) xs = xs.map((x) => x * 1.0001 + p);
      let t = 0;
      for (const v of xs) t += v;
      totals.push(t);
    }
  }
  return totals;
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const e = exp(REPLICATES);
// The same experiment without storage: a plugin named "artifacts" that does nothing replaces the
// built-in artifacts() (which writes each task's journal line, results and metadata).
const noStorage = { plugins: [{ name: "artifacts" }] };
// Storage without the run registry (issue 15): the registry's own share of the default plugins.
const noRegistry = { plugins: [artifacts({ registry: false })] };
// Warm up all paths.
for (let i = 0; i < 3; i++) {
  handLoop(REPLICATES);
  await e.run({ cache: false });
  await e.run({ cache: false, ...noStorage });
  await e.run({ cache: false, ...noRegistry });
}
const loopTimes = [];
const expTimes = [];
const bareTimes = [];
const fileTimes = [];
for (let i = 0; i < 9; i++) {
  let t = performance.now();
  handLoop(REPLICATES);
  loopTimes.push(performance.now() - t);
  t = performance.now();
  await e.run({ cache: false });
  expTimes.push(performance.now() - t);
  t = performance.now();
  await e.run({ cache: false, ...noStorage });
  bareTimes.push(performance.now() - t);
  t = performance.now();
  await e.run({ cache: false, ...noRegistry });
  fileTimes.push(performance.now() - t);
}
const check = await e.run({ cache: false });
const loopTotals = handLoop(REPLICATES);
const same = check.metrics.baseline.total.every((v, i) => v === loopTotals[2 * i]);
const executions = REPLICATES * 2 * STEPS;
const loopMs = median(loopTimes);
const expMs = median(expTimes);
const perStepUs = ((expMs - loopMs) * 1000) / executions;
console.log(`hand-written loop: ${loopMs.toFixed(2)} ms; experiment (provenance on): ${expMs.toFixed(2)} ms; ratio ${(expMs / loopMs).toFixed(2)}x`);
console.log(`overhead per step execution: ${perStepUs.toFixed(2)} µs (target ≤ 2 µs; ${executions} executions; metrics equal to the loop's: ${same})`);
const bareMs = median(bareTimes);
const bareUs = ((bareMs - loopMs) * 1000) / executions;
console.log(
  `overhead per step with storage (artifacts() on): ${perStepUs.toFixed(2)} µs; without storage (no-op "artifacts" plugin): ${bareUs.toFixed(2)} µs; storage: ${(perStepUs - bareUs).toFixed(2)} µs per step (${expMs.toFixed(2)} vs ${bareMs.toFixed(2)} ms)`,
);

// Heap held by the Result of 10,000 replicates.
globalThis.gc?.();
const before = process.memoryUsage().heapUsed;
let big = await exp(10_000).run({ cache: false });
globalThis.gc?.();
const held = process.memoryUsage().heapUsed - before;
console.log(`heap held by the Result of 10,000 replicates (20,000 tasks, 200,000 provenance records): ${(held / 2 ** 20).toFixed(1)} MiB`);
big = undefined;
const fileMs = median(fileTimes);
console.log(
  `default plugins (storage + registry) over no storage: ${(((expMs - bareMs) * 1000) / executions).toFixed(2)} µs per step (target ≤ 2 µs); ` +
    `of which the registry: ${(((expMs - fileMs) * 1000) / executions).toFixed(2)} µs per step (${(expMs - fileMs).toFixed(2)} ms per run; storage alone ${fileMs.toFixed(2)} ms, bare ${bareMs.toFixed(2)} ms)`,
);
