// The run registry (issue 15): `crystallize runs` over 10,000 stored runs (target ≤ 100 ms), and
// what recording one run costs. The 10,000 versions are copies of one real stored run, each with
// its own metadata.json (version N), so reconcile and the listing see 10,000 real folders.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { experiment, pipeline, source, step, treatment } from "../dist/index.js";
import { Registry, summarizeVersion } from "../dist/runtime/registry/index.js";
import { writeCheckedJsonSync, readCheckedJson } from "../dist/runtime/storage/checked-json.js";
import { formatRuns } from "../dist/cli/runs.js";

const RUNS = Number(process.env.RUNS ?? 10_000);
const bin = fileURLToPath(new URL("../bin/crystallize.js", import.meta.url));
const dir = process.env.KEEP ?? mkdtempSync(join(tmpdir(), "cry-registry-bench-"));
const out = join(dir, ".crystallize");
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
try {
  const exp = experiment("bench", {
    source: source("n", (ctx) => Array.from({ length: 100 }, () => ctx.random())),
    pipeline: pipeline(step("s", { params: { p: 0 }, metrics: ["m"] }, (xs, ctx) => (ctx.record("m", xs[0] + ctx.params.p), xs))),
    treatments: [treatment("plus", { p: 1 })],
    replicates: 20,
  });
  await exp.run({ outDir: out, cache: false });
  const v0 = join(out, "artifacts", "bench", "v0");
  const meta = await readCheckedJson(join(v0, "metadata.json"));
  const { checksum: _c, ...fields } = meta;
  let t = performance.now();
  for (let v = 1; v < RUNS; v++) {
    const d = join(out, "artifacts", "bench", `v${v}`);
    mkdirSync(d);
    copyFileSync(join(v0, "result.json"), join(d, "result.json"));
    copyFileSync(join(v0, "tasks.jsonl"), join(d, "tasks.jsonl"));
    writeCheckedJsonSync(join(d, "metadata.json"), { ...fields, version: v, startedAt: new Date(Date.parse(fields.startedAt) + v * 1000).toISOString() }, { fsync: false });
  }
  const made = performance.now() - t;

  const registry = Registry.open(out);
  t = performance.now();
  const n = await registry.reindex();
  const reindexMs = performance.now() - t;

  // In process: reconcile (one readdir per experiment, one stat per row) + query + table.
  const times = [];
  const cpuTimes = [];
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let rows;
  for (let i = 0; i < 7; i++) {
    const c = cpu();
    t = performance.now();
    await registry.reconcile();
    rows = registry.list();
    formatRuns(rows, { red: (s) => s, green: (s) => s, cyan: (s) => s, dim: (s) => s, bold: (s) => s, yellow: (s) => s });
    times.push(performance.now() - t);
    cpuTimes.push(cpu() - c);
  }
  registry.close();
  // The command as a user runs it: a new node process, output to a pipe.
  const cliTimes = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    const r = spawnSync(process.execPath, [bin, "runs", "--out", out], { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
    cliTimes.push(performance.now() - t);
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const startup = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" });
    startup.push(performance.now() - t);
  }

  // Recording one run: summarise + write its rows (what a run pays at its end; the run store
  // builds the record from memory, so this upper bound includes reading the files back).
  const reg = Registry.open(out);
  const rec = await summarizeVersion(v0);
  const puts = [];
  for (let i = 0; i < 50; i++) {
    t = performance.now();
    reg.put(rec);
    puts.push(performance.now() - t);
  }
  reg.close();
  // A fixed CPU task timed in the same run, so the figures can be read on a loaded machine.
  const cal = [];
  for (let i = 0; i < 5; i++) {
    const xs = Float64Array.from({ length: 1_000_000 }, (_, k) => Math.sin(k));
    t = performance.now();
    xs.sort();
    cal.push(performance.now() - t);
  }
  console.log(`calibration: sorting 1,000,000 doubles took ${median(cal).toFixed(1)} ms in this run`);
  console.log(`made ${RUNS} stored versions in ${(made / 1000).toFixed(1)} s; runs reindex: ${n} runs in ${(reindexMs / 1000).toFixed(2)} s`);
  console.log(
    `runs over ${rows.length} stored runs, in process (reconcile + query + table): ${median(times).toFixed(1)} ms (target ≤ 100 ms; ${(median(times) / median(cal)).toFixed(2)}× the calibration sort; CPU time ${median(cpuTimes).toFixed(1)} ms)`,
  );
  console.log(
    `crystallize runs as a command (new process, ${rows.length} rows): ${median(cliTimes).toFixed(0)} ms; of which node + CLI startup (crystallize --version): ${median(startup).toFixed(0)} ms`,
  );
  console.log(`writing one run's registry rows: ${median(puts).toFixed(3)} ms (${((median(puts) * 1000) / 4000).toFixed(3)} µs per step execution of the runtime bench's 4000)`);
} finally {
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
}
