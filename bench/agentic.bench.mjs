// The sandbox and metamorphic testing (issue 8). Imports the built dist/ (node scripts/build.mjs).
// Each figure is printed with its target; a baseline measured in the same run sits beside it:
//  - warm job round trip        target <= 1 ms     (baseline: a plain child-process IPC echo);
//    also reported: jobs importing jstat / fast-check (a fresh module instance per job, no target)
//  - cold start of a sandbox    target <= 150 ms   (baseline: spawning `node -e 0` to its exit)
//  - timeout kill -> ready      target <= 150 ms   (with the warm spare; without it, for reference)
//  - metamorphic, 100 cases on a 1000-row table   target < 2 s
import { spawn, spawnSync } from "node:child_process";
import { createSandbox, checkProperty, permuteRows, spec } from "../dist/agentic/index.js";

const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(ms < 10 ? 3 : 1)} ms`;
let failed = false;
const verdict = (ok) => {
  if (!ok) failed = true;
  return ok ? "ok" : "BELOW TARGET";
};

// ── baselines ─────────────────────────────────────────────────────────────────────────────────

/** Spawn → exit of `node -e 0` (same empty environment the sandbox children get). */
async function nodeStartMs() {
  const t = now();
  await new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ["-e", "0"], { stdio: "ignore", env: {} });
    c.on("exit", resolve);
    c.on("error", reject);
  });
  return now() - t;
}

/** Median round trip of a message through a plain IPC echo child (advanced serialisation). */
async function ipcEchoMs(reps, payload) {
  const child = spawn(process.execPath, ["-e", "process.on('message', (m) => process.send(m))"], {
    stdio: ["ignore", "ignore", "ignore", "ipc"],
    serialization: "advanced",
    env: {},
  });
  const once = () =>
    new Promise((resolve) => {
      child.once("message", resolve);
      child.send(payload);
    });
  for (let i = 0; i < 50; i++) await once();
  const out = [];
  for (let i = 0; i < reps; i++) {
    const t = now();
    await once();
    out.push(now() - t);
  }
  child.kill();
  return median(out);
}

// 1. Warm job round trip.
{
  const sandbox = createSandbox({ timeoutMs: 2000 });
  await sandbox.ready();
  const code = "export default (input) => input.n + 1;";
  for (let i = 0; i < 200; i++) await sandbox.run(code, { n: i });
  const out = [];
  for (let i = 0; i < 1000; i++) {
    const t = now();
    await sandbox.run(code, { n: i });
    out.push(now() - t);
  }
  const warm = median(out);
  const echo = await ipcEchoMs(1000, { t: "job", id: 1, code, input: { n: 1 }, entry: "default", seed: "0", maxOutputBytes: 1 << 20 });
  console.log(
    `warm job round trip (fresh Compartment, seeded Math, result serialised): median ${fmt(warm)}; ` +
      `plain IPC echo: ${fmt(echo)} — target <= 1 ms: ${verdict(warm <= 1)}`,
  );
  await sandbox.close();
}

// 1b. Warm round trip of a job importing an allowed module: each job evaluates a fresh instance
// inside its own compartment (issue 13), which is what this costs over the plain job above.
{
  const root = new URL("..", import.meta.url).pathname;
  const parts = [];
  for (const [name, code] of [
    ["jstat", `import { jStat } from "jstat"; export default (input) => jStat.mean([1, 2, input.n]);`],
    ["fast-check", `import fc from "fast-check"; export default (input) => fc.sample(fc.integer(), { seed: input.n, numRuns: 1 })[0];`],
  ]) {
    const sandbox = createSandbox({ timeoutMs: 5000, allowedImports: [name], resolveFrom: root });
    await sandbox.ready();
    for (let i = 0; i < 20; i++) await sandbox.run(code, { n: i });
    const out = [];
    for (let i = 0; i < 100; i++) {
      const t = now();
      await sandbox.run(code, { n: i });
      out.push(now() - t);
    }
    parts.push(`${name} ${fmt(median(out))}`);
    await sandbox.close();
  }
  console.log(`  (warm round trip of a job importing a module, a fresh instance per job: ${parts.join(", ")})`);
}

// 2. Cold start: spawn -> locked down -> ready (code cache warm after the first start).
{
  const first = createSandbox({ warmSpare: false });
  await first.ready();
  await first.close();
  const starts = [];
  const cpu = [];
  for (let i = 0; i < 9; i++) {
    const sandbox = createSandbox({ warmSpare: false });
    const t = now();
    await sandbox.ready();
    starts.push(now() - t);
    cpu.push(sandbox.startups()[0].childCpuMs);
    await sandbox.close();
  }
  const nodeCpu = [];
  for (let i = 0; i < 9; i++) {
    const r = spawnSync(process.execPath, ["-e", "const c = process.cpuUsage(); process.stdout.write(String((c.user + c.system) / 1000))"], { env: {} });
    nodeCpu.push(Number(r.stdout.toString()));
  }
  const nodes = [];
  for (let i = 0; i < 9; i++) nodes.push(await nodeStartMs());
  const cold = median(starts);
  console.log(
    `cold start of a sandbox process (spawn, load SES, lockdown, address-space limit, ready): median ${fmt(cold)}; ` +
      `node -e 0 (spawn to exit): ${fmt(median(nodes))} — target <= 150 ms: ${verdict(cold <= 150)}`,
  );
  console.log(
    `  (CPU time to ready, insensitive to machine load: sandbox child ${fmt(median(cpu))}; node -e 0 ${fmt(median(nodeCpu))})`,
  );
}

// 3. From a timeout kill to the pool being ready again.
{
  const measure = async (warmSpare) => {
    const sandbox = createSandbox({ timeoutMs: 50, warmSpare });
    await sandbox.ready();
    const loop = "export default () => { for (;;) {} }";
    const ok = "export default () => 1";
    await sandbox.check(loop);
    await sandbox.run(ok, null);
    const out = [];
    for (let i = 0; i < 7; i++) {
      await sandbox.ready(); // the spare has been replaced
      let killedAt = 0;
      await sandbox.run(loop, null).catch(() => {
        killedAt = now();
      });
      await sandbox.run(ok, null);
      out.push(now() - killedAt);
    }
    await sandbox.close();
    return median(out);
  };
  const withSpare = await measure(true);
  const without = await measure(false);
  console.log(
    `timeout kill -> pool ready (next job done) with the warm spare: median ${fmt(withSpare)}; ` +
      `respawning without a spare: ${fmt(without)} — target <= 150 ms: ${verdict(withSpare <= 150)}`,
  );
}

// 4. Metamorphic testing: 100 generated permutations of a 1000-row table through the sandbox.
{
  const sandbox = createSandbox({ timeoutMs: 5000 });
  await sandbox.ready();
  const table = Array.from({ length: 1000 }, (_, i) => ({ id: i, x: Math.sin(i) * 100, y: (i * 7) % 13, g: i % 2 ? "a" : "b" }));
  const code = `export default (rows: { x: number; y: number }[]) => {
    let sx = 0, sy = 0, sxy = 0;
    for (const r of rows) { sx += r.x; sy += r.y; sxy += r.x * r.y; }
    const n = rows.length;
    return { mean_x: sx / n, cov: sxy / n - (sx / n) * (sy / n) };
  };`;
  const base = (await sandbox.run(code, table)).value;
  const property = spec({ allowedImports: [], properties: [{ name: "order", transform: "permuteRows", tolerance: 1e-9 }] }).properties[0];
  const execute = async (input) => (await sandbox.run(code, input)).value;
  await checkProperty({ property, transform: permuteRows, input: table, baseOutput: base, execute, numRuns: 5, seed: 1 });
  const t = now();
  const r = await checkProperty({ property, transform: permuteRows, input: table, baseOutput: base, execute, numRuns: 100, seed: 2 });
  const ms = now() - t;
  if (!r.passed || r.cases !== 100) throw new Error(`the metamorphic run did not pass all 100 cases: ${JSON.stringify(r)}`);
  console.log(
    `metamorphic tests, 100 generated permutations of a 1000-row table (generate, transform, sandbox job, compare): ` +
      `${fmt(ms)} (${fmt(ms / 100)} a case) — target < 2000 ms: ${verdict(ms < 2000)}`,
  );
  await sandbox.close();
}

// Figures on a shared machine are noisy: report, do not fail the bench run.
if (failed) console.log("(some figures are below target; see above)");
