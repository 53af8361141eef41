// Issue 17 on the command line: `crystallize run` meeting a corrupt cache entry exits 1 with
// `error E_CACHE_CORRUPT: …` naming the file (no stack trace); with the entry gone it runs again.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureProject } from "../fixture-project.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin", "crystallize.js");
const basic = fixtureProject("basic");
let tmp: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: repo,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "cry-cli-corrupt-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("crystallize run with a corrupt cache entry", () => {
  it("exits 1 naming the file and the code; after removing the entry the run succeeds", () => {
    const out = join(tmp, "out");
    const args = ["run", "demo", "--project", basic, "--out", out, "--replicates", "2", "--json"];
    const first = cli(args);
    expect(first.code, first.stderr).toBe(0);
    const cache = join(out, "cache");
    const entries = existsSync(cache)
      ? readdirSync(cache, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".entry")).map((f) => join(cache, f))
      : [];
    expect(entries.length).toBeGreaterThan(0);
    for (const f of entries) {
      const bytes = readFileSync(f);
      const at = bytes.length >> 1;
      bytes[at] = bytes[at]! ^ 0x20;
      writeFileSync(f, bytes);
    }

    const broken = cli(args);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe("");
    const named = entries.filter((f) => broken.stderr.includes(f));
    expect(named).toHaveLength(1);
    expect(broken.stderr).toMatch(/error E_CACHE_CORRUPT: Cache entry .* is corrupt/);
    expect(broken.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);

    for (const f of entries) rmSync(f);
    const again = cli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).metrics).toEqual(JSON.parse(first.stdout).metrics);
  });
});
