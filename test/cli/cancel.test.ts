// Ctrl-C and SIGTERM sent as real signals to real processes: `crystallize run`, a compiled runner
// and a bundle cancel cleanly (status cancelled, completed tasks kept, one line on how to resume);
// a second Ctrl-C exits at once; --resume continues the cancelled version.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin/crystallize.js");
const project = join(repo, "test/fixtures/cli/projects/slow");
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "cry-cancel-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  /** ms from the last signal to the exit. */
  afterSignal: number;
}

/** Starts `args`, waits until `log` has `tasks` lines, sends each signal (150 ms apart), and waits for the exit. */
function interrupt(args: string[], env: Record<string, string>, log: string, tasks: number, signals: NodeJS.Signals[]): Promise<Exit> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: tmp, env: { ...process.env, ...env, SLOW_LOG: log } });
    let stdout = "";
    let stderr = "";
    let signalled = 0;
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const poll = setInterval(() => {
      if (lines(log).length < tasks) return;
      clearInterval(poll);
      signals.forEach((s, i) =>
        setTimeout(() => {
          child.kill(s);
          signalled = Date.now();
        }, i * 150),
      );
    }, 20);
    child.on("error", fail);
    child.on("exit", (code) => {
      clearInterval(poll);
      done({ code, stdout, stderr, afterSignal: Date.now() - signalled });
    });
  });
}

function metadata(out: string) {
  const dir = join(out, "artifacts/slow");
  return readdirSync(dir).map((v) => ({ version: v, meta: JSON.parse(readFileSync(join(dir, v, "metadata.json"), "utf8")) as { status: string }, journal: lines(join(dir, v, "tasks.jsonl")) }));
}

describe("cancelling a run", () => {
  it("crystallize run: SIGINT cancels (status cancelled, tasks kept, one resume line); --resume finishes the same version", async () => {
    const out = join(tmp, "run");
    const log = join(tmp, "run.log");
    const r = await interrupt([bin, "run", "slow", "--project", project, "--out", out, "--no-cache"], {}, log, 4, ["SIGINT"]);
    expect(r.code, r.stderr).toBe(130);
    const resumeLines = r.stderr.split("\n").filter((l) => l.includes("resume with:"));
    expect(resumeLines).toHaveLength(1);
    expect(resumeLines[0]).toMatch(/^cancelled \(status cancelled, \d+ of 40 tasks complete and stored\); resume with: crystallize run slow --project \S+ --out \S+ --no-cache --resume$/);
    const [first] = metadata(out);
    expect(first!.meta.status).toBe("cancelled");
    const kept = first!.journal.length;
    expect(kept).toBeGreaterThanOrEqual(3); // the 4th had started
    expect(kept).toBeLessThan(40);

    const resumed = spawnSync(process.execPath, [bin, "run", "slow", "--project", project, "--out", out, "--no-cache", "--resume", "--json"], {
      cwd: tmp,
      encoding: "utf8",
      env: { ...process.env, SLOW_LOG: log },
      timeout: 120_000,
    });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).provenance).toHaveLength(40);
    const versions = metadata(out);
    expect(versions.map((v) => v.version)).toEqual([first!.version]);
    expect(versions[0]!.meta.status).toBe("completed");
    expect(versions[0]!.journal).toHaveLength(40);
    // Tasks completed before the signal were not run again (at most the in-flight one repeats).
    const runs = lines(log);
    expect(new Set(runs).size).toBe(40);
    expect(runs.length).toBeLessThanOrEqual(40 + 1);
    // Step logs (ctx.log) were shown off a TTY and stored with the run.
    expect(resumed.stderr).toMatch(/info slept for doubled 19/);
    expect(readFileSync(join(out, "artifacts/slow", first!.version, "log.txt"), "utf8")).toMatch(/info slept for baseline 0\n[\s\S]*info slept for doubled 19\n/);
  }, 120_000);

  it("crystallize run <graph>: SIGINT cancels with one resume line; --resume continues the cancelled version", async () => {
    const out = join(tmp, "graph");
    const log = join(tmp, "graph.log");
    const r = await interrupt([bin, "run", "slowgraph", "--project", project, "--out", out, "--no-cache"], {}, log, 4, ["SIGINT"]);
    expect(r.code, r.stderr).toBe(130);
    const resumeLines = r.stderr.split("\n").filter((l) => l.includes("resume with:"));
    expect(resumeLines).toHaveLength(1);
    expect(resumeLines[0]).toMatch(/^cancelled \(.*slowgraph.*\); resume with: crystallize run slowgraph --project \S+ --out \S+ --no-cache --resume$/);
    const [first] = metadata(out);
    expect(first!.meta.status).toBe("cancelled");
    const resumed = spawnSync(process.execPath, [bin, "run", "slowgraph", "--project", project, "--out", out, "--no-cache", "--resume", "--json"], {
      cwd: tmp,
      encoding: "utf8",
      env: { ...process.env, SLOW_LOG: log },
      timeout: 120_000,
    });
    expect(resumed.status, resumed.stderr).toBe(0);
    const versions = metadata(out);
    expect(versions.map((v) => v.version)).toEqual([first!.version]);
    expect(versions[0]!.meta.status).toBe("completed");
    expect(new Set(lines(log)).size).toBe(40);
    expect(lines(log).length).toBeLessThanOrEqual(41);
  }, 120_000);

  it("a bundle: SIGTERM cancels with exit code 143 and names the bundle's own resume command", async () => {
    const file = join(tmp, "slow.mjs");
    const b = spawnSync(process.execPath, [bin, "bundle", "slow", "--project", project, "-o", file], { encoding: "utf8", timeout: 120_000 });
    expect(b.status, b.stderr).toBe(0);
    const log = join(tmp, "bundle.log");
    const out = join(tmp, "bundle-store");
    const r = await interrupt([file, "--out", out, "--no-cache"], {}, log, 3, ["SIGTERM"]);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/^cancelled \(status cancelled, \d+ of 40 tasks complete and stored\); resume with: node \S*slow\.mjs --out \S+ --no-cache --resume$/m);
    expect(metadata(out)[0]!.meta.status).toBe("cancelled");
  }, 120_000);

  it("a compiled runner: a second Ctrl-C exits at once, without waiting for the running step", async () => {
    const out = join(tmp, "twice");
    const c = spawnSync(process.execPath, [bin, "compile", "--project", project, "--out", out], { encoding: "utf8", timeout: 120_000 });
    expect(c.status, c.stderr).toBe(0);
    const log = join(tmp, "twice.log");
    // Each step sleeps 20 s: the first Ctrl-C alone would wait for it.
    const r = await interrupt([join(out, "runners/slow.mjs"), "--out", out, "--no-cache"], { SLOW_MS: "20000" }, log, 1, ["SIGINT", "SIGINT"]);
    expect(r.code).toBe(130);
    expect(r.afterSignal).toBeLessThan(3000);
    expect(r.stderr).toMatch(/SIGINT: cancelling/);
    expect(r.stderr).toMatch(/SIGINT again: exiting now/);
  }, 120_000);
});
