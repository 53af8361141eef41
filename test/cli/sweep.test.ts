// Sweeps and searches from the command line, spawned: `run --sweep` maps a grid onto treatments
// (values checked against the declared params), `optimize --grid/--random` honours the objective
// and its direction; both are stored as versions like any run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fixtureProject } from "../fixture-project.js";

// Each test spawns a compile and a run; on a loaded machine that exceeds the default 30 s.
vi.setConfig({ testTimeout: 150_000 });

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin/crystallize.js");
const basic = fixtureProject("basic");
const examples = join(repo, "examples/tsconfig.json");
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "cry-sweep-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: "utf8", timeout: 120_000, env: { ...process.env, CRYSTALLIZE_LOG: "warn" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("crystallize run --sweep", () => {
  it("runs every combination as a treatment beside the baseline and stores the run", () => {
    const out = join(tmp, "sweep");
    const r = cli(["run", "demo", "--project", basic, "--out", out, "--replicates", "2", "--no-cache", "--json", "--sweep", "factor=1,3,9"]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { conditions: string[]; metrics: { baseline: { mean: number[] }; treatments: Record<string, { mean: number[] }> } };
    expect(json.conditions).toEqual(["baseline", "factor=1", "factor=3", "factor=9"]);
    const base = json.metrics.baseline.mean;
    expect(json.metrics.treatments["factor=1"]!.mean).toEqual(base);
    json.metrics.treatments["factor=9"]!.mean.forEach((m, i) => expect(m).toBeCloseTo(9 * base[i]!, 9));
    expect(existsSync(join(out, "artifacts/demo/v0/result.json"))).toBe(true);
    expect(existsSync(join(out, "artifacts/demo/v0/factor=9"))).toBe(true);
  });

  it("expands start:stop:step ranges without float noise", () => {
    const r = cli(["run", "demo", "--project", basic, "--out", join(tmp, "range"), "--replicates", "2", "--no-cache", "--json", "--sweep", "factor=0.1:0.5:0.1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).conditions).toEqual(["baseline", "factor=0.1", "factor=0.2", "factor=0.3", "factor=0.4", "factor=0.5"]);
  });

  it.each([
    [["--sweep", "factor=a,2"], /--sweep factor=a: "factor" is a number \(default 1\), and "a" is not a number/],
    [["--sweep", "fctor=1,2"], /--sweep fctor: experiment "demo" has no param "fctor" \(params: factor\)/],
    [["--sweep", "factor=1:0:1"], /a range is start:stop:step with numbers, step > 0 and start ≤ stop/],
    [["--sweep", "factor=1", "--treatments", "doubled"], /--sweep and --treatments cannot be combined/],
    [["--sweep", "factor"], /option '--sweep <param=values>' argument 'factor' is invalid/],
  ])("%j is refused with a clear error", (flags, message) => {
    const r = cli(["run", "demo", "--project", basic, "--out", join(tmp, "bad"), ...flags]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/Usage: node/);
  });
});

describe("crystallize optimize", () => {
  it("--grid: the best setting by the objective's direction, stored as a run with optimize.json", () => {
    const out = join(tmp, "grid");
    const args = ["optimize", "descent", "--project", examples, "--out", out, "--no-cache", "--json", "--grid", "lr=0.001,0.01,0.1,0.3", "--grid", "steps=20,200", "--objective", "loss"];
    const min = cli([...args, "--direction", "minimize"]);
    expect(min.code, min.stderr).toBe(0);
    const r = JSON.parse(min.stdout) as { best: { params: { lr: number; steps: number }; value: number }; history: { value: number }[]; version: number };
    expect(r.history).toHaveLength(8);
    expect(r.best.params).toEqual({ lr: 0.3, steps: 200 });
    expect(r.best.value).toBe(Math.min(...r.history.map((h) => h.value)));
    expect(JSON.parse(readFileSync(join(out, `artifacts/descent/v${r.version}/optimize.json`), "utf8")).best.params).toEqual({ lr: 0.3, steps: 200 });
    expect(existsSync(join(out, `artifacts/descent/v${r.version}/result.json`))).toBe(true);
    const max = JSON.parse(cli([...args, "--direction", "maximize"]).stdout) as typeof r;
    expect(max.best.params).toEqual({ lr: 0.001, steps: 20 });
    expect(max.version).toBe(r.version + 1);
  });

  it("--random: seeded samples within the range (integers for an integer param), the same for the same seed", () => {
    const args = ["optimize", "descent", "--project", examples, "--out", join(tmp, "random"), "--no-cache", "--json", "--random", "lr=0.001:0.3:log", "--random", "steps=20:200", "--trials", "4", "--seed", "5", "--objective", "loss", "--direction", "minimize"];
    const a = cli(args);
    expect(a.code, a.stderr).toBe(0);
    const r = JSON.parse(a.stdout) as { history: { params: { lr: number; steps: number } }[] };
    expect(r.history).toHaveLength(4);
    for (const h of r.history) {
      expect(h.params.lr).toBeGreaterThanOrEqual(0.001);
      expect(h.params.lr).toBeLessThanOrEqual(0.3);
      expect(Number.isInteger(h.params.steps)).toBe(true);
    }
    expect(JSON.parse(cli(args).stdout).history).toEqual(r.history);
  });

  it("refuses a missing objective, direction or trials, and an unknown metric", () => {
    const base = ["optimize", "descent", "--project", examples, "--out", join(tmp, "bad")];
    expect(cli([...base, "--grid", "lr=0.1", "--objective", "loss"]).stderr).toMatch(/--direction minimize\|maximize is required/);
    expect(cli([...base, "--random", "lr=0.1:0.2", "--objective", "loss", "--direction", "minimize"]).stderr).toMatch(/--random needs --trials/);
    const metric = cli([...base, "--grid", "lr=0.1", "--objective", "accuracy", "--direction", "maximize"]);
    expect(metric.code).toBe(1);
    expect(metric.stderr).toMatch(/records no metric "accuracy" \(metrics: loss\)/);
  }, 150_000);
});
