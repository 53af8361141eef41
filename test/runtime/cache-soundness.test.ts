import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationError, experiment, pipeline, source, step } from "../../src/index.js";

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "cry-soundness-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const one = source("one", () => 1);

describe("ctx.has is a read", () => {
  it("a cached step that checked ctx.has is not served when the key's presence changed", async () => {
    const outDir = temp();
    const probe = step("probe", { cacheable: true }, (x: number, ctx) => (ctx.has("extra") ? x + 100 : x));
    const adds = step("adds", (x: number, ctx) => {
      ctx.add("extra", true);
      return x;
    });
    const passes = step("adds", (x: number) => x);
    const without = await experiment("has-a", { source: one, pipeline: pipeline(passes, probe) }).run({ outDir });
    expect(without.provenance[0]!.steps[1]!.cacheHit).toBe(false);
    const withKey = await experiment("has-b", { source: one, pipeline: pipeline(adds, probe) }).run({ outDir });
    const rec = withKey.provenance[0]!.steps[1]!;
    expect(rec.cacheHit).toBe(false);
    expect(rec.ctx.reads).toContain("extra");
    // Unchanged rerun: the hit is valid.
    const again = await experiment("has-b", { source: one, pipeline: pipeline(adds, probe) }).run({ outDir });
    expect(again.provenance[0]!.steps[1]!.cacheHit).toBe(true);
  });
});

describe("the stepHashes option is validated", () => {
  const exp = experiment("hashes", { source: one, pipeline: pipeline(step("s", (x: number) => x)) });
  const bad: unknown[] = [[], "abc", { s: "deadbeef" }, { s: { hash: 3 } }, { s: { hash: "" } }, { s: { hash: "h", usesRandom: "no" } }, null];
  for (const value of bad) {
    it(`rejects ${JSON.stringify(value)} with a ValidationError naming the fix`, async () => {
      const run = exp.run({ cache: false, stepHashes: value as never });
      await expect(run).rejects.toBeInstanceOf(ValidationError);
      await expect(exp.run({ cache: false, stepHashes: value as never })).rejects.toThrow(/stepHashes.*\{ hash: string, usesRandom\?: boolean \}/s);
    });
  }
  it("accepts the manifest's shape", async () => {
    const r = await exp.run({ cache: false, stepHashes: { s: { hash: "abc", usesRandom: false } } });
    expect(r.provenance[0]!.steps[0]!.stepHash).toBe("abc");
  });
});
