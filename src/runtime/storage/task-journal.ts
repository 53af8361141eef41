// The task journal of a version: `v<N>/tasks.jsonl`, one line per completed task, appended
// through one open file descriptor per run.
//
// A line is the task's completion marker. It is JSON (so `jq .task tasks.jsonl` works):
//
//   {"checksum":"crc32:<8 hex>","task":{...}}\n
//
// where the CRC-32 covers the UTF-8 bytes of the `{...}` after `"task":` exactly as they appear.
// Numbers JSON cannot hold are tagged as in checked JSON ({"$number":"NaN"}, {"$bigint":"12"}).
//
// Group commit: appended lines are queued and written in batches, one write() call per batch
// holding whole lines only. A batch goes out when the queue holds BATCH_BYTES, when the last
// write was BATCH_MS ago (so slow tasks are written at once), when the event loop next turns
// (setImmediate), and at close. Data handed to write() is in the kernel: a killed process cannot
// lose it. In durable mode every line is also fdatasync'd before `durable()` resolves; lines that
// complete while a sync is in flight share the next one.
//
// Reading: lines whose checksum holds are kept; a damaged line is reported and skipped; bytes
// after the last newline (a write torn by a crash) are reported and cut off before appending.
import { closeSync, fdatasync, openSync, ftruncateSync, writeSync } from "node:fs";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { StorageError } from "../../errors.js";
import { readFileIfExists, storageError } from "./atomic-write.js";
import { fromStorableJson } from "./checked-json.js";

export const JOURNAL_FILE = "tasks.jsonl";
/**
 * 2: a line's provenance records are without durationMs, which is in "durationsMs" (one per
 * record): the records' text is then the same as in result.json, so the store encodes it once.
 * Schema 1 lines (durationMs inside each record) are still read, and written for records with
 * fields the schema 2 encoding would not keep.
 */
export const JOURNAL_SCHEMA = 2;
export const JOURNAL_SCHEMA_V1 = 1;

/** Queued bytes (UTF-16 code units, close enough) that trigger a write. */
export const BATCH_BYTES = 256 * 1024;
/** A line waits at most this long for company before it is written. */
export const BATCH_MS = 20;

