// Watch mode: after an edit, only the changed file (and its importers) is re-checked, the hashes
// of exactly the edited steps change, errors appear and go away, and `compile --watch --json`
// reports each recompile as a JSON line.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Watcher } from "../../src/compiler/watch.js";
import { copyFixture } from "./temp-project.js";

const fixture = fileURLToPath(new URL("../fixtures/compiler/projects/basic", import.meta.url));
const bin = fileURLToPath(new URL("../../bin/crystallize.js", import.meta.url));
let dir: string;
let demo: string;
let original: string;

beforeAll(() => {
  dir = copyFixture(fixture, "cry-watch-");
  demo = join(dir, "src/demo.ts");
  original = readFileSync(demo, "utf8");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stepHash = (r: { manifest?: { experiments: readonly { name: string; steps: readonly { name: string | null; hash: string | null }[] }[] } }, step: string) =>
  r.manifest!.experiments.find((e) => e.name === "demo")!.steps.find((s) => s.name === step)!.hash;

describe("Watcher", () => {
  it("re-checks only what changed and updates exactly the edited step's hash", async () => {
    const w = Watcher.create({ project: dir });
    if (!(w instanceof Watcher)) throw new Error("no watcher");
    try {
      const first = await w.update();
      expect(first.ok).toBe(true);
      const runner = join(dir, ".crystallize/runners/demo.mjs");
      const runnerBefore = readFileSync(runner, "utf8");

      writeFileSync(demo, original.replace("xs.reduce((a, b) => a + b, 0) / xs.length", "xs.reduce((a, b) => a + b, 1) / xs.length"));
      const second = await w.update([demo]);
      expect(second.ok).toBe(true);
      expect(second.rechecked).toBe(1);
      expect(stepHash(second, "summarize")).not.toBe(stepHash(first, "summarize"));
      expect(stepHash(second, "scale")).toBe(stepHash(first, "scale"));
      expect(readFileSync(runner, "utf8")).not.toBe(runnerBefore);
      expect(Object.keys(second.phases)).toEqual(["program", "affected", "typecheck", "analyze", "emit"]);

      writeFileSync(demo, original.replace("replicates: 5", 'replicates: "five"'));
      const broken = await w.update([demo]);
      expect(broken.ok).toBe(false);
      expect(broken.diagnostics.some((d) => d.code === "TS2322" && d.file === demo)).toBe(true);

      writeFileSync(demo, original);
      const fixed = await w.update([demo]);
      expect(fixed.ok).toBe(true);
      expect(stepHash(fixed, "summarize")).toBe(stepHash(first, "summarize"));
    } finally {
      await w.close();
    }
  });

  it("warms up without rewriting files, and leaves the next edit reported and rebuilt as usual", async () => {
    const w = Watcher.create({ project: dir });
    if (!(w instanceof Watcher)) throw new Error("no watcher");
    try {
      const first = await w.update();
      expect(first.ok).toBe(true);
      const manifestFile = join(dir, ".crystallize/manifest.json");
      const before = statSync(manifestFile).mtimeMs;
      const runner = join(dir, ".crystallize/runners/demo.mjs");
      const runnerBefore = statSync(runner).mtimeMs;
      const runnerText = readFileSync(runner, "utf8");
      await w.warmUp(2);
      expect(statSync(manifestFile).mtimeMs).toBe(before);
      expect(statSync(runner).mtimeMs).toBe(runnerBefore);

      writeFileSync(demo, original.replace("xs.reduce((a, b) => a + b, 0) / xs.length", "xs.reduce((a, b) => a + b, 2) / xs.length"));
      const edited = await w.update([demo]);
      expect(edited.ok).toBe(true);
      expect(stepHash(edited, "summarize")).not.toBe(stepHash(first, "summarize"));
      expect(stepHash(edited, "scale")).toBe(stepHash(first, "scale"));
      expect(edited.written).toContain(manifestFile);
      expect(readFileSync(runner, "utf8")).not.toBe(runnerText);
    } finally {
      writeFileSync(demo, original);
      await w.close();
    }
  });

  it("builds the runner of an experiment added by an edit, and removes the runner of one renamed away", async () => {
    const w = Watcher.create({ project: dir });
    if (!(w instanceof Watcher)) throw new Error("no watcher");
    const runners = join(dir, ".crystallize/runners");
    try {
      expect((await w.update()).ok).toBe(true);
      writeFileSync(demo, `${original}\nexport const extra = experiment("extra", { source: numbers, pipeline: pipeline(scale) });\n`);
      const added = await w.update([demo]);
      expect(added.ok).toBe(true);
      expect(added.manifest!.experiments.map((e) => e.name)).toContain("extra");
      expect(readFileSync(join(runners, "extra.mjs"), "utf8")).toContain('"extra"');

      writeFileSync(demo, `${original}\nexport const extra = experiment("renamed", { source: numbers, pipeline: pipeline(scale) });\n`);
      const renamed = await w.update([demo]);
      expect(renamed.ok).toBe(true);
      expect(readdirSync(runners).filter((f) => f.endsWith(".mjs")).sort()).toEqual(["built.mjs", "demo.mjs", "renamed.mjs"]);
    } finally {
      writeFileSync(demo, original);
      await w.close();
    }
  });
});

describe("crystallize compile --watch --json", () => {
  it("prints a JSON line per compile, and recompiles when a file changes", async () => {
    const child = spawn(process.execPath, [bin, "compile", "--watch", "--json", "--project", dir], { stdio: ["ignore", "pipe", "pipe"] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    try {
      const first = JSON.parse((await lines.next()).value as string);
      expect(first).toMatchObject({ ok: true, diagnostics: [] });
      writeFileSync(demo, original.replace("replicates: 5", "replicates: 0"));
      const second = JSON.parse((await lines.next()).value as string);
      expect(second.ok).toBe(false);
      expect(second.diagnostics).toEqual([expect.objectContaining({ code: "CRY1007", line: 20, column: 15 })]);
    } finally {
      writeFileSync(demo, original);
      child.kill("SIGINT");
    }
  }, 60_000);
});
