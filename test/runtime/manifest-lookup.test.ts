// One step hash wherever a run starts: a compiled project run from a script (here: vitest, which
// imports the TypeScript module directly) uses the manifest's step hashes while the manifest is
// fresh, so it shares cache entries and resumable versions with `crystallize run`; after an edit
// it warns once and falls back to rt1: hashes, whose entries stay apart.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logging } from "../../src/index.js";
import { findProjectManifest } from "../../src/runtime/manifest-lookup.js";
import { cli, compiledProject } from "./compiled-project.js";

const HELPER = "export function scale(xs: readonly number[], f: number): number[] {\n  return xs.map((x) => x * f);\n}\n";
const EXPERIMENT = `import { experiment, pipeline, source, step, treatment } from "crystallize-ts";
import { scale } from "./helper.js";

const numbers = source("numbers", () => [1, 2, 3, 4]);
const scaled = step("scaled", { params: { factor: 2 }, cacheable: true }, (xs: number[], ctx) => scale(xs, ctx.params.factor));
const total = step("total", { cacheable: true, metrics: ["sum"] }, (xs: number[], ctx) => {
  const sum = xs.reduce((a, b) => a + b, 0);
  ctx.record("sum", sum);
  return sum;
});

export const demo = experiment("demo", {
  source: numbers,
  pipeline: pipeline(scaled, total),
  treatments: [treatment("triple", { factor: 3 })],
  replicates: 2,
  seed: 7,
});
`;

interface StepRecord {
  readonly step: string;
  readonly stepHash: string;
  readonly cacheHit: boolean;
}
type Provenance = readonly { readonly condition: string; readonly replicate: number; readonly steps: readonly StepRecord[] }[];

function captured(): { lines: string[]; plugin: ReturnType<typeof logging> } {
  const lines: string[] = [];
  return { lines, plugin: logging({ level: "warn", stream: { write: (s: string) => void lines.push(s), isTTY: false } }) };
}

let dir: string;
let cliProvenance: Provenance;
let manifestHashes: Record<string, string>;

interface DemoModule {
  readonly demo: { run(options: Record<string, unknown>): Promise<{ toJSON(): { provenance: Provenance }; run: { resumedTasks: number } }> };
}

async function load(): Promise<DemoModule> {
  return (await import(/* @vite-ignore */ `${pathToFileURL(join(dir, "src/exp.ts")).href}?t=${Date.now()}`)) as DemoModule;
}

