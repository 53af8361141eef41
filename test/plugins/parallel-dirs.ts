// Temporary folders for the parallel tests: `dir` holds the fixtures' marker files (the workers
// find it through CRYSTALLIZE_PARALLEL_DIR), `store` the storage roots the runs write to.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";

export let dir: string;
export let store: string;
let runs = 0;

/** A fresh storage root per run, so artifact versions (in toJSON) and cache state agree between runs. */
export const out = (): string => join(store, `run-${++runs}`);

/** Replaces the marker folder with a new one (the workers see it through the environment). */
export function freshMarkerDir(): string {
  rmSync(dir, { recursive: true, force: true });
  dir = mkdtempSync(join(tmpdir(), "cry-parallel-"));
  process.env.CRYSTALLIZE_PARALLEL_DIR = dir;
  return dir;
}

/** Registers the hooks that create the folders before each test and remove them after it. */
export function useParallelDirs(): void {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cry-parallel-"));
    store = mkdtempSync(join(tmpdir(), "cry-parallel-store-"));
    process.env.CRYSTALLIZE_PARALLEL_DIR = dir;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  });
}
