// `npm test` in a fresh clone needs nothing outside the repository: no tracked test, bench or
// script file reads a path outside it (../shared, absolute paths, relative paths that climb out).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const tracked = execFileSync("git", ["ls-files", "test", "bench", "scripts", "examples", "vitest.config.ts"], { cwd: repo, encoding: "utf8" })
  .split("\n")
  .filter((f) => /\.(ts|mts|mjs|js|json)$/.test(f) && f !== "test/cli/self-contained.test.ts");

describe("the test suite is self-contained", () => {
  it("has tracked files to check", () => {
    expect(tracked.length).toBeGreaterThan(20);
  });

  it("no tracked file refers to a path outside the repository", () => {
    const outside: string[] = [];
    for (const f of tracked) {
      const text = readFileSync(join(repo, f), "utf8");
      if (/\.\.\/shared\b|["'`]\/(work|home|Users|root)\//.test(text)) outside.push(`${f}: an absolute or ../shared path`);
      for (const m of text.matchAll(/["'`]((?:\.\.\/)+[^"'`\s]*)["'`]/g)) {
        const target = resolve(dirname(join(repo, f)), m[1]!);
        if (relative(repo, target).startsWith("..")) outside.push(`${f}: ${m[1]}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
