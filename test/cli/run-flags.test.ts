// `crystallize run`'s own flags and failure modes, spawned as a user runs them: bad flag values
// get run's usage, --project searches upward, `list | head` does not crash, a broken file does
// not stop the other experiments, a hypothesis that cannot be evaluated and --assert fail the run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
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
const mixed = join(repo, "test/fixtures/cli/projects/mixed");
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "cry-flags-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: options.cwd ?? repo, encoding: "utf8", env: { ...process.env, ...options.env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("bad flag values", () => {
  it.each([
    [["--replicates", "zero"], /option '--replicates <n>' argument 'zero' is invalid\. needs an integer from 1 up/],
    [["--seed", "-1"], /option '--seed <n>' argument '-1' is invalid\. needs an integer from 0 to 4294967295/],
    [["--workers", "1.5"], /option '--workers <n>' argument '1\.5' is invalid/],
    [["--log-level", "loud"], /option '--log-level <level>' argument 'loud' is invalid\. must be one of debug, info, warn, error, silent/],
    [["--assert", ":up"], /option '--assert <hypothesis\[:treatment\]>' argument ':up' is invalid/],
  ])("%j gets crystallize run's own error, before compiling, not the runner's usage", (flags, message) => {
    const r = cli(["run", "demo", "--project", basic, ...flags]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/add --help for usage/);
    expect(r.stderr).not.toMatch(/Usage: node|runner\.mjs/);
  });

  it("rejects a bad CRYSTALLIZE_LOG the same way", () => {
    const r = cli(["run", "demo", "--project", basic], { env: { CRYSTALLIZE_LOG: "chatty" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CRYSTALLIZE_LOG must be one of debug, info, warn, error, silent, got "chatty"/);
    expect(r.stderr).not.toMatch(/Usage: node/);
  });
});

describe("finding the project", () => {
  it("searches upward for tsconfig.json from the current folder or from --project's folder, like tsc", () => {
    const fromSrc = cli(["list"], { cwd: join(basic, "src") });
    expect(fromSrc.code, fromSrc.stderr).toBe(0);
    expect(fromSrc.stdout).toMatch(/^demo {2}src\/demo\.ts/m);
    const folder = cli(["list", "--project", join(basic, "src")], { cwd: tmp });
    expect(folder.code, folder.stderr).toBe(0);
    expect(folder.stdout).toMatch(/^demo /m);
  });
});

describe("a closed pipe", () => {
  it.each(["head -1", "true"])("`crystallize list | %s` exits quietly, without an EPIPE crash", (reader) => {
    const r = spawnSync("bash", ["-c", `"${process.execPath}" "${bin}" list --json --project "${basic}" | ${reader}; exit \${PIPESTATUS[0]}`], { encoding: "utf8", timeout: 120_000 });
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|node:events/);
    expect(r.status).toBe(0);
  });
});

describe("a project with a broken and an unexported experiment", () => {
  it("still runs the others, naming the broken ones", () => {
    const r = cli(["run", "good", "--out", join(tmp, "mixed"), "--json"], { cwd: mixed });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ experiment: "good", conditions: ["baseline", "up", "same"] });
    expect(r.stderr).toMatch(/error TS2322/);
    expect(r.stderr).toMatch(/warning: errors in src\/broken\.ts, src\/hidden\.ts; not runnable until fixed: "broken", "hidden \(not exported\)"; running "good"/);
  });

  it("refuses the broken one, naming the file it depends on", () => {
    const r = cli(["run", "broken", "--out", join(tmp, "mixed")], { cwd: mixed });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the project does not compile \(\d+ errors?, \d+ warnings?\); experiment "broken" depends on src\/broken\.ts, which has errors; fix the errors above/);
  });
});

describe("hypotheses as a CI gate", () => {
  const run = (...flags: string[]) => cli(["run", "good", "--project", mixed, "--out", join(tmp, "gate"), "--log-level", "silent", ...flags]);

  it("exits 1 when a hypothesis cannot be evaluated", () => {
    const r = run("--replicates", "1");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: hypothesis mean_up could not be evaluated: [\s\S]*has 1 value; a test needs at least 2/);
  });

  it("--assert h:t passes when significant for t, fails when not; --assert h needs every treatment", () => {
    expect(run("--assert", "mean_up:up").code).toBe(0);
    const same = run("--assert", "mean_up:same");
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/error: assertion failed: hypothesis mean_up is not significant for same \(p = 1\)/);
    const all = run("--assert", "mean_up");
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/not significant for same/);
    expect(all.stderr).not.toMatch(/for up/);
    const unknown = run("--assert", "mean_dwn", "--json");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/--assert names hypothesis "mean_dwn", which "good" does not have \(hypotheses: mean_up\)/);
    expect(JSON.parse(unknown.stdout).experiment).toBe("good"); // stdout stays result.toJSON()
    const noTreatment = run("--assert", "mean_up:down");
    expect(noTreatment.stderr).toMatch(/no result for treatment "down" \(tested: up, same\)/);
  }, 150_000);
});

describe("a failing step", () => {
  it("prints a multi-line reason whole; --verbose adds the stack at the user's file:line, kept in --json and beside result.json", () => {
    const out = join(tmp, "failing");
    const plain = cli(["run", "failing", "--out", out], { cwd: mixed });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/Step "check" failed: the data is not valid:\n {2}- row 3: missing label\n {2}- row 7: negative weight/);
    expect(plain.stderr).not.toMatch(/failing\.ts:\d+/);

    const verbose = cli(["run", "failing", "--out", out, "--verbose", "--json"], { cwd: mixed });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^ {4}at .*src\/failing\.ts:8:\d+\)?$/m);
    const json = JSON.parse(verbose.stdout) as { errors: { step: string; message: string; stack?: string }[] };
    expect(json.errors).toHaveLength(1);
    expect(json.errors[0]!.stack).toMatch(/src\/failing\.ts:8:\d+/);
    const version = readdirSync(join(out, "artifacts/failing")).sort().at(-1)!;
    const stored = JSON.parse(readFileSync(join(out, "artifacts/failing", version, "errors.json"), "utf8")) as { stack: string; message: string }[];
    expect(stored[0]!.message).toMatch(/row 7: negative weight/);
    expect(stored[0]!.stack).toMatch(/src\/failing\.ts:8:\d+/);
    // Without --verbose, --json stays exactly result.toJSON() (no stacks: they are not deterministic).
    const again = cli(["run", "failing", "--out", out, "--json"], { cwd: mixed });
    expect(JSON.parse(again.stdout).errors[0].stack).toBeUndefined();
  }, 120_000);
});
