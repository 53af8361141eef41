// The command line, spawned as a user runs it (node bin/crystallize.js, built by the global setup).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureProject } from "../fixture-project.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin", "crystallize.js");
const basic = fixtureProject("basic");
const rulesProject = fixtureProject("rules");
const dsl = join(repo, "src/dsl/index.ts");
let tmp: string;

function cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repo,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...options.env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function noStackTrace(text: string): void {
  expect(text).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "cry-cli-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("crystallize --help", () => {
  it("describes every command, and each command has --help", () => {
    const top = cli(["--help"]);
    expect(top.code).toBe(0);
    for (const c of ["init", "compile", "run", "optimize", "exec", "bundle", "list", "graph", "cache"]) expect(top.stdout).toContain(c);
    for (const c of [["init"], ["compile"], ["run"], ["optimize"], ["exec"], ["bundle"], ["list"], ["graph"], ["cache"], ["cache", "ls"], ["cache", "clear"]]) {
      const r = cli([...c, "--help"]);
      expect(r.code, c.join(" ")).toBe(0);
      expect(r.stdout, c.join(" ")).toMatch(/Usage: crystallize/);
    }
    expect(cli(["run", "--help"]).stdout).toMatch(/--replicates[\s\S]*--seed[\s\S]*--treatments[\s\S]*--workers[\s\S]*--no-cache[\s\S]*--json/);
    expect(cli(["run", "--help"]).stdout).toMatch(/--sweep[\s\S]*--resume[\s\S]*--assert[\s\S]*--log-level[\s\S]*--verbose[\s\S]*Ctrl-C/);
  });

  it("fails with exit code 1 on an unknown command or option", () => {
    const r = cli(["compil"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/compile/);
  });
});

describe("crystallize compile", () => {
  it("writes the manifest and a runner per experiment", () => {
    const r = cli(["compile", "--project", basic]);
    expect(r.stderr).toContain("compiled 2 experiments");
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(basic, ".crystallize/manifest.json"), "utf8"));
    expect(manifest.version).toBe(1);
    expect(manifest.experiments.map((e: { name: string }) => e.name)).toEqual(["demo", "built"]);
    expect(manifest.experiments[0].steps[0]).toMatchObject({ name: "scale", in: "number[]", out: "number[]", params: { factor: 1 }, metrics: [], cacheable: false });
    expect(existsSync(join(basic, ".crystallize/runners/demo.mjs"))).toBe(true);
    expect(r.stderr).not.toContain("\x1b["); // no colours when not a TTY
  });

  it("prints diagnostics as path(line,col): error CODE: message, and as JSON with --json; exit 1 on errors", () => {
    const text = cli(["compile", "--project", rulesProject]);
    expect(text.code).toBe(1);
    const rel = relative(repo, join(rulesProject, "src/cry1004.ts"));
    expect(text.stderr).toContain(`${rel}(5,53): error CRY1004: treatment "loose" sets "factr"`);
    const json = cli(["compile", "--project", rulesProject, "--json"]);
    expect(json.code).toBe(1);
    const list = JSON.parse(json.stdout) as { file: string; line: number; column: number; code: string; severity: string; message: string }[];
    expect(list.find((d) => d.code === "CRY1004")).toEqual({ file: rel, line: 5, column: 53, code: "CRY1004", severity: "error", message: expect.stringContaining("Did you mean") });
    expect(Object.keys(list[0]!).sort()).toEqual(["code", "column", "file", "line", "message", "severity"]);
  });

  it("names a missing tsconfig and the fix, without a stack trace", () => {
    const r = cli(["compile", "--project", "no/such/tsconfig.json"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error CRY0001: tsconfig not found: no\/such\/tsconfig\.json; pass --project/);
    noStackTrace(r.stderr);
  });

  it("names a broken tsconfig", () => {
    const dir = join(tmp, "broken-config");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "tsconfig.json"), '{ "compilerOptions": { "strict": true, }\n  "include": [ }');
    const r = cli(["compile", "--project", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tsconfig\.json\(\d+,\d+\): error CRY0002: the tsconfig cannot be read/);
    noStackTrace(r.stderr);
  });

  it("reports a file that does not parse with its position", () => {
    const dir = join(tmp, "unparsable");
    mkdirSync(join(dir, "src"), { recursive: true });
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", strict: true, noEmit: true, types: [], paths: { "crystallize-ts": [dsl] } }, include: ["src"] }));
    writeFileSync(join(dir, "src/bad.ts"), 'import { experiment } from "crystallize-ts";\nexport const e = experiment("e", { pipeline: ( });\n');
    const r = cli(["compile", "--project", dir], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^src\/bad\.ts\(2,\d+\): error TS1\d{3}: /m);
    noStackTrace(r.stderr);
  });
});

