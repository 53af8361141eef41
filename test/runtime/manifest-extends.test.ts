// A base tsconfig the project's tsconfig extends decides compiler options that are in every step
// hash (target, useDefineForClassFields…), so the manifest is fresh only while it is unchanged.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logging } from "../../src/index.js";
import { cli, compiledProject } from "./compiled-project.js";

const EXPERIMENT = `import { experiment, pipeline, source, step } from "crystallize-ts";
const one = source("one", () => 1);
const twice = step("twice", { cacheable: true }, (x: number) => x * 2);
export const based = experiment("based", { source: one, pipeline: pipeline(twice), replicates: 1, seed: 1 });
`;

let dir: string;
beforeAll(() => {
  dir = compiledProject("cry-manifest-extends-", { "src/exp.ts": EXPERIMENT });
  // Move the test tsconfig's options into a base config the project's tsconfig extends.
  renameSync(join(dir, "tsconfig.json"), join(dir, "tsconfig.base.json"));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: "./tsconfig.base.json", include: ["src"] }));
  const r = cli(["compile", "--project", dir]);
  expect(r.code, r.stderr).toBe(0);
}, 150_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a tsconfig's base config", () => {
  it("is in the manifest's project-wide dependsOn, and editing it makes the manifest stale", async () => {
    const manifest = JSON.parse(readFileSync(join(dir, ".crystallize/manifest.json"), "utf8")) as { dependsOn: Record<string, string>; experiments: { steps: { name: string; hash: string }[] }[] };
    expect(Object.keys(manifest.dependsOn).sort()).toEqual(["tsconfig.base.json", "tsconfig.json"]);
    const compiled = manifest.experiments[0]!.steps[0]!.hash;

    const lines: string[] = [];
    const plugin = logging({ level: "warn", stream: { write: (s: string) => void lines.push(s), isTTY: false } });
    type Mod = { based: { run(o: Record<string, unknown>): Promise<{ toJSON(): { provenance: { steps: { stepHash: string }[] }[] } }> } };
    const load = async () => (await import(/* @vite-ignore */ `${pathToFileURL(join(dir, "src/exp.ts")).href}?t=${Date.now()}`)) as Mod;
    const fresh = await (await load()).based.run({ outDir: join(dir, ".crystallize"), plugins: [plugin] });
    expect(fresh.toJSON().provenance[0]!.steps[0]!.stepHash).toBe(compiled);

    const base = join(dir, "tsconfig.base.json");
    const config = JSON.parse(readFileSync(base, "utf8")) as { compilerOptions: Record<string, unknown> };
    writeFileSync(base, JSON.stringify({ ...config, compilerOptions: { ...config.compilerOptions, target: "ES2020" } }));
    const stale = await (await load()).based.run({ outDir: join(dir, ".crystallize"), plugins: [plugin] });
    expect(stale.toJSON().provenance[0]!.steps[0]!.stepHash).toMatch(/^rt1:/);
    expect(lines.join("")).toMatch(/stale[\s\S]*tsconfig\.base\.json[\s\S]*crystallize compile/);
  });
});
