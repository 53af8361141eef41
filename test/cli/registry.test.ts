// The run registry and the commands over it (runs, show, diff, runs rm, gc), on real stored
// runs: experiments are run through the API into a temporary store, then the CLI is spawned
// (node bin/crystallize.js, built by the global setup) against it with --out.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experiment, gridSearch, hypothesis, pipeline, source, step, treatment, welchTTest } from "../../src/index.js";
import { artifacts } from "../../src/plugins/artifacts.js";
import { Registry, summarize, storedValues } from "../../src/runtime/registry/index.js";
import { readCheckedJson, writeCheckedJson } from "../../src/runtime/storage/checked-json.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin", "crystallize.js");
let project: string;
let out: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, ...(args.includes("--out") ? [] : ["--out", out])], { cwd: project, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const json = <T>(args: string[]): T => {
  const r = cli([...args, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

interface Row {
  experiment: string;
  version: number;
  status: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  seed: number;
  replicates: number;
  errors: number;
  cacheHits: number;
  stepExecutions: number;
  dir: string;
}

const nums = source("nums", (ctx) => Array.from({ length: 16 }, () => ctx.random()));
/** mean of xs * k + shift: "double" (k = 2) is far from the baseline, "close" is not. */
function demo(shift = 0, seed = 1) {
  const scale = step("scale", { params: { k: 1, shift }, metrics: ["mean"], cacheable: true }, (xs: number[], ctx) => {
    const ys = xs.map((x) => x * ctx.params.k + ctx.params.shift);
    ctx.record("mean", ys.reduce((a, b) => a + b, 0) / ys.length);
    return ys;
  });
  return experiment("demo", {
    source: nums,
    pipeline: pipeline(scale),
    treatments: [treatment("double", { k: 2 }), treatment("close", { k: 1.01 })],
    hypotheses: [hypothesis("bigger", { metric: "mean", test: welchTTest({ alternative: "greater" }) })],
    replicates: 10,
    seed,
  });
}
const flaky = experiment("flaky", {
  source: nums,
  pipeline: pipeline(
    step("check", { metrics: ["n"] }, (xs: number[], ctx) => {
      if (ctx.replicate === 1) throw new Error("replicate 1 always fails");
      ctx.record("n", xs.length);
      return xs;
    }),
  ),
  replicates: 3,
  seed: 3,
});

const git = (...args: string[]) => execFileSync("git", args, { cwd: project, encoding: "utf8" }).trim();

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), "cry-registry-"));
  out = join(project, ".crystallize");
  writeFileSync(join(project, "a.txt"), "one\n");
  git("init", "-q");
  git("-c", "user.email=t@example.com", "-c", "user.name=t", "add", "a.txt");
  git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "first");
  writeFileSync(join(project, ".gitignore"), ".crystallize\n");
  await demo(0, 1).run({ outDir: out }); // v0, clean tree (the ignore file is untracked)
  // The git state is asked once per process (see src/runtime/registry/git.ts): this edit shows
  // in runs of a new process (the test below), not in the next runs of this one.
  writeFileSync(join(project, "a.txt"), "two\n");
  await demo(0, 2).run({ outDir: out }); // v1: same code, another seed
  await demo(0.5, 2).run({ outDir: out }); // v2: every mean +0.5
  await flaky.run({ outDir: out });
}, 120_000);
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("the registry", () => {
  it("records every run with status, git commit and dirty flag, seed, replicates, errors and cache hits", () => {
    const rows = json<Row[]>(["runs"]);
    expect(rows.map((r) => `${r.experiment}@v${r.version} ${r.status}`)).toEqual(["demo@v0 completed", "demo@v1 completed", "demo@v2 completed", "flaky@v0 completed"]);
    const head = git("rev-parse", "HEAD");
    expect(rows.slice(0, 3).map((r) => [r.gitCommit, r.gitDirty])).toEqual([
      [head, false],
      [head, false],
      [head, false],
    ]);
    expect(rows.map((r) => r.seed)).toEqual([1, 2, 2, 3]);
    expect(rows[3]).toMatchObject({ errors: 1, replicates: 3 });
    // v1 and v2 share no cache key with v0 (another seed) or each other (another shift); v0's
    // step ran 30 times with no hit.
    expect(rows[0]).toMatchObject({ cacheHits: 0, stepExecutions: 30 });
  });

  it("stores per-condition params, metric summaries and hypothesis outcomes that match the files", async () => {
    const registry = Registry.open(out);
    try {
      const r = registry.get("demo", 2)!;
      expect(r.params).toEqual({ baseline: { scale: { k: 1, shift: 0.5 } }, double: { scale: { k: 2, shift: 0.5 } }, close: { scale: { k: 1.01, shift: 0.5 } } });
      const file = (await readCheckedJson(join(r.dir, "result.json")))!;
      const values = storedValues(file.result as Record<string, unknown>);
      expect(Object.keys(values).sort()).toEqual(["baseline", "close", "double"]);
      const rows = registry.query("SELECT condition, metric, n, mean, sd, ci_low AS lo, ci_high AS hi FROM metrics WHERE experiment = 'demo' AND version = 2 ORDER BY condition") as Array<Record<string, number | string>>;
      expect(rows).toHaveLength(3);
      for (const row of rows) {
        const s = summarize(values[row.condition as string]!.mean!);
        expect(row).toMatchObject({ metric: "mean", n: 10, mean: s.mean, sd: s.sd, lo: s.ci[0], hi: s.ci[1] });
        expect(row.lo as number).toBeLessThan(row.mean as number);
      }
      const hyp = registry.query("SELECT treatment, significant, rank FROM hypotheses WHERE experiment = 'demo' AND version = 2 ORDER BY rank");
      expect(hyp).toEqual([
        { treatment: "double", significant: 1, rank: 1 },
        { treatment: "close", significant: 0, rank: 2 },
      ]);
      const meta = (await readCheckedJson(join(r.dir, "metadata.json")))!;
      expect(meta.git).toEqual({ commit: r.git.commit, dirty: false });
      expect(meta.params).toEqual(r.params);
      expect(typeof meta.command).toBe("string");
    } finally {
      registry.close();
    }
  });

  it("a run in a process started on an edited tree records the tree as dirty", () => {
    const dir = join(project, "dirty-out");
    const script = `import { experiment, pipeline, source, step } from ${JSON.stringify(join(repo, "dist/index.js"))};
      const e = experiment("tiny", { source: source("s", () => 1), pipeline: pipeline(step("id", (x) => x)), replicates: 1 });
      await e.run({ outDir: ${JSON.stringify(dir)} });`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: project, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(json<Row[]>(["runs", "--out", dir]).map((x) => [x.experiment, x.gitCommit, x.gitDirty])).toEqual([["tiny", git("rev-parse", "HEAD"), true]]);
    git("stash", "-q");
    const clean = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: project, encoding: "utf8" });
    expect(clean.status, clean.stderr).toBe(0);
    git("stash", "pop", "-q");
    expect(json<Row[]>(["runs", "--out", dir]).map((x) => x.gitDirty)).toEqual([true, false]);
  });

  it("a resumed version is marked running, then recorded again when it finishes", async () => {
    const dir = join(project, "resume-out");
    await demo(0, 1).run({ outDir: dir });
    const registry = Registry.open(dir);
    try {
      const first = registry.get("demo", 0)!;
      await demo(0, 1).run({ outDir: dir, resume: true });
      const rows = registry.list();
      expect(rows.map((r) => [r.version, r.status])).toEqual([[0, "completed"]]);
      expect(registry.get("demo", 0)!.metaMtimeMs).toBeGreaterThan(first.metaMtimeMs);
    } finally {
      registry.close();
    }
  });

  it("records optimizer runs too (the baseline and every trial are stored runs)", async () => {
    const dir = join(project, "opt-out");
    await demo(0, 5).optimize(gridSearch({ k: [2, 3] }), { objective: { metric: "mean", direction: "maximize" }, outDir: dir, cache: false });
    const registry = Registry.open(dir);
    try {
      await registry.reconcile();
      const rows = registry.list({ experiment: "demo" });
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(rows.every((r) => r.status === "completed")).toBe(true);
      expect(rows.length).toBe(readdirSync(join(dir, "artifacts", "demo")).length);
    } finally {
      registry.close();
    }
  });

  it("never disagrees with the file store: a lost registry, a version without a row, a folder deleted by hand", async () => {
    const copy = join(project, "copy-out");
    await demo(0, 7).run({ outDir: copy });
    // A run whose registry write never happened (as if killed right after its files were committed).
    await demo(0, 8).run({ outDir: copy, plugins: [artifacts({ registry: false })] });
    expect(json<Row[]>(["runs", "--out", copy]).map((r) => r.version)).toEqual([0, 1]);
    rmSync(join(copy, "artifacts", "demo", "v0"), { recursive: true });
    expect(json<Row[]>(["runs", "--out", copy]).map((r) => r.version)).toEqual([1]);
    rmSync(join(copy, "registry.sqlite"));
    for (const f of ["registry.sqlite-wal", "registry.sqlite-shm"]) rmSync(join(copy, f), { force: true });
    expect(json<Row[]>(["runs", "--out", copy]).map((r) => r.version)).toEqual([1]);
    const reindex = cli(["runs", "reindex", "--out", copy]);
    expect(reindex.code, reindex.stderr).toBe(0);
    expect(reindex.stdout).toMatch(/indexed 1 stored run /);
  });

  it("records at the end of a run exactly what runs reindex rebuilds from the files", async () => {
    const registry = Registry.open(out);
    try {
      const live = registry.list().map((r) => registry.get(r.experiment, r.version));
      expect(live[0]!.timings.map((t) => t.step)).toEqual(["scale"]);
      expect(live[0]!.timings[0]!.executions).toBe(30);
      expect(await registry.reindex()).toBe(4);
      expect(registry.list().map((r) => registry.get(r.experiment, r.version))).toEqual(live);
    } finally {
      registry.close();
    }
  });
});

