// Dispatch overhead of queue() (BullMQ on the local Redis, 2 `crystallize worker` processes)
// against parallel({ workers: 2 }) on the same trivial workload, in one run (build dist/ first:
// node scripts/build.mjs --js-only). A trivial task does almost nothing, so what is measured is
// the cost of getting a task to a worker and its outcome back: per task, over serial() in-thread.
// Needs Redis on 127.0.0.1:6379 (CRYSTALLIZE_REDIS to change); without it the bench says so.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const TASKS = Math.max(10, Number(process.env.BENCH_QUEUE_TASKS ?? 1000));
const REDIS = process.env.CRYSTALLIZE_REDIS ?? "redis://127.0.0.1:6379";
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1)} ms`;

const { trivial } = await import("./parallel-workload.mjs");
const { serial, parallel, queue } = await import("../dist/index.js");
const { Redis } = await import("ioredis");

const probe = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
probe.on("error", () => {});
try {
  await probe.connect();
  await probe.ping();
} catch {
  console.log(`queue bench skipped: no Redis at ${REDIS} (start it with redis-server --daemonize yes)`);
  process.exit(0);
} finally {
  probe.disconnect();
}

const queueName = `bench-${process.pid}`;
const bin = fileURLToPath(new URL("../bin/crystallize.js", import.meta.url));
const workers = await Promise.all([0, 1].map(() => new Promise((resolve, reject) => {
  const child = spawn(process.execPath, [bin, "worker", "--connection", REDIS, "--queue", queueName], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
    if (err.includes("listening on queue")) resolve(child);
  });
  child.once("exit", (code) => reject(new Error(`worker exited (${code}): ${err}`)));
})));

const noStorage = { name: "artifacts" };
async function time(execution) {
  const started = performance.now();
  const result = await trivial.run({ execution, replicates: TASKS, cache: false, progress: false, plugins: [noStorage] });
  return { ms: performance.now() - started, json: JSON.stringify(result.toJSON()) };
}

try {
  // Warm-up: both sides import the module and JIT the hot paths before the measured rounds.
  await time(queue({ connection: REDIS, queueName }));
  await time(parallel({ workers: 2 }));
  const r = { serial: [], parallel: [], queue: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const s = await time(serial());
    const p = await time(parallel({ workers: 2 }));
    const q = await time(queue({ connection: REDIS, queueName }));
    if (q.json !== s.json || p.json !== s.json) throw new Error("results differ between strategies");
    r.serial.push(s.ms);
    r.parallel.push(p.ms);
    r.queue.push(q.ms);
    console.log(`  round ${i + 1}: serial ${ms(s.ms)}, parallel(2) ${ms(p.ms)}, queue (2 worker processes) ${ms(q.ms)}`);
  }
  const [s, p, q] = [median(r.serial), median(r.parallel), median(r.queue)];
  const perTask = (x) => (x - s) / TASKS;
  console.log(
    `dispatch, ${TASKS} trivial tasks (median of ${ROUNDS}): serial ${ms(s)}, parallel(2) ${ms(p)} (${perTask(p).toFixed(3)} ms/task over serial), ` +
      `queue ${ms(q)} (${perTask(q).toFixed(3)} ms/task over serial); queue/parallel wall-time ratio ${(q / p).toFixed(2)}×, ` +
      `per-task overhead ratio ${(perTask(q) / Math.max(perTask(p), 1e-6)).toFixed(1)}×`,
  );
} finally {
  for (const w of workers) w.kill("SIGTERM");
  const { Queue } = await import("bullmq");
  const client = new Redis(REDIS, { maxRetriesPerRequest: null });
  const q = new Queue(queueName, { connection: client });
  await q.obliterate({ force: true }).catch(() => undefined);
  await q.close();
  client.disconnect();
  const { terminateIdleWorkers } = await import("../dist/plugins/execution/worker-pool.js");
  await terminateIdleWorkers();
}
