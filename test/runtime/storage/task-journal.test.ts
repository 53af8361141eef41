import * as fsp from "node:fs/promises";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../../../src/errors.js";
import {
  BATCH_BYTES,
  JOURNAL_SCHEMA,
  JOURNAL_SCHEMA_V1,
  JournalWriter,
  checkJournalLine,
  crc32,
  journalLine,
  parseJournal,
  portableCrc32,
} from "../../../src/runtime/storage/task-journal.js";
import { toStorableJson } from "../../../src/runtime/storage/checked-json.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cry-journal-"));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const task = (replicate: number, over: Record<string, unknown> = {}) =>
  toStorableJson({
    schema: JOURNAL_SCHEMA_V1,
    condition: "baseline",
    replicate,
    status: "ok",
    seed: 7 + replicate,
    runId: "r",
    metrics: { m: [replicate, NaN, -0] },
    provenance: [{ step: "s", stepHash: "h", params: {}, cacheHit: false, durationMs: 0.5, ctx: { reads: [], wrote: [] }, metrics: {} }],
    artifacts: [],
    ...over,
  });

const nextTurn = () => new Promise((r) => setImmediate(r));

describe("CRC-32", () => {
  it("is zlib's (check value of '123456789'), natively and in JavaScript, over UTF-8", () => {
    expect(crc32("123456789")).toBe(0xcbf43926);
    expect(portableCrc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(crc32(s)).toBe(portableCrc32(Buffer.from(s, "utf8")));
        expect(crc32(s)).toBe(crc32(Buffer.from(s, "utf8")));
      }),
    );
  });
});

describe("journal lines", () => {
  it("are JSON objects whose checksum covers the task's text; any change is detected", () => {
    const text = task(3);
    const line = journalLine(text);
    expect(line.endsWith("}\n")).toBe(true);
    expect(JSON.parse(line)).toMatchObject({ checksum: expect.stringMatching(/^crc32:[0-9a-f]{8}$/), task: { replicate: 3 } });
    const bytes = Buffer.from(line.slice(0, -1));
    expect(checkJournalLine(bytes)).toEqual({ task: Buffer.from(text) });
    expect(checkJournalLine(Buffer.from(line.slice(0, -1).replace('"seed":10', '"seed":11')))).toEqual({ problem: expect.stringMatching(/checksum/) });
    expect(checkJournalLine(bytes.subarray(0, bytes.length - 3))).toEqual({ problem: expect.stringMatching(/not a journal line/) });
    expect(checkJournalLine(Buffer.from('{"a":1}'))).toEqual({ problem: expect.stringMatching(/not a journal line/) });
  });

  it("parse back whole lines, report damaged ones, and measure a torn tail", () => {
    const lines = [journalLine(task(0)), journalLine(task(1)).replace('"seed":8', '"seed":9'), journalLine(task(2))];
    const torn = journalLine(task(3)).slice(0, 40);
    const parsed = parseJournal(Buffer.from(lines.join("") + torn));
    expect(parsed.tasks.map((t) => t.replicate)).toEqual([0, 2]);
    expect(parsed.tasks[0]!.metrics.m).toEqual([0, NaN, -0]);
    expect(Object.is(parsed.tasks[0]!.metrics.m![2], -0)).toBe(true);
    expect(parsed.damaged).toEqual([{ line: 2, problem: expect.stringMatching(/checksum/) }]);
    expect(parsed.tornBytes).toBe(Buffer.byteLength(torn));
    expect(parsed.wholeBytes).toBe(Buffer.byteLength(lines.join("")));
    // Garbage (e.g. zeros a power failure left) is a damaged line, not a crash.
    const zeros = parseJournal(Buffer.concat([Buffer.alloc(10), Buffer.from("\n" + lines[0])]));
    expect(zeros.tasks).toHaveLength(1);
    expect(zeros.damaged).toHaveLength(1);
    expect(parseJournal(Buffer.alloc(0))).toEqual({ tasks: [], damaged: [], wholeBytes: 0, tornBytes: 0 });
  });

  it("read schema 2 lines (durations beside the records) as tasks whose records hold their durationMs; refuse durations that do not match", () => {
    const v2 = (over: Record<string, unknown> = {}) =>
      toStorableJson({
        schema: JOURNAL_SCHEMA,
        condition: "plus",
        replicate: 1,
        status: "ok",
        seed: 8,
        runId: "r",
        metrics: { m: [1] },
        provenance: [
          { step: "s", stepHash: "h", params: { p: -0 }, cacheHit: false, ctx: { reads: [], wrote: [] }, metrics: {} },
          { step: "t", stepHash: "g", params: {}, cacheHit: true, inputHash: "ih", ctx: { reads: ["x"], wrote: [] }, metrics: { m: [1] } },
        ],
        durationsMs: [0.25, NaN],
        artifacts: [],
        ...over,
      });
    const parsed = parseJournal(Buffer.from(journalLine(v2()) + journalLine(v2({ durationsMs: [1] })) + journalLine(v2({ durationsMs: [1, "2"] }))));
    expect(parsed.tasks).toHaveLength(1);
    const [t] = parsed.tasks;
    expect(t).not.toHaveProperty("durationsMs");
    expect(t!.provenance).toEqual([
      { step: "s", stepHash: "h", params: { p: -0 }, cacheHit: false, durationMs: 0.25, ctx: { reads: [], wrote: [] }, metrics: {} },
      { step: "t", stepHash: "g", params: {}, cacheHit: true, inputHash: "ih", durationMs: NaN, ctx: { reads: ["x"], wrote: [] }, metrics: { m: [1] } },
    ]);
    expect(Object.is((t!.provenance[0] as { params: { p: number } }).params.p, -0)).toBe(true);
    expect(parsed.damaged.map((d) => d.line)).toEqual([2, 3]);
    expect(parsed.damaged[0]!.problem).toMatch(/durations/);
  });

  it("refuse a whole line that is not a task of this schema", () => {
    const parsed = parseJournal(Buffer.from(journalLine(task(0, { schema: 99 })) + journalLine(task(1, { artifacts: [{ artifact: "a" }] }))));
    expect(parsed.tasks).toEqual([]);
    expect(parsed.damaged.map((d) => d.problem)).toEqual([expect.stringMatching(/schema/), expect.stringMatching(/artifact record/)]);
  });

  it("round-trip any task text, including non-ASCII and lone surrogates (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" }), { maxLength: 5 }), (names) => {
        const text = task(1, { runId: names.join("\u2028") });
        const parsed = parseJournal(Buffer.from(journalLine(text)));
        expect(parsed.damaged).toEqual([]);
        expect(parsed.tasks[0]!.runId).toBe(names.join("\u2028"));
      }),
    );
  });
});

