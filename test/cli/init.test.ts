// crystallize init, then compile and run, in a fresh folder. A real user runs `npm install`
// (which installs crystallize, typescript and @types/node); offline, the test links the same
// packages from this repository into the new project's node_modules instead.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dependencySpec } from "../../src/cli/init.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin/crystallize.js");
let tmp: string;

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "cry-init-"));
  // The package's type declarations come from the full build (npm run build / prepare); tests
  // only build JavaScript, so build the declarations once when they are missing.
  if (!existsSync(join(repo, "dist/dsl/index.d.ts")) || !existsSync(join(repo, "dist/stats/index.d.ts"))) {
    spawnSync(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "-p", join(repo, "tsconfig.build.json")], { stdio: "ignore" });
  }
}, 240_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("crystallize init", () => {
  it("creates a project that compiles and runs", () => {
    const dir = join(tmp, "my-study");
    const init = cli(["init", dir], tmp);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/npm install/);
    for (const f of ["package.json", "tsconfig.json", ".gitignore", "README.md", "src/experiment.ts"]) expect(existsSync(join(dir, f)), f).toBe(true);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    // Run from this clone: a file: dependency on it (the registry has no such version to install).
    expect(pkg).toMatchObject({ name: "my-study", type: "module", dependencies: { "crystallize-ts": `file:${repo.replace(/\/$/, "")}` } });
    for (const f of ["scripts/tune.ts"]) expect(existsSync(join(dir, f)), f).toBe(true);

    // What `npm install` would provide, linked from this repository.
    mkdirSync(join(dir, "node_modules/@types"), { recursive: true });
    symlinkSync(repo, join(dir, "node_modules/crystallize-ts"), "dir");
    symlinkSync(join(repo, "node_modules/typescript"), join(dir, "node_modules/typescript"), "dir");
    symlinkSync(join(repo, "node_modules/@types/node"), join(dir, "node_modules/@types/node"), "dir");

    const compiled = cli(["compile"], dir);
    expect(compiled.stderr).toContain("compiled 1 experiment");
    expect(compiled.code).toBe(0);
    const run = cli(["run", "example", "--replicates", "3", "--json"], dir);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ experiment: "example", replicates: 3, conditions: ["baseline", "doubled"] });
    expect(result.hypotheses[0].name).toBe("mean_up");

    // The template's TypeScript script (optimize and apply: API-only features) runs...
    const tune = cli(["exec", "scripts/tune.ts"], dir);
    expect(tune.code, tune.stderr).toBe(0);
    expect(tune.stdout).toMatch(/^best factor: \{"factor":4\} \(mean [\d.]+\)$/m);
    expect(tune.stdout).toMatch(/apply\(\) with "doubled": 100 values/);
    // ...and every folder init creates is type-checked by compile.
    writeFileSync(join(dir, "scripts/typo.ts"), 'const n: number = "one";\nexport { n };\n');
    const typo = cli(["compile"], dir);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/scripts\/typo\.ts\(1,7\): error TS2322/);
  }, 240_000);

  it("compiles and runs the repository's examples (the quickstart command)", () => {
    const compiled = cli(["compile", "--project", "examples/tsconfig.json"], repo);
    expect(compiled.code, compiled.stderr).toBe(0);
    const run = cli(["run", "quickstart", "--project", "examples/tsconfig.json", "--replicates", "2", "--no-cache", "--json"], repo);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ experiment: "quickstart", replicates: 2 });
  }, 240_000);

  it("refuses a folder that is not empty", () => {
    const dir = join(tmp, "busy");
    mkdirSync(dir);
    spawnSync("touch", [join(dir, "file.txt")]);
    const r = cli(["init", dir], tmp);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not empty; run init in a new or empty folder/);
  });
});

describe("the dependency init writes", () => {
  const installed = (resolved: string) => {
    const project = mkdtempSync(join(tmpdir(), "cry-dep-"));
    const pkg = join(project, "node_modules/crystallize-ts");
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(project, "node_modules/.package-lock.json"), JSON.stringify({ packages: { "node_modules/crystallize-ts": { version: "0.1.0", resolved } } }));
    return { project, pkg };
  };

  it("is a file: spec to a clone, to the tarball npx installed it from, else the registry version", () => {
    expect(dependencySpec("0.1.0", "/src/crystallize-ts")).toBe("file:/src/crystallize-ts");
    const tgz = installed("file:../crystallize-ts-0.1.0.tgz");
    expect(dependencySpec("0.1.0", tgz.pkg)).toBe(`file:${join(tgz.project, "..", "crystallize-ts-0.1.0.tgz")}`);
    const registry = installed("https://registry.npmjs.org/crystallize-ts/-/crystallize-ts-0.1.0.tgz");
    expect(dependencySpec("0.1.0", registry.pkg)).toBe("^0.1.0");
    expect(dependencySpec("0.1.0", join(tmpdir(), "no-lock/node_modules/crystallize-ts"))).toBe("^0.1.0");
    for (const p of [tgz.project, registry.project]) rmSync(p, { recursive: true, force: true });
  });
});
