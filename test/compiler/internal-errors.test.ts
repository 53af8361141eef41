// A bug in the hasher on one step costs that step its compile-time hash and gives one CRY0900 at
// the step; the other steps keep their hashes, and the rules still report what they find.
import { describe, expect, it } from "vitest";
import ts from "typescript";
import { Hasher, type UnitFacts } from "../../src/compiler/hash.js";
import { TempProject, tempProjects } from "./temp-project.js";

const EXP = `import { experiment, pipeline, source, step } from "crystallize-ts";
const numbers = source("numbers", () => [1, 2, 3]);
function broken(xs: number[]): number[] {
  return xs;
}
const a = step("a", { cacheable: true }, (xs: number[]) => broken(xs));
const b = step("b", { cacheable: true }, (xs: number[]) => xs.map((x) => x + Date.now()));
export const e = experiment("e", { source: numbers, pipeline: pipeline(a, b) });
`;

/** A hasher that throws on the declaration named `name` (standing for a bug in the walker). */
class FailingHasher extends Hasher {
  override unitFacts(unit: ts.Node): UnitFacts {
    if (ts.isFunctionDeclaration(unit) && unit.name?.text === "broken") throw new Error("walker bug");
    return super.unitFacts(unit);
  }
}

describe("an internal error while hashing one step", () => {
  const project = tempProjects();

  it("is one CRY0900 at that step; the other step keeps its hash and its findings", () => {
    const p = project({ "src/exp.ts": EXP });
    const a = p.analyze({ hasher: new FailingHasher(p.loaded.host()) });
    const internal = a.diagnostics.filter((d) => d.code === "CRY0900");
    expect(internal).toHaveLength(1);
    expect(internal[0]!.message).toMatch(/^internal compiler error while hashing this step: walker bug;/);
    // At the step(...) call.
    expect(TempProject.where(internal, ["CRY0900"])).toEqual([`exp.ts:${EXP.split("\n").findIndex((l) => l.startsWith("const a ")) + 1}:${"const a = ".length + 1} CRY0900`]);
    const steps = a.manifest.experiments.find((x) => x.name === "e")!.steps;
    expect(steps.map((s) => [s.name, s.hash === null])).toEqual([["a", true], ["b", false]]);
    expect(TempProject.where(a.diagnostics, ["CRY3001"])).toHaveLength(1);
  });
});
