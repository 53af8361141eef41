// The step cache on disk: one file per entry, `<root>/<key[0..1]>/<key>.entry`.
// Entries are written to a temporary file and renamed into place, so two processes writing the
// same key at once leave one whole entry, and a crash leaves no partial one. Each entry carries
// a checksum; a damaged entry raises CacheCorruptionError naming the file, or (with
// onCorrupt: "recompute") is deleted, logged, and reported as a miss so the step runs again.
import * as fsp from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { CacheCorruptionError } from "../../errors.js";
import type { CachedStep, StepCache, StepCacheRequest } from "../services.js";
import { removeStaleTempFiles, storageError, writeFileAtomic } from "../storage/atomic-write.js";
import { decodeEntry, encodeEntry, readEntryFile, unstorableReason } from "./entry-format.js";
import { cacheKey, type CacheKey } from "./key.js";

export interface CacheLog {
  warn(message: string): void;
  debug?(message: string): void;
}

export interface FileCacheOptions {
  /** The cache folder (the runner passes `<outDir>/cache` unless `cache.root` is given). */
  readonly root: string;
  /** A damaged entry: throw CacheCorruptionError (default) or delete it and recompute. */
  readonly onCorrupt?: "throw" | "recompute";
  readonly log?: CacheLog;
  /** Flush entries to disk before renaming them into place (default true). */
  readonly fsync?: boolean;
}

export interface FileCache extends StepCache {
  readonly root: string;
  /** The file an entry with this key lives in. */
  pathOf(key: string): string;
  /** Deletes every entry (the whole cache folder). */
  clear(): Promise<void>;
}

const KEY = /^[0-9a-f]{64}$/;

export function createFileCache(options: FileCacheOptions): FileCache {
  const root = resolve(options.root);
  const onCorrupt = options.onCorrupt ?? "throw";
  const log = options.log;
  // Which step a key was computed for, so warnings on set() can name it.
  const stepOfKey = new Map<string, string>();

  const pathOf = (key: string): string => {
    if (!KEY.test(key)) throw new TypeError(`not a cache key: ${JSON.stringify(key)}`);
    return join(root, key.slice(0, 2), `${key}.entry`);
  };

  return {
    root,
    pathOf,

    key(request: StepCacheRequest): CacheKey {
      const k = cacheKey(request);
      if (stepOfKey.size > 10_000) stepOfKey.clear();
      stepOfKey.set(k.key, request.step);
      return k;
    },

    async get(key: string): Promise<CachedStep | undefined> {
      const path = pathOf(key);
      let read: Awaited<ReturnType<typeof readEntryFile>>;
      try {
        read = await readEntryFile(path);
      } catch (e) {
        throw storageError(path, "read the cache entry", e);
      }
      if (read === undefined) return undefined;
      try {
        return decodeEntry(key, read.file, read.checksum);
      } catch (e) {
        const why = (e as Error).message;
        if (onCorrupt === "throw") throw new CacheCorruptionError(path, why);
        await fsp.rm(path, { force: true }).catch(() => undefined);
        log?.warn(`Cache entry ${path} was corrupt (${why}); deleted it, the step is recomputed.`);
        return undefined;
      }
    },

    async set(key: string, entry: CachedStep): Promise<void> {
      const path = pathOf(key);
      const step = stepOfKey.get(key);
      stepOfKey.delete(key);
      const why = unstorableReason(entry.output) ?? unstorableReason(entry.wrote, "$wrote");
      if (why !== undefined) {
        // Storing it would make a hit replay something else than the step returned.
        log?.warn(
          `Not caching ${step === undefined ? "a step" : `step "${step}"`}: its output cannot be stored faithfully (${why.replace(/^\$/, "output")}).`,
        );
        return;
      }
      let chunks: Buffer[];
      try {
        chunks = encodeEntry(key, entry);
      } catch (e) {
        log?.warn(`Not caching ${step === undefined ? "a step" : `step "${step}"`}: ${(e as Error).message}.`);
        return;
      }
      await writeFileAtomic(path, chunks, { fsync: options.fsync ?? true });
      // A writer killed mid-write leaves its temporary file behind: sweep the bucket's strays
      // (files of dead processes only, so a concurrent writer is never disturbed).
      await removeStaleTempFiles(dirname(path), { minAgeMs: 10 * 60_000 }).catch(() => undefined);
    },

    async clear(): Promise<void> {
      await clearCache(root);
    },
  };
}

/** Deletes a cache folder and everything in it (entries and leftover temporary files). */
export async function clearCache(root: string): Promise<void> {
  try {
    await fsp.rm(resolve(root), { recursive: true, force: true });
  } catch (e) {
    throw storageError(resolve(root), "delete the cache folder", e);
  }
}
