// Compiler speed (issue 5): on a generated project of 50 experiment files of 10 steps each,
//   crystallize compile ≤ 1.3 × tsc --noEmit (same TypeScript, same run, median of a few runs),
//   watch: recompiling after a one-line edit to one step ≤ 150 ms,
//   a bundle's start-up (node bundle.mjs --help) ≤ 1.5 × node -e 0.
// Needs dist/ with declarations (npm run bench builds it). Prints figures, ratios and targets.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const { Watcher } = await import(join(repo, "dist/compiler/watch.js"));
const tsc = join(repo, "node_modules/typescript/bin/tsc");
const bin = join(repo, "bin/crystallize.js");
const FILES = Number(process.env.BENCH_FILES ?? 50);
const STEPS = Number(process.env.BENCH_STEPS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

if (!existsSync(join(repo, "dist/dsl/index.d.ts"))) {
  console.error("dist/ has no declarations: run `node scripts/build.mjs` (npm run bench does) first");
  process.exit(1);
}

function experimentFile(i) {
  const lines = [
    `import { experiment, hypothesis, pipeline, source, step, treatment } from "crystallize-ts";`,
    `import { meanDiff, clamp } from "./shared.js";`,
    ``,
    `const data${i} = source("data${i}", (ctx) => Array.from({ length: 50 }, () => ctx.random()));`,
  ];
  const names = [];
  for (let s = 0; s < STEPS; s++) {
    const name = `s${i}_${s}`;
    names.push(name);
    if (s === STEPS - 1) {
      lines.push(`const ${name} = step("${name}", { metrics: ["mean", "max"] }, (xs: number[], ctx) => {`);
      lines.push(`  ctx.record("mean", xs.reduce((a, b) => a + b, 0) / xs.length);`);
      lines.push(`  ctx.record("max", Math.max(...xs));`);
      lines.push(`  return xs;`);
      lines.push(`});`);
    } else {
      lines.push(`const ${name} = step("${name}", { params: { k${s}: ${s + 1} }, cacheable: ${s % 2 === 0} }, (xs: number[], ctx) =>`);
      lines.push(`  xs.map((x) => clamp(x * ctx.params.k${s} + ${s}, 0, 1000)),`);
      lines.push(`);`);
    }
  }
  lines.push(``);
  lines.push(`export const exp${i} = experiment("exp${i}", {`);
  lines.push(`  source: data${i},`);
  lines.push(`  pipeline: pipeline(${names.join(", ")}),`);
  lines.push(`  treatments: [treatment("more", { k0: 2 }), treatment("less", { k1: 0.5 })],`);
  lines.push(`  hypotheses: [hypothesis("mean_up", { metric: "mean", test: meanDiff })],`);
  lines.push(`  replicates: 3,`);
  lines.push(`  seed: ${i},`);
  lines.push(`});`);
  return `${lines.join("\n")}\n`;
}

const shared = `import type { Verifier } from "crystallize-ts";

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

export const meanDiff: Verifier = {
  kind: "verifier",
  name: "mean-diff",
  alpha: 0.05,
  alternative: "two-sided",
  test: ({ treatment, baseline }) => {
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const d = mean(treatment) - mean(baseline);
    return { pValue: d === 0 ? 1 : 0.01, statistic: d, significant: d !== 0, effectSize: d, method: "mean difference" };
  },
};
`;

function generate() {
  const dir = mkdtempSync(join(tmpdir(), "cry-bench-"));
  mkdirSync(join(dir, "src"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(repo, join(dir, "node_modules", "crystallize-ts"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-project", private: true, type: "module" }));
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { target: "ES2022", lib: ["ES2023"], module: "NodeNext", moduleResolution: "NodeNext", types: [], strict: true, skipLibCheck: true, noEmit: true }, include: ["src"] }, null, 2),
  );
  writeFileSync(join(dir, "src/shared.ts"), shared);
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `src/exp${i}.ts`), experimentFile(i));
  return dir;
}