// --- CRC-32 (zlib's polynomial), native where Node has it -----------------------------------

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array | string, value?: number) => number }).crc32;
let table: Int32Array | undefined;
/** CRC-32 in JavaScript, for Node versions without zlib.crc32 (exported for tests). */
export function portableCrc32(bytes: Uint8Array): number {
  if (table === undefined) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** CRC-32 of `data` (a string: of its UTF-8 bytes). */
export function crc32(data: Uint8Array | string): number {
  if (typeof data === "string") data = Buffer.from(data, "utf8");
  // zlib's crc32 returns 0, not the initial value, for an empty view of an empty buffer: same here.
  if (data.byteLength === 0) return 0;
  return nativeCrc32 !== undefined ? nativeCrc32(data) >>> 0 : portableCrc32(data);
}

// --- Lines ----------------------------------------------------------------------------------

const PREFIX = '{"checksum":"crc32:';
const MIDDLE = '","task":';
const TASK_AT = PREFIX.length + 8 + MIDDLE.length;

function hex8(n: number): string {
  const s = n.toString(16);
  return s.length === 8 ? s : "00000000".slice(s.length) + s;
}

/** The journal line (with its newline) for a task whose JSON text is `taskJson`. */
export function journalLine(taskJson: string): string {
  return `${PREFIX}${hex8(crc32(taskJson))}${MIDDLE}${taskJson}}\n`;
}

const PREFIX_BYTES = Buffer.from(PREFIX, "latin1");
const MIDDLE_BYTES = Buffer.from(MIDDLE, "latin1");
const CLOSE = 0x7d; // "}"
const NEWLINE = 0x0a;

/**
 * Checks one line (its bytes, without the newline): the task's JSON bytes, or why the line is
 * not whole.
 */
export function checkJournalLine(line: Uint8Array): { task: Uint8Array } | { problem: string } {
  const b = Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  if (
    b.length < TASK_AT + 1 ||
    !b.subarray(0, PREFIX.length).equals(PREFIX_BYTES) ||
    !b.subarray(PREFIX.length + 8, TASK_AT).equals(MIDDLE_BYTES) ||
    b[b.length - 1] !== CLOSE
  ) {
    return { problem: "it is not a journal line" };
  }
  const sum = b.toString("latin1", PREFIX.length, PREFIX.length + 8);
  const task = b.subarray(TASK_AT, b.length - 1);
  if (!/^[0-9a-f]{8}$/.test(sum) || parseInt(sum, 16) !== crc32(task)) return { problem: "its checksum does not match its contents" };
  return { task };
}

/** An artifact file of a journaled task. `path` is relative to the version folder, with "/". */
export interface JournalArtifact {
  readonly artifact: string;
  readonly step: string;
  readonly codec: string;
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** What a journal line holds. */
export interface JournalTask {
  readonly schema: number;
  readonly condition: string;
  readonly replicate: number;
  readonly status: "ok";
  readonly seed: number;
  /** The run (session) that completed the task. */
  readonly runId: string;
  readonly metrics: Readonly<Record<string, readonly number[]>>;
  readonly provenance: readonly unknown[];
  readonly artifacts: readonly JournalArtifact[];
}

function taskProblem(t: Record<string, unknown>): string | undefined {
  if (t.schema !== JOURNAL_SCHEMA && t.schema !== JOURNAL_SCHEMA_V1) return `its schema is ${String(t.schema)}, not ${JOURNAL_SCHEMA} or ${JOURNAL_SCHEMA_V1}`;
  if (t.schema === JOURNAL_SCHEMA) {
    const d = t.durationsMs;
    if (!Array.isArray(d) || !Array.isArray(t.provenance) || d.length !== t.provenance.length || d.some((x) => typeof x !== "number")) {
      return "its step durations do not match its provenance";
    }
    if ((t.provenance as unknown[]).some((p) => p === null || typeof p !== "object" || Array.isArray(p))) return "a provenance record is not an object";
  }
  if (typeof t.condition !== "string" || !Number.isInteger(t.replicate) || (t.replicate as number) < 0) return "it names no task";
  if (t.status !== "ok") return `its status is ${String(t.status)}`;
  if (typeof t.seed !== "number" || typeof t.metrics !== "object" || t.metrics === null || !Array.isArray(t.provenance)) {
    return "it lacks the task's seed, metrics or provenance";
  }
  if (!Array.isArray(t.artifacts)) return "it lacks the task's artifacts";
  for (const a of t.artifacts as unknown[]) {
    const r = a as Partial<JournalArtifact> | null;
    if (
      r === null ||
      typeof r !== "object" ||
      typeof r.artifact !== "string" ||
      typeof r.step !== "string" ||
      typeof r.path !== "string" ||
      typeof r.bytes !== "number" ||
      typeof r.sha256 !== "string"
    ) {
      return "an artifact record is incomplete";
    }
  }
  return undefined;
}

/** A checked line's task, its records holding their durationMs whatever the line's schema. */
function asTask(t: Record<string, unknown>): JournalTask {
  if (t.schema !== JOURNAL_SCHEMA) return t as unknown as JournalTask;
  const { durationsMs, provenance, ...rest } = t as { durationsMs: number[]; provenance: Array<Record<string, unknown>> };
  return { ...(rest as unknown as JournalTask), provenance: provenance.map((p, i) => ({ ...p, durationMs: durationsMs[i] })) };
}

export interface ParsedJournal {
  /** Tasks whose line is whole, in file order (a later line for the same task supersedes). */
  readonly tasks: readonly JournalTask[];
  /** Damaged lines (1-based line numbers), skipped. */
  readonly damaged: ReadonlyArray<{ readonly line: number; readonly problem: string }>;
  /** Bytes up to and including the last newline. */
  readonly wholeBytes: number;
  /** Bytes after the last newline: a line whose write was cut short. */
  readonly tornBytes: number;
}

export function parseJournal(bytes: Uint8Array): ParsedJournal {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wholeBytes = buf.lastIndexOf(NEWLINE) + 1;
  const tasks: JournalTask[] = [];
  const damaged: Array<{ line: number; problem: string }> = [];
  let start = 0;
  for (let n = 1; start < wholeBytes; n++) {
    const end = buf.indexOf(NEWLINE, start);
    const checked = checkJournalLine(buf.subarray(start, end));
    start = end + 1;
    if ("problem" in checked) {
      damaged.push({ line: n, problem: checked.problem });
      continue;
    }
    let task: unknown;
    try {
      task = fromStorableJson(Buffer.from(checked.task.buffer, checked.task.byteOffset, checked.task.byteLength).toString("utf8"));
    } catch (e) {
      damaged.push({ line: n, problem: `it is not valid JSON (${(e as Error).message})` });
      continue;
    }
    const problem =
      task !== null && typeof task === "object" && !Array.isArray(task) ? taskProblem(task as Record<string, unknown>) : "it is not an object";
    if (problem !== undefined) damaged.push({ line: n, problem });
    else tasks.push(asTask(task as Record<string, unknown>));
  }
  return { tasks, damaged, wholeBytes, tornBytes: buf.length - wholeBytes };
}

/** Reads and checks a journal; undefined when it does not exist. */
export async function readJournal(path: string): Promise<ParsedJournal | undefined> {
  const bytes = await readFileIfExists(path);
  return bytes === undefined ? undefined : parseJournal(bytes);
}

// --- Appending ------------------------------------------------------------------------------

const datasync = promisify(fdatasync);

export interface JournalWriterOptions {
  /** fdatasync every line before `durable()` resolves (group-committed). */
  readonly durable: boolean;
  /** Cut the file to this many bytes first (drops a torn last line before appending). */
  readonly truncateTo?: number;
  /** Write at once when the last write is this old (default BATCH_MS). */
  readonly maxDelayMs?: number;
}

const INITIAL_BUFFER = 64 * 1024;
const PREFIX_TEMPLATE = `${PREFIX}00000000${MIDDLE}`;

/**
 * Appends task lines to a journal through one file descriptor. Lines are encoded straight into a
 * batch buffer (the checksum computed over the bytes written), and the batch goes to the file
 * with one write() call. Not for two writers at once.
 */
export class JournalWriter {
  private fd: number | undefined;
  private buf = Buffer.allocUnsafe(INITIAL_BUFFER);
  private used = 0;
  private lastWrite = performance.now();
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private error: StorageError | undefined;
  private appended = 0;
  private written = 0;
  private synced = 0;
  private syncing: Promise<void> | undefined;
  private readonly flushSoon = () => {
    this.immediate = undefined;
    try {
      this.flush();
    } catch {
      // Kept in this.error; the next append, durable() or close() reports it.
    }
  };

  private constructor(
    readonly path: string,
    fd: number,
    private readonly durableMode: boolean,
    private readonly maxDelayMs: number,
  ) {
    this.fd = fd;
  }

  static open(path: string, options: JournalWriterOptions): JournalWriter {
    let fd: number;
    try {
      fd = openSync(path, "a");
    } catch (e) {
      throw storageError(path, "open", e);
    }
    if (options.truncateTo !== undefined) {
      try {
        ftruncateSync(fd, options.truncateTo);
      } catch (e) {
        closeSync(fd);
        throw storageError(path, "truncate", e);
      }
    }
    return new JournalWriter(path, fd, options.durable, options.maxDelayMs ?? BATCH_MS);
  }

  /**
   * Queues the line of a task whose JSON text is `taskJson` (see journalLine); returns its
   * sequence number for durable().
   */
  append(taskJson: string): number {
    if (this.error !== undefined) throw this.error;
    if (this.fd === undefined) throw new StorageError(this.path, `The journal "${this.path}" is closed.`);
    // At most 3 UTF-8 bytes per UTF-16 code unit.
    const room = TASK_AT + 3 * taskJson.length + 2;
    if (this.used + room > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.used + room));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    const buf = this.buf;
    const start = this.used;
    buf.write(PREFIX_TEMPLATE, start, "latin1");
    const n = buf.write(taskJson, start + TASK_AT, "utf8");
    const end = start + TASK_AT + n;
    buf.write(hex8(crc32(buf.subarray(start + TASK_AT, end))), start + PREFIX.length, "latin1");
    buf[end] = CLOSE;
    buf[end + 1] = NEWLINE;
    this.used = end + 2;
    const seq = ++this.appended;
    if (this.durableMode) return seq; // durable() writes it, with whatever else is queued by then
    if (this.used >= BATCH_BYTES || performance.now() - this.lastWrite >= this.maxDelayMs) this.flush();
    else this.immediate ??= setImmediate(this.flushSoon);
    return seq;
  }

  /** Writes every queued line with one write() call (more only if the kernel takes part of it). */
  flush(): void {
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.error !== undefined) throw this.error;
    if (this.used === 0 || this.fd === undefined) return;
    const upto = this.appended;
    const length = this.used;
    this.used = 0;
    try {
      let offset = 0;
      while (offset < length) offset += writeSync(this.fd, this.buf, offset, length - offset);
    } catch (e) {
      // Part of the batch may be in the file: stop appending (a resume cuts a torn line off).
      this.error = storageError(this.path, "append to", e);
      throw this.error;
    } finally {
      if (this.buf.length > 4 * BATCH_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BUFFER);
    }
    this.written = upto;
    this.lastWrite = performance.now();
  }

  /** Resolves once line `seq` (and every line before it) is written and flushed to disk. */
  async durable(seq: number): Promise<void> {
    while (this.synced < seq) {
      if (this.error !== undefined) throw this.error;
      this.syncing ??= this.syncNow().finally(() => {
        this.syncing = undefined;
      });
      await this.syncing;
    }
  }

  private async syncNow(): Promise<void> {
    this.flush();
    const upto = this.written;
    if (this.fd === undefined) throw new StorageError(this.path, `The journal "${this.path}" is closed.`);
    try {
      await datasync(this.fd);
    } catch (e) {
      this.error = storageError(this.path, "flush", e);
      throw this.error;
    }
    if (upto > this.synced) this.synced = upto;
  }

  /** Writes what is queued, optionally flushes the file to disk, and closes it. Idempotent. */
  async close(sync: boolean): Promise<void> {
    if (this.fd === undefined) {
      if (this.error !== undefined) throw this.error;
      return;
    }
    try {
      this.flush();
      if (this.syncing !== undefined) await this.syncing;
      if (sync && this.synced < this.written) await this.durable(this.written);
    } catch {
      // Reported below.
    } finally {
      const fd = this.fd;
      this.fd = undefined;
      try {
        closeSync(fd);
      } catch (e) {
        this.error ??= storageError(this.path, "close", e);
      }
    }
    if (this.error !== undefined) throw this.error;
  }
}
