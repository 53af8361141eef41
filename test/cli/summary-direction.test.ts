// Issue 14: the summary `crystallize run` prints names each ranked treatment better or worse.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureProject } from "../fixture-project.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin", "crystallize.js");
const basic = fixtureProject("basic");
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "cry-cli-summary-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("crystallize run's summary", () => {
  it("prints the direction and better/worse with the ranking", () => {
    const r = spawnSync(process.execPath, [bin, "run", "demo", "--project", basic, "--out", join(tmp, "out"), "--replicates", "3", "--no-cache"], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined },
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    // demo's "doubled" doubles every value, so the mean goes up: better (higher is better by default).
    expect(r.stdout).toContain("hypothesis mean_up (mean, higher is better): ranking doubled (better)");
    expect(r.stdout).toMatch(/^mean\s+doubled\s+.*\s+better$/m);
  });
});
