// A bundle (one self-contained file, run from a folder with no node_modules) in its distributed
// modes: indexed array jobs (--task-index i per "container", then --collect) and queue workers
// (--worker) against the REAL Redis at 127.0.0.1:6379. Results must equal the bundle's own serial run.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDIS_URL, freshQueueName, obliterate, requireRedis } from "./queue-helpers.js";
import { fixtureProject } from "../fixture-project.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const basic = fixtureProject("basic");
let tmp: string;
let bundle: string;
let lean: string;
let serialJson: string;
let replicates: number;

function node(args: string[]) {
  const r = spawnSync(process.execPath, [bundle, ...args], { cwd: tmp, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "cry-queue-bundle-"));
  bundle = join(tmp, "demo.mjs");
  const b = spawnSync(process.execPath, [join(repo, "bin/crystallize.js"), "bundle", "demo", "--project", basic, "-o", bundle, "--with-queue"], { encoding: "utf8" });
  expect(b.status, b.stderr).toBe(0);
  // A bundle built without --with-queue leaves the queue client out, and says how to get it.
  lean = join(tmp, "lean.mjs");
  const l = spawnSync(process.execPath, [join(repo, "bin/crystallize.js"), "bundle", "demo", "--project", basic, "-o", lean], { encoding: "utf8" });
  expect(l.status, l.stderr).toBe(0);
  const s = node(["--json", "--out", join(tmp, "serial")]);
  expect(s.code, s.stderr).toBe(0);
  serialJson = s.stdout;
  replicates = (JSON.parse(serialJson) as { replicates: number }).replicates;
  expect(replicates).toBeGreaterThan(1);
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("a bundle without --with-queue", () => {
  it("is smaller, runs serially, and refuses --worker naming the flag that includes the queue client", () => {
    expect(statSync(lean).size).toBeLessThan(statSync(bundle).size - 500_000);
    const serial = spawnSync(process.execPath, [lean, "--json", "--out", join(tmp, "lean-serial")], { cwd: tmp, encoding: "utf8", timeout: 60_000 });
    expect(serial.status, serial.stderr).toBe(0);
    expect(JSON.parse(serial.stdout).metrics).toEqual(JSON.parse(serialJson).metrics);
    const w = spawnSync(process.execPath, [lean, "--worker", "--queue", "lean-never", "--connection", REDIS_URL], { cwd: tmp, encoding: "utf8", timeout: 60_000 });
    expect(w.status).not.toBe(0);
    expect(w.stderr).toMatch(/built without the queue client[\s\S]*--with-queue/);
  });
});

describe("bundle --task-index / --collect (indexed array jobs, no Redis)", () => {
  it("one process per replicate, then --collect: the same toJSON() as the serial run", () => {
    const out = join(tmp, "array");
    const shards = join(tmp, "shared-shards");
    // The last container runs first: order must not matter.
    for (let i = replicates - 1; i >= 0; i--) {
      const r = node(["--task-index", String(i), "--out", join(tmp, `container-${i}`), "--shards", shards]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`replicate ${i}: 2 task(s) written`);
    }
    const c = node(["--collect", "--json", "--out", out, "--shards", shards]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe(serialJson);
  });

  it("--collect names the replicates whose shards are missing; an index beyond the replicates is refused", () => {
    const shards = join(tmp, "partial-shards");
    expect(node(["--task-index", "0", "--shards", shards]).code).toBe(0);
    const c = node(["--collect", "--shards", shards]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/E_ARRAY_MISSING.*replicates 1, 2/);
    const big = node(["--task-index", String(replicates), "--shards", shards]);
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/E_ARRAY_INDEX.*out of range/);
  });
});

describe("bundle --worker with real Redis (127.0.0.1:6379)", () => {
  beforeAll(requireRedis);

  it("two bundle workers serve a --queue run of the bundle: the same toJSON() as the serial run", async () => {
    const queueName = freshQueueName();
    const children = [0, 1].map(() => spawn(process.execPath, [bundle, "--worker", "--queue", queueName, "--connection", REDIS_URL], { cwd: tmp, stdio: ["ignore", "ignore", "pipe"] }));
    try {
      await Promise.all(children.map((c) => new Promise<void>((resolve, reject) => {
        let err = "";
        c.stderr!.on("data", (d: Buffer) => {
          err += d.toString();
          if (err.includes("listening on queue")) resolve();
        });
        c.once("exit", (code) => reject(new Error(`bundle worker exited (${code}): ${err}`)));
      })));
      const q = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const main = spawn(process.execPath, [bundle, "--queue", queueName, "--connection", REDIS_URL, "--json", "--out", join(tmp, "queued")], { cwd: tmp });
        let stdout = "";
        main.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        main.once("exit", (code) => resolve({ code, stdout }));
      });
      expect(q.code).toBe(0);
      expect(q.stdout).toBe(serialJson);
    } finally {
      for (const c of children) c.kill("SIGTERM");
      await obliterate(queueName);
    }
  });

  it("`crystallize worker --project` runs the experiment from its own compiled project for a run started elsewhere", async () => {
    const queueName = freshQueueName();
    // The main process is the bundle (its address is the bundle file); the worker compiles the
    // project and takes the experiment from its runner, as a worker on another machine would.
    const worker = spawn(process.execPath, [join(repo, "bin/crystallize.js"), "worker", "--project", basic, "--queue", queueName, "--connection", REDIS_URL], { cwd: repo, stdio: ["ignore", "ignore", "pipe"] });
    try {
      await new Promise<void>((resolve, reject) => {
        let err = "";
        worker.stderr!.on("data", (d: Buffer) => {
          err += d.toString();
          if (err.includes("listening on queue")) resolve();
        });
        worker.once("exit", (code) => reject(new Error(`worker exited (${code}): ${err}`)));
      });
      const q = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const main = spawn(process.execPath, [bundle, "--queue", queueName, "--connection", REDIS_URL, "--json", "--out", join(tmp, "from-project")], { cwd: tmp });
        let stdout = "";
        let stderr = "";
        main.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        main.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        main.once("exit", (code) => resolve({ code, stdout, stderr }));
      });
      expect(q.code, q.stderr).toBe(0);
      expect(q.stdout).toBe(serialJson);
    } finally {
      worker.kill("SIGTERM");
      await obliterate(queueName);
    }
  }, 60_000);
});
