// Version folders `v<N>` under an experiment's artifact folder. A version is claimed by creating
// its folder: mkdir fails with EEXIST when another run (or another plugin on the same root) took
// it first, and the claimer moves on to N+1. Two runs never share a version.
import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { storageError } from "./atomic-write.js";

const VERSION = /^v(0|[1-9]\d*)$/;

export function versionDirName(version: number): string {
  return `v${version}`;
}

/** The version numbers present in `dir`, ascending (numeric order: v10 after v9). */
export async function listVersions(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOENT") return [];
    throw storageError(dir, "list the versions in", e);
  }
  const out: number[] = [];
  for (const name of names) {
    const m = VERSION.exec(name);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

export async function latestVersion(dir: string): Promise<number | undefined> {
  const versions = await listVersions(dir);
  return versions[versions.length - 1];
}

/** Creates and returns the next free version folder's number (the first is 0). */
export async function claimVersion(dir: string): Promise<number> {
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw storageError(dir, "create", e);
  }
  const latest = await latestVersion(dir);
  let n = latest === undefined ? 0 : latest + 1;
  for (;;) {
    const path = join(dir, versionDirName(n));
    try {
      await fsp.mkdir(path);
      return n;
    } catch (e) {
      if ((e as { code?: unknown }).code !== "EEXIST") throw storageError(path, "create", e);
      n++;
    }
  }
}