beforeAll(() => {
  dir = compiledProject("cry-manifest-lookup-", { "src/helper.ts": HELPER, "src/exp.ts": EXPERIMENT });
  const r = cli(["run", "demo", "--project", dir, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  cliProvenance = (JSON.parse(r.stdout) as { provenance: Provenance }).provenance;
  const manifest = JSON.parse(readFileSync(join(dir, ".crystallize/manifest.json"), "utf8")) as {
    experiments: { name: string; steps: { name: string; hash: string }[]; dependsOn: Record<string, string> }[];
    dependsOn: Record<string, string>;
  };
  manifestHashes = Object.fromEntries(manifest.experiments[0]!.steps.map((s) => [s.name, s.hash]));
  // What the runtime checks to prove the manifest fresh.
  expect(Object.keys(manifest.experiments[0]!.dependsOn)).toEqual(expect.arrayContaining(["src/exp.ts", "src/helper.ts"]));
  expect(Object.keys(manifest.dependsOn)).toEqual(["tsconfig.json"]);
}, 150_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a compiled project run from a script", () => {
  it("finds the project's manifest from a module file, upward", () => {
    const found = findProjectManifest(join(dir, "src/exp.ts"));
    expect(found?.path).toBe(join(dir, ".crystallize/manifest.json"));
    expect(found?.root).toBe(dir);
    expect(findProjectManifest(pathToFileURL(join(dir, "src/helper.ts")))?.path).toBe(found?.path);
  });

  it("uses the manifest's step hashes: the CLI run's cache entries are all hit", async () => {
    // The CLI computed them (later tasks with the same input may hit the first one's entries).
    expect(cliProvenance[0]!.steps.map((s) => s.cacheHit)).toEqual([false, false]);
    const { demo } = await load();
    const log = captured();
    const result = await demo.run({ outDir: join(dir, ".crystallize"), plugins: [log.plugin] });
    const prov = result.toJSON().provenance;
    expect(prov.map((t) => [t.condition, t.replicate])).toEqual(cliProvenance.map((t) => [t.condition, t.replicate]));
    for (const [i, task] of prov.entries()) {
      for (const [j, s] of task.steps.entries()) {
        expect(s.stepHash).toBe(manifestHashes[s.step]);
        expect(s.stepHash).toBe(cliProvenance[i]!.steps[j]!.stepHash);
        expect(s.cacheHit, `${task.condition}/${task.replicate}/${s.step}`).toBe(true);
      }
    }
    expect(log.lines.join("")).not.toMatch(/stale/);
  });

  it("resumes the CLI's stored version without calling any step changed", async () => {
    const { demo } = await load();
    const log = captured();
    const result = await demo.run({ outDir: join(dir, ".crystallize"), resume: true, plugins: [log.plugin] });
    expect(result.run.resumedTasks).toBe(4);
    expect(log.lines.join("")).not.toMatch(/changed/);
  });

  it("after an edit: warns once, with the fix, and uses fallback hashes whose entries stay apart", async () => {
    writeFileSync(join(dir, "src/helper.ts"), HELPER.replace("x * f", "x * f + 0"));
    const { demo } = await load();
    const first = captured();
    const r1 = await demo.run({ outDir: join(dir, ".crystallize"), plugins: [first.plugin] });
    const text = first.lines.join("");
    expect(text.match(/is stale for experiment "demo"/g)).toHaveLength(1);
    expect(text).toContain("src/helper.ts changed since it was compiled");
    expect(text).toContain("crystallize compile");
    const steps = r1.toJSON().provenance.flatMap((t) => t.steps);
    expect(steps.every((s) => s.stepHash.startsWith("rt1:"))).toBe(true);
    // Fallback keys differ from the compiled ones: nothing the CLI stored is served.
    expect(steps.filter((s) => s.step === "scaled").every((s) => !s.cacheHit)).toBe(true);
    const second = captured();
    const r2 = await demo.run({ outDir: join(dir, ".crystallize"), plugins: [second.plugin] });
    expect(second.lines.join("")).not.toMatch(/stale/);
    expect(r2.toJSON().provenance.flatMap((t) => t.steps).every((s) => s.stepHash.startsWith("rt1:") && s.cacheHit)).toBe(true);
  });

  it("after crystallize compile the manifest is fresh again, and a later edit warns again", async () => {
    const c = cli(["compile", "--project", dir]);
    expect(c.code, c.stderr).toBe(0);
    const fresh = JSON.parse(readFileSync(join(dir, ".crystallize/manifest.json"), "utf8")) as { experiments: { steps: { name: string; hash: string }[] }[] };
    const { demo } = await load();
    const quiet = captured();
    const r = await demo.run({ outDir: join(dir, ".crystallize"), cache: false, plugins: [quiet.plugin] });
    expect(r.toJSON().provenance[0]!.steps.map((s) => s.stepHash)).toEqual(fresh.experiments[0]!.steps.map((s) => s.hash));
    expect(quiet.lines.join("")).not.toMatch(/stale/);
    writeFileSync(join(dir, "src/helper.ts"), HELPER.replace("x * f", "x * f + 1 - 1"));
    const again = captured();
    await (await load()).demo.run({ outDir: join(dir, ".crystallize"), cache: false, plugins: [again.plugin] });
    expect(again.lines.join("").match(/is stale for experiment "demo"/g)).toHaveLength(1);
  }, 120_000);

  it("an explicit stepHashes option wins over the manifest", async () => {
    const { demo } = await load();
    const result = await demo.run({
      outDir: join(dir, ".crystallize"),
      cache: false,
      stepHashes: { scaled: { hash: "given-scaled" }, total: { hash: "given-total" } },
      plugins: [captured().plugin],
    });
    expect(result.toJSON().provenance[0]!.steps.map((s) => s.stepHash)).toEqual(["given-scaled", "given-total"]);
  });
});

describe("a compiled JavaScript project run with plain node", () => {
  it("uses the manifest's hashes too: the CLI's entries are hit", async () => {
    const { spawnSync } = await import("node:child_process");
    const js = compiledProject("cry-manifest-js-", {
      "src/exp.mjs": `import { experiment, pipeline, source, step } from "crystallize-ts";
const numbers = source("numbers", () => [1, 2, 3]);
const scaled = step("scaled", { params: { factor: 2 }, cacheable: true }, (/** @type {number[]} */ xs, ctx) => xs.map((x) => x * ctx.params.factor));
export const js = experiment("js", { source: numbers, pipeline: pipeline(scaled), seed: 3 });
`,
      "run.mjs": `import { js } from "./src/exp.mjs";
const r = await js.run({ outDir: new URL("./.crystallize", import.meta.url).pathname });
process.stdout.write(JSON.stringify(r.toJSON().provenance[0].steps[0]));
`,
    });
    try {
      writeFileSync(
        join(js, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true, noEmit: true, allowJs: true, checkJs: true, types: [] }, include: ["src"] }),
      );
      const r = cli(["run", "js", "--project", js, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const hash = (JSON.parse(r.stdout) as { provenance: Provenance }).provenance[0]!.steps[0]!.stepHash;
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      const plain = spawnSync(process.execPath, [join(js, "run.mjs")], { encoding: "utf8", cwd: js });
      expect(plain.status, plain.stderr).toBe(0);
      expect(JSON.parse(plain.stdout)).toMatchObject({ step: "scaled", stepHash: hash, cacheHit: true });
    } finally {
      rmSync(js, { recursive: true, force: true });
    }
  }, 120_000);
});
