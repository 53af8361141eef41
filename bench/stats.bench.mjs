// Resampling speed (issue 3): a 10,000-resample bootstrap and a 10,000-permutation test on
// 2 × 1000 values, against a hand-written loop that draws the same number of random indices from
// the same generator (seedrandom's Tyche-i, the obvious way: one call and a multiply per index)
// and sums the values they point at, in the same process. The verifiers take two indices from each
// 32-bit word (Lemire's method), so a ratio below 1 is expected. Target: under 150 ms each.
// Build dist/ first (npm run bench does).
import { availableParallelism, loadavg } from "node:os";
import seedrandom from "seedrandom";
import { bootstrapCI, permutationTest } from "../dist/stats/index.js";

const N = 1000;
const RESAMPLES = 10_000;
const PERMUTATIONS = 10_000;
const TARGET_MS = 150;
const WARMUP = 2;
const REPS = 7;

// Two samples of 1000 values from a fixed stream (normal-ish, shifted by 0.1).
const source = seedrandom.alea("stats-bench");
const normal = () => {
  let s = 0;
  for (let i = 0; i < 12; i++) s += source();
  return s - 6;
};
const treatment = Array.from({ length: N }, () => normal() + 0.1);
const baseline = Array.from({ length: N }, () => normal());
const samples = { treatment, baseline };

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn) {
  for (let i = 0; i < WARMUP; i++) fn();
  const ms = [];
  let last;
  for (let i = 0; i < REPS; i++) {
    globalThis.gc?.();
    const t0 = performance.now();
    last = fn();
    ms.push(performance.now() - t0);
  }
  return { median: median(ms), min: Math.min(...ms), max: Math.max(...ms), last };
}

/** The baseline: `draws` random indices into `values`, summed, `rounds` times. */
function drawLoop(rounds, draws, values) {
  const random = seedrandom.tychei("0");
  const x = Float64Array.from(values);
  const n = x.length;
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    let s = 0;
    for (let i = 0; i < draws; i++) s += x[Math.floor(random() * n)];
    total += s;
  }
  return total;
}

const pooled = [...treatment, ...baseline];
const rows = [
  {
    label: `bootstrapCI (percentile), ${RESAMPLES} resamples`,
    draws: RESAMPLES * 2 * N,
    run: () => bootstrapCI({ resamples: RESAMPLES, seed: 1 }).test(samples),
    floor: () => drawLoop(RESAMPLES, 2 * N, pooled),
    target: true,
  },
  {
    label: `bootstrapCI (BCa), ${RESAMPLES} resamples`,
    draws: RESAMPLES * 2 * N,
    run: () => bootstrapCI({ resamples: RESAMPLES, seed: 1, method: "bca" }).test(samples),
    floor: () => drawLoop(RESAMPLES, 2 * N, pooled),
    target: false,
  },
  {
    label: `permutationTest, ${PERMUTATIONS} permutations`,
    draws: PERMUTATIONS * N,
    run: () => permutationTest({ permutations: PERMUTATIONS, seed: 1 }).test(samples),
    floor: () => drawLoop(PERMUTATIONS, N, pooled),
    target: true,
  },
];

console.log(
  `stats: 2 × ${N} values; median of ${REPS} timed runs after ${WARMUP} warm-up runs; Node ${process.version}; ` +
    `load average ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores (timings are wall-clock)`,
);
let above = 0;
for (const row of rows) {
  const measured = time(row.run);
  const floor = time(row.floor);
  const ratio = measured.median / floor.median;
  const verdict = measured.median < TARGET_MS ? "OK" : "ABOVE TARGET";
  if (row.target && measured.median >= TARGET_MS) above++;
  console.log(
    `${row.label.padEnd(46)} median ${measured.median.toFixed(1).padStart(6)} ms ` +
      `(min ${measured.min.toFixed(1)}, max ${measured.max.toFixed(1)})` +
      (row.target ? `  target < ${TARGET_MS} ms: ${verdict}` : "  (no target)"),
  );
  console.log(
    `${"".padEnd(46)} hand-written loop (${(row.draws / 1e6).toFixed(0)}M indices, one Tyche-i call each) ${floor.median.toFixed(1)} ms; ` +
      `ratio ${ratio.toFixed(2)}×; p = ${measured.last.pValue.toPrecision(4)}` +
      (measured.last.ci ? `, ci = [${measured.last.ci.map((v) => v.toFixed(4)).join(", ")}]` : ""),
  );
}
console.log(above === 0 ? "stats: all targets met" : `stats: ${above} target(s) missed`);
