// A child process for the SIGKILL reliability test: runs a small experiment with many short
// replicates that write artifacts and use the cache. argv: outDir, "fresh" | "resume".
// Prints "started" when the run begins, and the result's toJSON() metrics (and how many tasks a
// resume took from storage) when it ends.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist");
const { experiment, source, step, pipeline, treatment, hypothesis, artifact, bytesCodec } = await import(join(dist, "index.js"));
const { artifacts } = await import(join(dist, "plugins", "artifacts.js"));
const { welchTTest } = await import(join(dist, "stats", "index.js"));

const [outDir, mode] = process.argv.slice(2);

const summary = artifact("summary.json");
const raw = artifact("raw.bin", { codec: bytesCodec });

const numbers = source("numbers", (ctx) => Array.from({ length: 64 }, () => ctx.random()));
const smooth = step("smooth", { params: { width: 3 }, cacheable: true }, (xs, ctx) => {
  const w = ctx.params.width;
  return xs.map((_, i) => {
    let s = 0;
    let n = 0;
    for (let j = Math.max(0, i - w); j <= Math.min(xs.length - 1, i + w); j++) {
      s += xs[j];
      n++;
    }
    return s / n;
  });
});
const measure = step("measure", { metrics: ["mean", "spread"] }, (xs, ctx) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const spread = Math.max(...xs) - Math.min(...xs);
  ctx.record("mean", mean);
  ctx.record("spread", spread);
  ctx.artifacts.write(summary, { mean, spread, replicate: ctx.replicate, condition: ctx.condition });
  ctx.artifacts.write(raw, new Uint8Array(new Float64Array(xs).buffer));
  return xs;
});

const exp = experiment("crashy", {
  source: numbers,
  pipeline: pipeline(smooth, measure),
  treatments: [treatment("wide", { width: 8 })],
  hypotheses: [hypothesis("spread_down", { metric: "spread", test: welchTTest() })],
  replicates: 20,
  seed: 2024,
});

process.stdout.write("started\n");
const result = await exp.run({ outDir, resume: mode === "resume", plugins: [artifacts()] });
process.stdout.write(JSON.stringify({ metrics: result.toJSON().metrics, hypotheses: result.toJSON().hypotheses, resumedTasks: result.run.resumedTasks }) + "\n");