describe("crystallize run", () => {
  it("prints exactly result.toJSON() with --json, the same on every run", () => {
    const a = cli(["run", "demo", "--project", basic, "--replicates", "3", "--seed", "7", "--no-cache", "--json"]);
    expect(a.code, a.stderr).toBe(0);
    const b = cli(["run", "demo", "--project", basic, "--replicates", "3", "--seed", "7", "--no-cache", "--json"]);
    expect(b.stdout).toBe(a.stdout);
    const result = JSON.parse(a.stdout);
    expect(result).toMatchObject({ experiment: "demo", seed: 7, replicates: 3, conditions: ["baseline", "doubled"] });
    expect(result.metrics.baseline.mean).toHaveLength(3);
    // The manifest's structural hashes are the ones the run used.
    const manifest = JSON.parse(readFileSync(join(basic, ".crystallize/manifest.json"), "utf8"));
    const scale = manifest.experiments[0].steps[0];
    expect(result.provenance[0].steps[0]).toMatchObject({ step: "scale", stepHash: scale.hash });
  });

  it("runs only the given treatments, and prints a summary without --json", () => {
    const r = cli(["run", "demo", "--project", basic, "--replicates", "2", "--treatments", "doubled"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/experiment demo: 2 replicate\(s\)/);
    // A table of metrics per condition: a header row, then one row per condition.
    expect(r.stdout).toMatch(/^condition\s+max\s+mean/m);
    expect(r.stdout).toMatch(/^doubled\s+\S+ ± \S+ \(n=2\)/m);
    const bad = cli(["run", "demo", "--project", basic, "--treatments", "tripled"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown treatment "tripled"; experiment "demo" has "doubled"/);
  });

  it("suggests the closest names for an experiment that does not exist", () => {
    const r = cli(["run", "dmeo", "--project", basic]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no experiment named "dmeo"; did you mean "demo"\?/);
    noStackTrace(r.stderr);
  });

  it("explains an export that is not an experiment, naming its file", () => {
    const r = cli(["run", "meanDiff", "--project", basic]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"meanDiff" in .*src\/verifier\.ts is exported but is not an experiment/);
  });

  it("refuses to run a project that does not compile", () => {
    const r = cli(["run", "cry1004", "--project", rulesProject]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the project does not compile/);
  });

  it("leaves runners that work as commands on their own", () => {
    const runner = join(basic, ".crystallize/runners/demo.mjs");
    const help = spawnSync(process.execPath, [runner, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Runs experiment "demo"/);
    const run = spawnSync(process.execPath, [runner, "--replicates", "2", "--json", "--no-cache"], { encoding: "utf8", cwd: tmp });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).replicates).toBe(2);
    const bad = spawnSync(process.execPath, [runner, "--replicates", "zero"], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--replicates needs a positive integer/);
  });
});

describe("crystallize compile --out outside the project", () => {
  it("writes runners that import the project's crystallize by file URL, so they run from there", () => {
    const out = join(tmp, "elsewhere");
    const r = cli(["compile", "--project", basic, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const runner = join(out, "runners/demo.mjs");
    const text = readFileSync(runner, "utf8");
    expect(text).not.toMatch(/from\s*"crystallize-ts"/);
    expect(text).toMatch(/from\s*"file:\/\/[^"]+\/dist\/index\.js"/);
    const run = spawnSync(process.execPath, [runner, "--replicates", "2", "--json", "--no-cache", "--out", join(tmp, "store")], { encoding: "utf8", cwd: tmp });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).replicates).toBe(2);
    // Inside the project the runners keep importing the package by name.
    expect(readFileSync(join(basic, ".crystallize/runners/demo.mjs"), "utf8")).toMatch(/from\s*"crystallize-ts"/);
  });
});

describe("crystallize list, graph and cache", () => {
  it("lists experiments with steps and hashes", () => {
    const r = cli(["list", "--project", basic]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^demo {2}src\/demo\.ts \(export demo\), 5 replicate\(s\)$/m);
    expect(r.stdout).toMatch(/step scale {2}[0-9a-f]{12} {2}number\[\] → number\[\]/);
    const json = JSON.parse(cli(["list", "--project", basic, "--json"]).stdout);
    expect(json.experiments).toHaveLength(2);
  });

  it("prints the graph as mermaid or dot", () => {
    expect(cli(["graph", "--project", basic]).stdout).toMatch(/^flowchart LR\n {2}demo\["demo"\]/);
    expect(cli(["graph", "--project", basic, "--format", "dot"]).stdout).toMatch(/^digraph crystallize \{/);
    const bad = cli(["graph", "--project", basic, "--format", "png"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/use --format mermaid or --format dot/);
  });

  it("lists and clears the step cache", () => {
    expect(cli(["run", "demo", "--project", basic, "--replicates", "2"]).code).toBe(0);
    const ls = cli(["cache", "ls", "--project", basic, "--json"]);
    expect(JSON.parse(ls.stdout).entries).toBeGreaterThan(0);
    const clear = cli(["cache", "clear", "--project", basic]);
    expect(clear.stdout).toMatch(/^cleared \d+ entr/);
    expect(JSON.parse(cli(["cache", "ls", "--project", basic, "--json"]).stdout).entries).toBe(0);
  });
});

describe("crystallize bundle", () => {
  it("builds one file that runs with node in an empty folder, byte-identical across builds", () => {
    const a = join(tmp, "a.mjs");
    const b = join(tmp, "b.mjs");
    const r1 = cli(["bundle", "demo", "--project", basic, "-o", a]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(cli(["bundle", "demo", "--project", basic, "-o", b]).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const empty = join(tmp, "empty");
    mkdirSync(empty);
    copyFileSync(a, join(empty, "demo.mjs"));
    const help = spawnSync(process.execPath, ["demo.mjs", "--help"], { cwd: empty, encoding: "utf8" });
    expect(help.status).toBe(0);
    const run = spawnSync(process.execPath, ["demo.mjs", "--replicates", "2", "--json", "--no-cache"], { cwd: empty, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ experiment: "demo", replicates: 2 });
    // parallel() workers start from the same single file, and agree with the serial run.
    const workers = spawnSync(process.execPath, ["demo.mjs", "--replicates", "2", "--json", "--no-cache", "--workers", "2"], { cwd: empty, encoding: "utf8" });
    expect(workers.status, workers.stderr).toBe(0);
    expect(workers.stdout).toBe(run.stdout);
  });

  it("names the closest experiments when the name matches nothing", () => {
    const r = cli(["bundle", "bulit", "--project", basic, "-o", join(tmp, "x.mjs")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did you mean "built"\?/);
  });
});
