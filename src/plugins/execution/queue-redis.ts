// Redis clients for the queue strategy and its workers. BullMQ 6 has ioredis as an optional peer and
// cannot `require` it from ES modules, so clients are built here and handed to BullMQ. Both are
// loaded lazily: a run that never uses queue() never loads them.
import type { Redis, RedisOptions } from "ioredis";
import type { QueueConnection } from "./queue-protocol.js";
import { queueError } from "./queue-protocol.js";

export type BullMQ = typeof import("bullmq");

export async function loadBullMQ(): Promise<BullMQ> {
  try {
    return await import("bullmq");
  } catch (e) {
    throw queueError(`queue(): could not load bullmq (npm install bullmq ioredis): ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

/**
 * A new client. BullMQ requires `maxRetriesPerRequest: null` for blocking connections (workers,
 * queue events); commands then wait for a reconnect instead of failing, which suits all our uses.
 */
export async function connect(connection: QueueConnection): Promise<Redis> {
  const { Redis: IORedis } = await import("ioredis");
  const base: RedisOptions = { maxRetriesPerRequest: null, lazyConnect: false };
  const client = typeof connection === "string" ? new IORedis(connection, base) : new IORedis({ ...connection, ...base });
  // ioredis reports connection errors as events (and keeps retrying); without a listener they crash.
  client.on("error", () => {});
  return client;
}

/** Resolves once the client answers, or rejects with an E_QUEUE error naming the address. */
export async function ping(client: Redis, connection: QueueConnection, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.ping(), timeout]);
  } catch (e) {
    client.disconnect();
    throw queueError(`queue(): cannot reach Redis at ${describe(connection)}: ${e instanceof Error ? e.message : String(e)}`, e);
  } finally {
    clearTimeout(timer);
  }
}

export function describe(connection: QueueConnection): string {
  if (typeof connection === "string") return connection.replace(/\/\/[^@/]*@/, "//***@");
  return `${connection.host ?? "127.0.0.1"}:${connection.port ?? 6379}`;
}
