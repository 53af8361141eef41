import * as fsp from "node:fs/promises";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimVersion, latestVersion, listVersions } from "../../../src/runtime/storage/versions.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cry-versions-"));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe("version folders", () => {
  it("start at v0 and count up; latest uses numeric order", async () => {
    const exp = join(dir, "exp");
    expect(await latestVersion(exp)).toBeUndefined();
    expect(await claimVersion(exp)).toBe(0);
    expect(await claimVersion(exp)).toBe(1);
    mkdirSync(join(exp, "v9"));
    mkdirSync(join(exp, "v10"));
    mkdirSync(join(exp, "v02"));
    writeFileSync(join(exp, "v11"), "a file, not a folder: still taken");
    mkdirSync(join(exp, "notes"));
    expect(await listVersions(exp)).toEqual([0, 1, 9, 10, 11]);
    expect(await latestVersion(exp)).toBe(11);
    expect(await claimVersion(exp)).toBe(12);
  });

  it("never hand one version to two concurrent claimers", async () => {
    const exp = join(dir, "exp");
    const claimed = await Promise.all(Array.from({ length: 12 }, () => claimVersion(exp)));
    expect(new Set(claimed).size).toBe(12);
    expect([...claimed].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });
});
