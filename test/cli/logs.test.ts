// Logs and progress of `crystallize run`, spawned: ctx.log lines off a TTY and in the run's
// log.txt, --log-level / CRYSTALLIZE_LOG, one progress display on a (pseudo-)TTY, and progress
// lines at CRYSTALLIZE_PROGRESS_INTERVAL off a TTY.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Each test spawns a compile and a run; on a loaded machine that exceeds the default 30 s.
vi.setConfig({ testTimeout: 150_000 });

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin/crystallize.js");
const project = join(repo, "test/fixtures/cli/projects/slow");
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "cry-logs-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bin, "run", "slow", "--project", project, "--no-cache", ...args], {
    cwd: tmp,
    encoding: "utf8",
    env: { ...process.env, SLOW_MS: "0", CRYSTALLIZE_LOG: undefined, CRYSTALLIZE_PROGRESS_INTERVAL: undefined, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("log levels", () => {
  it("shows ctx.log lines off a TTY by default and stores them with the run", () => {
    const out = join(tmp, "default");
    const r = run(["--out", out, "--replicates", "2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^info slept for baseline 0$/m);
    expect(r.stderr).toMatch(/^info slept for doubled 1$/m);
    const [version] = readdirSync(join(out, "artifacts/slow"));
    const stored = readFileSync(join(out, "artifacts/slow", version!, "log.txt"), "utf8");
    expect(stored.split("\n").filter((l) => l.startsWith("info slept"))).toHaveLength(4);
  });

  it("--log-level warn and CRYSTALLIZE_LOG=warn hide them; the flag wins over the variable", () => {
    const out = join(tmp, "levels");
    for (const r of [run(["--out", out, "--replicates", "2", "--log-level", "warn"]), run(["--out", out, "--replicates", "2"], { CRYSTALLIZE_LOG: "warn" })]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/slept for/);
    }
    const flagWins = run(["--out", out, "--replicates", "2", "--log-level", "debug"], { CRYSTALLIZE_LOG: "error" });
    expect(flagWins.stderr).toMatch(/^info slept for baseline 0$/m);
  });
});

describe("progress", () => {
  it("off a TTY: a line every CRYSTALLIZE_PROGRESS_INTERVAL seconds and a last one; by default (10 s) only the last one for a short run", () => {
    const lines = (stderr: string) => stderr.split("\n").filter((l) => /^slow: \d+\/40 tasks/.test(l));
    const often = run(["--out", join(tmp, "p1"), "--log-level", "warn"], { SLOW_MS: "40", CRYSTALLIZE_PROGRESS_INTERVAL: "0.3" });
    expect(often.code, often.stderr).toBe(0);
    const seen = lines(often.stderr).map((l) => Number(/^slow: (\d+)/.exec(l)![1]));
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.at(-1)).toBe(40);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    const quiet = run(["--out", join(tmp, "p2"), "--log-level", "warn"], { SLOW_MS: "5" });
    expect(lines(quiet.stderr)).toEqual([expect.stringMatching(/^slow: 40\/40 tasks \(\d+\.\d s\)$/)]);
  });

  it("on a TTY: one progress bar, redrawn in place, and log lines that start on their own line", () => {
    const cmd = [process.execPath, bin, "run", "slow", "--project", project, "--no-cache", "--out", join(tmp, "tty"), "--replicates", "5"].map((a) => `'${a}'`).join(" ");
    const r = spawnSync("script", ["-qfec", cmd, "/dev/null"], { cwd: tmp, encoding: "utf8", env: { ...process.env, SLOW_MS: "30", NO_COLOR: "1" }, timeout: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const text = r.stdout;
    // Only the logging plugin's bar: each redraw clears the line first; no runner progress lines.
    const draws = text.split("\r\u001b[2K").slice(1);
    expect(draws.length).toBeGreaterThanOrEqual(10);
    for (const d of draws) expect(d).toMatch(/^slow [█░]{24} \d+\/10/);
    expect(text).not.toMatch(/slow: \d+\/10 tasks/);
    // A log line is never written over the bar: the bar is ended with a newline first.
    for (const m of text.matchAll(/info slept for/g)) expect(text[m.index - 1]).toBe("\n");
  });
});
