import { execFileSync } from "node:child_process";
import * as fsp from "node:fs/promises";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../../../src/errors.js";
import {
  isTempFile,
  readFileIfExists,
  removeStaleTempFiles,
  stageFileAtomic,
  syncDirectory,
  tempPathFor,
  writeFileAtomic,
  writeFileAtomicSync,
  type AtomicFs,
} from "../../../src/runtime/storage/atomic-write.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cry-atomic-"));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Real fs calls, except that writes fail with `code` after `okBytes` bytes have been written. */
function faultyFs(code: string, okBytes: number): AtomicFs {
  return {
    mkdir: (p, o) => fsp.mkdir(p, o),
    rename: (a, b) => fsp.rename(a, b),
    rm: (p, o) => fsp.rm(p, o),
    async open(p, flags) {
      const h = await fsp.open(p, flags);
      let written = 0;
      return {
        async write(data, offset, length) {
          const room = okBytes - written;
          if (room <= 0) throw Object.assign(new Error(`${code}: simulated`), { code });
          const n = Math.min(room, length);
          const r = await h.write(data, offset, n);
          written += r.bytesWritten;
          return r;
        },
        sync: () => h.sync(),
        close: () => h.close(),
      };
    },
  };
}

describe("writeFileAtomic", () => {
  it("writes, overwrites and creates missing folders, leaving no temporary file", async () => {
    const p = join(dir, "a", "b", "file.bin");
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(p)]).toEqual([1, 2, 3]);
    await writeFileAtomic(p, "hello");
    expect(readFileSync(p, "utf8")).toBe("hello");
    expect(readdirSync(join(dir, "a", "b"))).toEqual(["file.bin"]);
  });

  it("on a full disk mid-write: names the path, keeps the old file, leaves no partial file", async () => {
    const p = join(dir, "results.json");
    writeFileSync(p, "old");
    const err = await writeFileAtomic(p, Buffer.alloc(10_000, 7), { fs: faultyFs("ENOSPC", 4096) }).catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).path).toBe(p);
    expect((err as Error).message).toContain(p);
    expect((err as Error).message).toMatch(/disk is full/);
    expect(readFileSync(p, "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["results.json"]);
  });

  it("on a read-only file system: names the path and leaves nothing behind", async () => {
    const ro: AtomicFs = {
      ...faultyFs("EROFS", 0),
      open: async () => {
        throw Object.assign(new Error("EROFS: read-only file system"), { code: "EROFS" });
      },
    };
    const p = join(dir, "x", "model.json");
    const err = await writeFileAtomic(p, "{}", { fs: ro }).catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain(p);
    expect((err as Error).message).toMatch(/read-only/);
    expect(readdirSync(join(dir, "x"))).toEqual([]);
  });

  it("reports a real failure (a parent that is a file) naming the path", async () => {
    writeFileSync(join(dir, "file"), "");
    const p = join(dir, "file", "child.json");
    const err = await writeFileAtomic(p, "{}").catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).path).toBe(p);
    expect((err as Error).message).toMatch(/not a folder|in the way/);
  });

  it("on a real, full tmpfs (where mounting is allowed) or a simulated one: no partial file", async () => {
    const mnt = join(dir, "small");
    await fsp.mkdir(mnt);
    let mounted = false;
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt], { stdio: "ignore" });
      mounted = true;
    } catch {
      // Not permitted here: the simulated disk below behaves the same way.
    }
    try {
      const p = join(mnt, "big.bin");
      const err = await writeFileAtomic(p, Buffer.alloc(256 * 1024, 1), mounted ? {} : { fs: faultyFs("ENOSPC", 65536) }).catch((e) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as Error).message).toContain(p);
      expect((err as Error).message).toMatch(/disk is full|quota/);
      expect(readdirSync(mnt)).toEqual([]);
    } finally {
      if (mounted) execFileSync("umount", [mnt]);
    }
  });

  it("many concurrent writers of one path leave one whole file", async () => {
    const p = join(dir, "same.bin");
    const contents = Array.from({ length: 20 }, (_, i) => Buffer.alloc(50_000 + i, i));
    await Promise.all(contents.map((c) => writeFileAtomic(p, c, { fsync: false })));
    const final = readFileSync(p);
    expect(contents.some((c) => c.equals(final))).toBe(true);
    expect(readdirSync(dir)).toEqual(["same.bin"]);
  });
});

describe("temporary files", () => {
  it("are recognisable, and stale ones (dead writer) are swept while live ones stay", async () => {
    const t = tempPathFor(join(dir, "m.json"));
    expect(isTempFile(t)).toBe(true);
    expect(isTempFile(join(dir, "m.json"))).toBe(false);
    expect(isTempFile("model.tmp")).toBe(false);
    await fsp.mkdir(join(dir, "sub"));
    const dead = join(dir, "sub", ".m.json.999999999-abc123.tmp");
    writeFileSync(dead, "partial");
    writeFileSync(t, "mine, in progress");
    const removed = await removeStaleTempFiles(dir);
    expect(removed).toEqual([dead]);
    expect(readdirSync(dir).sort()).toEqual([t.slice(dir.length + 1), "sub"].sort());
  });

  it("readFileIfExists returns undefined for a missing file", async () => {
    expect(await readFileIfExists(join(dir, "nope"))).toBeUndefined();
    writeFileSync(join(dir, "yes"), "1");
    expect((await readFileIfExists(join(dir, "yes")))?.toString()).toBe("1");
  });
});

describe("staged writes and folder flushes", () => {
  it("stageFileAtomic leaves the old contents until commit; discard removes the temporary file", async () => {
    const p = join(dir, "metadata.json");
    writeFileSync(p, "old");
    const staged = await stageFileAtomic(p, "new", { fsync: true });
    expect(readFileSync(p, "utf8")).toBe("old");
    expect(readdirSync(dir).filter((f) => isTempFile(f))).toHaveLength(1);
    await staged.commit();
    expect(readFileSync(p, "utf8")).toBe("new");
    const dropped = await stageFileAtomic(p, "newer", { fsync: false });
    await dropped.discard();
    await dropped.commit(); // settled: does nothing
    expect(readFileSync(p, "utf8")).toBe("new");
    expect(readdirSync(dir)).toEqual(["metadata.json"]);
  });

  it("syncDirectory flushes a folder, and names a folder it cannot open", async () => {
    await syncDirectory(dir);
    const err = await syncDirectory(join(dir, "missing")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).path).toBe(join(dir, "missing"));
  });
});

describe("writeFileAtomicSync", () => {
  it("writes atomically like writeFileAtomic, and on failure names the path and leaves no temporary file", () => {
    const p = join(dir, "sub", "results.json");
    writeFileAtomicSync(p, "one", { fsync: false });
    writeFileAtomicSync(p, new TextEncoder().encode("two"), { fsync: true });
    expect(readFileSync(p, "utf8")).toBe("two");
    expect(readdirSync(join(dir, "sub"))).toEqual(["results.json"]);
    writeFileSync(join(dir, "file"), "in the way");
    const target = join(dir, "file", "x.json");
    let err: unknown;
    try {
      writeFileAtomicSync(target, "x");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).path).toBe(target);
    expect((err as Error).message).toMatch(/not a folder|a file is in the way/);
    // A write that fails after the temporary file exists (the target is a folder) removes it.
    const folder = join(dir, "folder.json");
    mkdirSync(folder);
    expect(() => writeFileAtomicSync(folder, "x", { fsync: false })).toThrow(StorageError);
    expect(readdirSync(dir).filter((f) => isTempFile(f))).toEqual([]);
  });
});
