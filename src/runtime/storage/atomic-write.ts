// Atomic file writes: the bytes go to a temporary file in the target's folder, are flushed to
// disk, and the file is renamed into place. A reader (or a crash) sees the old file or the new
// one, never a partial one. On failure the temporary file is removed and a StorageError names
// the path.
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { errorMessage, StorageError } from "../../errors.js";

/** The file-system calls atomic writes use (replaceable in tests to simulate faults). */
export interface AtomicFs {
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  open(path: string, flags: string): Promise<{
    write(data: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
    sync(): Promise<void>;
    close(): Promise<void>;
  }>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: true }): Promise<void>;
}

const realFs: AtomicFs = {
  mkdir: (p, o) => fsp.mkdir(p, o),
  open: (p, f) => fsp.open(p, f),
  rename: (a, b) => fsp.rename(a, b),
  rm: (p, o) => fsp.rm(p, o),
};

export interface AtomicWriteOptions {
  /** Flush the data to disk before the rename (default true): survives power loss, not only crashes. */
  readonly fsync?: boolean;
  /** Create missing parent folders (default true). */
  readonly mkdir?: boolean;
  /** For tests: the file-system calls to use. */
  readonly fs?: AtomicFs;
}

let counter = 0;

/** Temporary files are hidden, end in ".tmp" and carry the writer's pid, so sweeps can find them. */
export function tempPathFor(path: string): string {
  counter = (counter + 1) % 0x100000;
  const tag = `${process.pid}-${counter.toString(16)}${randomBytes(3).toString("hex")}`;
  return join(dirname(path), `.${basename(path)}.${tag}.tmp`);
}

const TEMP_NAME = /^\..+\.\d+-[0-9a-f]+\.tmp$/;

export function isTempFile(name: string): boolean {
  return TEMP_NAME.test(basename(name));
}

const HINTS: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a parent of the path is not a folder",
  EISDIR: "the path is a folder",
  EEXIST: "a file is in the way of a folder",
};

export function storageError(path: string, action: string, cause: unknown): StorageError {
  const code = (cause as { code?: unknown } | null)?.code;
  const hint = typeof code === "string" ? HINTS[code] : undefined;
  const detail = hint ? `${hint} (${String(code)})` : errorMessage(cause);
  return new StorageError(path, `Could not ${action} "${path}": ${detail}.`, cause);
}

/** Writes `data` (or its chunks, in order) to `path` atomically. Throws StorageError naming `path`; leaves no partial file. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string | readonly Uint8Array[],
  options: AtomicWriteOptions = {},
): Promise<void> {
  await (await stageFileAtomic(path, data, options)).commit();
}

/**
 * writeFileAtomic with synchronous calls: for small files written where nothing else waits (the
 * run's metadata and results), it saves the thread-pool round trips of the five calls. Blocks the
 * event loop while it writes, so not for large or flushed files on a busy loop.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array | string, options: Omit<AtomicWriteOptions, "fs"> = {}): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  if (options.mkdir !== false) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (e) {
      throw storageError(path, "create the folder for", e);
    }
  }
  const temp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = openSync(temp, "wx");
    let offset = 0;
    while (offset < bytes.byteLength) offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
    if (options.fsync !== false) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // Already failing.
      }
    }
    rmSync(temp, { force: true });
    throw storageError(path, "write", e);
  }
}

/** A temporary file holding the new contents of `path`, not yet renamed into place. */
export interface StagedFile {
  readonly path: string;
  /** Renames the temporary file into place. */
  commit(): Promise<void>;
  /** Removes the temporary file; `path` keeps its old contents. */
  discard(): Promise<void>;
}

/**
 * The first half of an atomic write: the data goes to a temporary file next to `path` (flushed to
 * disk unless `fsync: false`); `commit()` renames it into place. Lets a caller order the rename
 * after something else (the run's metadata after its journal is on disk) while the flushes overlap.
 */
export async function stageFileAtomic(
  path: string,
  data: Uint8Array | string | readonly Uint8Array[],
  options: AtomicWriteOptions = {},
): Promise<StagedFile> {
  const fs = options.fs ?? realFs;
  const chunks = typeof data === "string" ? [Buffer.from(data, "utf8")] : data instanceof Uint8Array ? [data] : data;
  if (options.mkdir !== false) {
    try {
      await fs.mkdir(dirname(path), { recursive: true });
    } catch (e) {
      throw storageError(path, "create the folder for", e);
    }
  }
  const temp = tempPathFor(path);
  let handle: Awaited<ReturnType<AtomicFs["open"]>> | undefined;
  try {
    handle = await fs.open(temp, "wx");
    for (const bytes of chunks) {
      let offset = 0;
      while (offset < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
        offset += bytesWritten;
      }
    }
    if (options.fsync !== false) await handle.sync();
    await handle.close();
    handle = undefined;
  } catch (e) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw storageError(path, "write", e);
  }
  let settled = false;
  return {
    path,
    async commit() {
      if (settled) return;
      settled = true;
      try {
        await fs.rename(temp, path);
      } catch (e) {
        await fs.rm(temp, { force: true }).catch(() => undefined);
        throw storageError(path, "write", e);
      }
    },
    async discard() {
      if (settled) return;
      settled = true;
      await fs.rm(temp, { force: true }).catch(() => undefined);
    },
  };
}

/**
 * Flushes a folder to disk, making the creation and renaming of its entries durable. Where
 * folders cannot be flushed (Windows, some file systems) this does nothing.
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, "r");
    await handle.sync();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (!["EISDIR", "EINVAL", "EPERM", "EACCES", "ENOTSUP", "EBADF"].includes(String(code))) throw storageError(dir, "flush", e);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Reads a file, or returns undefined when it does not exist. Other failures name the path. */
export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(path);
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOENT") return undefined;
    throw storageError(path, "read", e);
  }
}

/**
 * Removes temporary files left by writers that died mid-write (a crash can't be cleaned up by
 * the crashed process). Only files of other processes, or older than `minAgeMs`, are removed,
 * so a concurrent writer in this process is never disturbed. Returns the paths removed.
 */
export async function removeStaleTempFiles(dir: string, options: { minAgeMs?: number } = {}): Promise<string[]> {
  const removed: string[] = [];
  const minAge = options.minAgeMs ?? 60_000;
  const walk = async (d: string): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (isTempFile(entry.name)) {
        const pid = Number(/\.(\d+)-[0-9a-f]+\.tmp$/.exec(entry.name)?.[1]);
        let stale = pid !== process.pid && !processAlive(pid);
        if (!stale) {
          const st = await fsp.stat(p).catch(() => undefined);
          stale = st !== undefined && Date.now() - st.mtimeMs > minAge;
        }
        if (stale) {
          await fsp.rm(p, { force: true }).catch(() => undefined);
          removed.push(p);
        }
      }
    }
  };
  await walk(dir);
  return removed;
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === "EPERM";
  }
}
