// Real Redis and real worker processes for the queue tests: `crystallize worker` children (from
// dist/, built by the global setup), a fresh queue name per test, and cleanup. Redis is required:
// `requireRedis()` fails the suite with a clear message when 127.0.0.1:6379 does not answer.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { Queue } from "bullmq";

export const REDIS_URL = process.env.CRYSTALLIZE_REDIS ?? "redis://127.0.0.1:6379";
const bin = fileURLToPath(new URL("../../bin/crystallize.js", import.meta.url));

export async function requireRedis(): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    if ((await client.ping()) !== "PONG") throw new Error("no PONG");
  } catch (e) {
    throw new Error(`These tests need a real Redis at ${REDIS_URL} (start it with \`redis-server --daemonize yes\`; .ci/run does): ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    client.disconnect();
  }
}

let n = 0;
export const freshQueueName = () => `cry-test-${process.pid}-${Date.now()}-${++n}`;

export interface Workers {
  readonly dir: string;
  readonly children: ChildProcess[];
  /** True once stopAll() began (a supervisor must not replace the workers it stops). */
  readonly stopping: boolean;
  start(extra?: readonly string[], env?: Record<string, string>): Promise<ChildProcess>;
  /** Markers `work-<pid>-<condition>-<replicate>` written by the slow fixture. */
  markers(): string[];
  stopAll(): Promise<void>;
}

export function workers(queueName: string, baseArgs: readonly string[] = []): Workers {
  const dir = mkdtempSync(join(tmpdir(), "cry-queue-"));
  const children: ChildProcess[] = [];
  let stopping = false;
  return {
    dir,
    children,
    get stopping() {
      return stopping;
    },
    start(extra = [], env = {}) {
      if (stopping) return Promise.reject(new Error("the workers are being stopped"));
      const child = spawn(process.execPath, [bin, "worker", "--connection", REDIS_URL, "--queue", queueName, ...baseArgs, ...extra], {
        env: { ...process.env, CRY_QUEUE_DIR: dir, ...env },
        stdio: ["ignore", "ignore", "pipe"],
      });
      children.push(child);
      return new Promise((resolve, reject) => {
        let err = "";
        const onData = (d: Buffer) => {
          err += d.toString();
          if (err.includes("listening on queue")) {
            child.stderr!.off("data", onData);
            child.stderr!.resume();
            resolve(child);
          }
        };
        child.stderr!.on("data", onData);
        child.once("exit", (code) => reject(new Error(`worker exited (${code}) before listening: ${err}`)));
      });
    },
    markers: () => readdirSync(dir).filter((f) => f.startsWith("work-")),
    async stopAll() {
      stopping = true;
      await Promise.all(children.map((c) => new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once("exit", () => resolve());
        c.kill("SIGTERM");
        setTimeout(() => c.kill("SIGKILL"), 3000);
      })));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function obliterate(queueName: string): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const q = new Queue(queueName, { connection: client });
  await q.obliterate({ force: true }).catch(() => undefined);
  await q.close();
  client.disconnect();
}

export async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