function timed(args, cwd) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(0)} ms`;
const verdict = (ok) => (ok ? "meets target" : "MISSES target");

const dir = generate();
if (process.env.BENCH_GENERATE_ONLY) {
  console.log(dir);
  process.exit(0);
}
try {
  console.log(`project: ${FILES} experiment files × ${STEPS} steps (${dir})`);
  // Warm the file system cache once for both.
  timed([tsc, "--noEmit", "-p", dir], dir);
  const tscRuns = [];
  const cryRuns = [];
  for (let r = 0; r < RUNS; r++) {
    tscRuns.push(timed([tsc, "--noEmit", "-p", dir], dir));
    cryRuns.push(timed([bin, "compile", "--project", dir], dir));
  }
  const tscMs = median(tscRuns);
  const cryMs = median(cryRuns);
  const ratio = cryMs / tscMs;
  const minRatio = Math.min(...cryRuns) / Math.min(...tscRuns);
  console.log(`tsc --noEmit:         median ${fmt(tscMs)}, best ${fmt(Math.min(...tscRuns))} (runs ${tscRuns.map(fmt).join(", ")})`);
  console.log(`crystallize compile:  median ${fmt(cryMs)}, best ${fmt(Math.min(...cryRuns))} (runs ${cryRuns.map(fmt).join(", ")}; includes the manifest and ${FILES} runners)`);
  console.log(`ratio:                ${ratio.toFixed(2)} × of medians, ${minRatio.toFixed(2)} × of best runs (target ≤ 1.30: ${verdict(ratio <= 1.3)})`);

  // Watch: a one-line edit to one step, recompiled in memory.
  const w = Watcher.create({ project: dir });
  const first = await w.update();
  if (!first.ok) throw new Error(`the bench project does not compile:\n${first.diagnostics.map((d) => d.message).join("\n")}`);
  // As `crystallize compile --watch` does after its first compile, before reporting it.
  const warmStart = performance.now();
  await w.warmUp();
  const warmMs = performance.now() - warmStart;
  const file = join(dir, "src/exp7.ts");
  const original = readFileSync(file, "utf8");
  const watchRuns = [];
  const watchPhases = [];
  for (let r = 0; r < 11; r++) {
    const edited = original.replace("x * ctx.params.k3 + 3", `x * ctx.params.k3 + ${4 + r}`);
    writeFileSync(file, edited);
    const res = await w.update([file]);
    if (!res.ok) throw new Error("the edited bench project does not compile");
    watchRuns.push(res.durationMs);
    watchPhases.push(res.phases);
  }
  writeFileSync(file, original);
  await w.update([file]);
  await w.close();
  const watchMs = median(watchRuns);
  console.log(`watch recompile:      ${fmt(watchMs)} median after a one-line edit to one step (edits in order: ${watchRuns.map(fmt).join(", ")}; target ≤ 150 ms: ${verdict(watchMs <= 150)})`);
  console.log(`  first compile ${fmt(first.durationMs)}, then the watcher's warm-up ${fmt(warmMs)} (before the watcher reports the first compile)`);
  const phaseMedians = Object.keys(watchPhases[0]).map((k) => `${k} ${median(watchPhases.map((p) => p[k]))}`);
  console.log(`  median phases (ms):  ${phaseMedians.join(", ")} (emit overlaps the type check; this is what is left of it)`);

  // Bundle start-up.
  const bundleFile = join(dir, "bundle.mjs");
  timed([bin, "bundle", "exp0", "--project", dir, "-o", bundleFile], dir);
  const empty = mkdtempSync(join(tmpdir(), "cry-bench-empty-"));
  const copy = join(empty, "bundle.mjs");
  writeFileSync(copy, readFileSync(bundleFile));
  const nodeRuns = [];
  const helpRuns = [];
  for (let r = 0; r < 15; r++) {
    nodeRuns.push(timed(["-e", "0"], empty));
    helpRuns.push(timed([copy, "--help"], empty));
  }
  rmSync(empty, { recursive: true, force: true });
  const nodeMs = median(nodeRuns);
  const helpMs = median(helpRuns);
  const startRatio = helpMs / nodeMs;
  console.log(`node -e 0:            ${fmt(nodeMs)}`);
  console.log(`node bundle.mjs --help: ${fmt(helpMs)} (${(readFileSync(bundleFile).length / 1024).toFixed(0)} KiB)`);
  console.log(`start-up ratio:       ${startRatio.toFixed(2)} × (target ≤ 1.50: ${verdict(startRatio <= 1.5)})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