describe("crystallize runs", () => {
  it("each new command has --help", () => {
    for (const c of [["runs"], ["runs", "reindex"], ["runs", "rm"], ["show"], ["diff"], ["gc"], ["report"]]) {
      const r = cli([...c, "--help"]);
      expect(r.code, c.join(" ")).toBe(0);
      expect(r.stdout, c.join(" ")).toMatch(new RegExp(`Usage: crystallize ${c.join(" ")}`));
    }
  });


  it("prints a history table, filtered by experiment, status and start time", () => {
    const all = cli(["runs"]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^run\s+status\s+started\s+duration\s+git/);
    expect(all.stdout).toMatch(/demo@v1\s+completed\s+\S+ \S+\s+\d+ ms\s+[0-9a-f]{8}\s+2\s+10/);
    expect(json<Row[]>(["runs", "flaky"]).map((r) => r.experiment)).toEqual(["flaky"]);
    expect(json<Row[]>(["runs", "--status", "failed"])).toEqual([]);
    expect(json<Row[]>(["runs", "--since", "1h"])).toHaveLength(4);
    expect(json<Row[]>(["runs", "--since", "2999-01-01"])).toEqual([]);
    const bad = cli(["runs", "--since", "yesterday-ish"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--since needs an ISO date/);
  });
});

describe("crystallize show", () => {
  it("reprints a stored run from its files (the latest without @vN), and fails naming the stored versions", async () => {
    const r = cli(["show", "demo@v2"]);
    expect(r.code, r.stderr).toBe(0);
    const registry = Registry.open(out);
    const rec = registry.get("demo", 2)!;
    registry.close();
    const s = rec.metrics.double!.mean!;
    expect(r.stdout).toContain(`demo@v2: completed, 10 replicate(s), seed 2, baseline, double, close`);
    expect(r.stdout).toMatch(new RegExp(`double\\s+mean\\s+10\\s+${Number(s.mean.toPrecision(4))}`));
    expect(r.stdout).toMatch(/bigger\s+double\s+1\s+\S+\s+\S+\s+\[\S+, \S+\]\s+yes/);
    expect(r.stdout).toMatch(/step\s+executions\s+cache hits[\s\S]*scale\s+30\s+0/);
    expect(cli(["show", "demo"]).stdout).toContain("demo@v2:");
    const shown = json<{ result: unknown }>(["show", "demo@v1"]);
    expect(shown.result).toEqual((await readCheckedJson(join(out, "artifacts/demo/v1/result.json")))!.result);
    const flakyShown = cli(["show", "flaky"]);
    expect(flakyShown.stdout).toMatch(/1 task\(s\) failed:\n {2}baseline replicate 1 step check: \S+ .*replicate 1 always fails/);
    const missing = cli(["show", "demo@v9"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('experiment "demo" has no stored version v9 (stored: v0, v1, v2)');
  });
});

describe("crystallize diff", () => {
  interface Diff {
    params: Array<{ key: string; a: unknown; b: unknown; changed: boolean }>;
    stepHashes: Array<{ changed: boolean }>;
    metrics: Array<{ condition: string; change: number; significant: boolean | null; pValue: number }>;
  }
  it("shows changed params, step hashes, and each metric's change with its significance", () => {
    const d = json<Diff>(["diff", "demo@v1", "demo@v2"]);
    expect(d.params.filter((p) => p.changed).map((p) => [p.key, p.a, p.b])).toEqual([
      ["baseline scale.shift", 0, 0.5],
      ["close scale.shift", 0, 0.5],
      ["double scale.shift", 0, 0.5],
    ]);
    // The same random numbers shifted by 0.5: every mean moves by exactly 0.5, significantly.
    for (const m of d.metrics) {
      expect(m.change).toBeCloseTo(0.5, 12);
      expect(m.significant).toBe(true);
    }
    // Same code: the step hash is the same (shift is a param, not code).
    expect(d.stepHashes.every((s) => !s.changed)).toBe(true);
    const same = json<Diff>(["diff", "demo@v1", "demo@v1"]);
    expect(same.metrics.every((m) => m.change === 0 && m.significant === false)).toBe(true);
    const text = cli(["diff", "demo@v1", "demo@v2"]);
    expect(text.stdout).toMatch(/params: 3 of 6 changed/);
    expect(text.stdout).toMatch(/baseline\s+mean\s+\S+ \(n=10\)\s+\S+ \(n=10\)\s+\+0\.5\s+\+[\d.]+%\s+\S+\s+yes/);
  });
});

describe("crystallize runs rm and gc", () => {
  it("runs rm deletes a version and its row; refuses a running one without --force", async () => {
    const dir = join(project, "rm-out");
    await demo(0, 1).run({ outDir: dir });
    // v1 as a run that is still running (or was killed): metadata.json says so, and (as for a run
    // that has not finished) the registry has no row for it yet.
    await demo(0, 2).run({ outDir: dir, plugins: [artifacts({ registry: false })] });
    const metaPath = join(dir, "artifacts/demo/v1/metadata.json");
    const meta = (await readCheckedJson(metaPath))!;
    const { checksum: _c, ...fields } = meta;
    await writeCheckedJson(metaPath, { ...fields, status: "running", endedAt: null });
    const refused = cli(["runs", "rm", "demo@v1", "--out", dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/demo@v1 is running/);
    expect(existsSync(join(dir, "artifacts/demo/v1"))).toBe(true);
    const rm = cli(["runs", "rm", "demo@v0", "--out", dir]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(existsSync(join(dir, "artifacts/demo/v0"))).toBe(false);
    expect(json<Row[]>(["runs", "--out", dir]).map((r) => `${r.version} ${r.status}`)).toEqual(["1 running"]);
  });

  it("gc --keep N keeps the newest N per experiment and every running one, and prunes cache entries no kept run wrote", async () => {
    const dir = join(project, "gc-out");
    // v0 as a run still running (see above), then three finished ones.
    for (const seed of [1, 2, 3, 4]) await demo(0, seed).run({ outDir: dir, ...(seed === 1 ? { plugins: [artifacts({ registry: false })] } : {}) });
    const metaPath = join(dir, "artifacts/demo/v0/metadata.json");
    const { checksum: _c, ...fields } = (await readCheckedJson(metaPath))!;
    await writeCheckedJson(metaPath, { ...fields, status: "running", endedAt: null });
    // One cache entry from long ago (written by no kept run), the rest by the runs.
    const entries = (d: string): string[] => (existsSync(d) ? readdirSync(d, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".entry")) : []);
    const cache = join(dir, "cache");
    const before = entries(cache);
    expect(before.length).toBe(4 * 30);
    mkdirSync(join(cache, "00"), { recursive: true });
    const old = join(cache, "00", `${"0".repeat(64)}.entry`);
    writeFileSync(old, "x");
    utimesSync(old, new Date("2000-01-01"), new Date("2000-01-01"));

    const dry = cli(["gc", "--keep", "2", "--dry-run", "--out", dir]);
    expect(dry.stdout).toMatch(/would delete demo@v1\nwould delete 1 run and 1 cache entry; kept 1 running run/);
    expect(existsSync(join(dir, "artifacts/demo/v1"))).toBe(true);
    const gc = cli(["gc", "--keep", "2", "--out", dir]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(readdirSync(join(dir, "artifacts/demo")).sort()).toEqual(["v0", "v2", "v3"]);
    expect(existsSync(old)).toBe(false);
    expect(entries(cache).length).toBe(before.length);
    expect(json<Row[]>(["runs", "--out", dir]).map((r) => r.version)).toEqual([0, 2, 3]);
    expect(cli(["gc", "--keep", "-1", "--out", dir]).stderr).toMatch(/--keep needs an integer ≥ 0/);
  });
});