describe("JournalWriter", () => {
  it("queues lines and writes them in one batch when the event loop turns", async () => {
    const path = join(dir, "tasks.jsonl");
    const w = JournalWriter.open(path, { durable: false, maxDelayMs: Infinity });
    for (let r = 0; r < 5; r++) w.append(task(r));
    expect(readFileSync(path, "utf8")).toBe("");
    await nextTurn();
    expect(parseJournal(readFileSync(path)).tasks.map((t) => t.replicate)).toEqual([0, 1, 2, 3, 4]);
    w.append(task(5));
    await w.close(true);
    expect(parseJournal(readFileSync(path)).tasks).toHaveLength(6);
    expect(() => w.append(task(6))).toThrow(StorageError);
  });

  it("writes without waiting for the event loop once a batch is full (a run that never yields)", async () => {
    const path = join(dir, "tasks.jsonl");
    const w = JournalWriter.open(path, { durable: false, maxDelayMs: Infinity });
    const big = task(0, { runId: "x".repeat(4096) });
    let r = 0;
    while (r * big.length < 2 * BATCH_BYTES) {
      w.append(big);
      r++;
    }
    const before = readFileSync(path);
    expect(before.length).toBeGreaterThan(BATCH_BYTES);
    // Whole lines only.
    expect(before[before.length - 1]).toBe(0x0a);
    expect(parseJournal(before).damaged).toEqual([]);
    await w.close(false);
    expect(parseJournal(readFileSync(path)).tasks).toHaveLength(r);
  });

  it("writes at once when the last write is older than maxDelayMs (tasks slower than that are written as they end)", async () => {
    const path = join(dir, "tasks.jsonl");
    const w = JournalWriter.open(path, { durable: false, maxDelayMs: 5 });
    const until = performance.now() + 10;
    while (performance.now() < until); // a task that takes 10 ms, without yielding
    w.append(task(0));
    expect(parseJournal(readFileSync(path)).tasks).toHaveLength(1);
    await w.close(false);
  });

  it("durable mode: a line is in the file (and flushed) when durable() resolves; concurrent lines share a flush", async () => {
    const path = join(dir, "tasks.jsonl");
    const w = JournalWriter.open(path, { durable: true });
    const seq = w.append(task(0));
    expect(readFileSync(path, "utf8")).toBe("");
    await w.durable(seq);
    expect(parseJournal(readFileSync(path)).tasks).toHaveLength(1);
    const seqs = [1, 2, 3].map((r) => w.append(task(r)));
    await Promise.all(seqs.map((s) => w.durable(s)));
    expect(parseJournal(readFileSync(path)).tasks.map((t) => t.replicate)).toEqual([0, 1, 2, 3]);
    await w.close(true);
  });

  it("cuts a torn last line off before appending", async () => {
    const path = join(dir, "tasks.jsonl");
    writeFileSync(path, journalLine(task(0)));
    appendFileSync(path, journalLine(task(1)).slice(0, 25));
    const parsed = parseJournal(readFileSync(path));
    const w = JournalWriter.open(path, { durable: false, truncateTo: parsed.wholeBytes });
    w.append(task(2));
    await w.close(true);
    const after = parseJournal(readFileSync(path));
    expect(after.tasks.map((t) => t.replicate)).toEqual([0, 2]);
    expect(after.damaged).toEqual([]);
    expect(after.tornBytes).toBe(0);
  });

  it.runIf(existsSync("/dev/full"))("a failed write (disk full) is reported by the next append and by close, naming the journal", async () => {
    const w = JournalWriter.open("/dev/full", { durable: false });
    w.append(task(0));
    await nextTurn();
    const next = (() => {
      try {
        w.append(task(1));
      } catch (e) {
        return e;
      }
    })();
    expect(next).toBeInstanceOf(StorageError);
    expect((next as Error).message).toMatch(/disk is full/);
    const err = await w.close(true).catch((e: unknown) => e);
    expect(err).toBe(next);
    expect((err as StorageError).path).toBe("/dev/full");
  });
});
