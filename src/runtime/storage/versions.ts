// Version folders `v<N>` under an experiment's artifact folder. A version is claimed by creating
// its folder: mkdir fails with EEXIST when another run (or another plugin on the same root) took
// it first, and the claimer moves on to N+1. Two runs never share a version.
import { mkdirSync, readdirSync } from "node:fs";
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

/**
 * Creates and returns the next free version folder's number (the first is 0). With synchronous
 * calls: three quick system calls, each of which would otherwise wait its turn in the thread pool
 * (on a busy machine that was most of what opening a run's store cost).
 */
export async function claimVersion(dir: string): Promise<number> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw storageError(dir, "create", e);
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw storageError(dir, "list the versions in", e);
  }
  let n = 0;
  for (const name of names) {
    const m = VERSION.exec(name);
    if (m && Number(m[1]) >= n) n = Number(m[1]) + 1;
  }
  for (;;) {
    const path = join(dir, versionDirName(n));
    try {
      mkdirSync(path);
      return n;
    } catch (e) {
      if ((e as { code?: unknown }).code !== "EEXIST") throw storageError(path, "create", e);
      n++;
    }
  }
}
