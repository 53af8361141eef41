// claim() and spec(): validation with every problem listed, deep freezing, JSON round trips.
import { describe, expect, it } from "vitest";
import { claim, parseClaim, parseSpec, spec } from "../../src/agentic/index.js";
import { ValidationError } from "../../src/errors.js";

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).problems;
  }
  throw new Error("expected a ValidationError");
}

describe("claim()", () => {
  it("returns a deep-frozen, tagged record", () => {
    const c = claim({ id: "ppsf.north", text: "North costs more per square foot.", metric: "ppsf", direction: "increase", threshold: 5, acceptance: { nested: { k: [1, 2] } } });
    expect(c).toEqual({ kind: "claim", id: "ppsf.north", text: "North costs more per square foot.", metric: "ppsf", direction: "increase", threshold: 5, acceptance: { nested: { k: [1, 2] } } });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.acceptance)).toBe(true);
    expect(Object.isFrozen((c.acceptance as { nested: { k: number[] } }).nested.k)).toBe(true);
  });

  it("does not share structure with its input", () => {
    const acceptance = { minPct: 5 };
    const c = claim({ id: "a", text: "t", acceptance });
    acceptance.minPct = 99;
    expect(c.acceptance).toEqual({ minPct: 5 });
  });

  it("lists every problem at once", () => {
    const list = problems(() =>
      claim({ id: "bad id/", text: " ", metric: "", direction: "up" as never, threshold: -1, acceptance: { f: NaN }, extra: 1 } as never),
    );
    expect(list.join("\n")).toMatch(/unknown key "extra"/);
    expect(list.join("\n")).toMatch(/id must be/);
    expect(list.join("\n")).toMatch(/text must be a non-empty string/);
    expect(list.join("\n")).toMatch(/metric must be a non-empty string/);
    expect(list.join("\n")).toMatch(/direction must be "increase" or "decrease"/);
    expect(list.join("\n")).toMatch(/threshold must be/);
    expect(list.join("\n")).toMatch(/acceptance\.f is NaN/);
    expect(problems(() => claim({ id: "a", text: "t", direction: "increase" }))).toEqual(["direction needs a metric to apply to"]);
  });

  it("round-trips through JSON", () => {
    const c = claim({ id: "c1", text: "x", metric: "m", direction: "decrease" });
    expect(parseClaim(JSON.stringify(c))).toEqual(c);
  });
});

describe("spec()", () => {
  it("fills defaults, sorts imports and deep-freezes", () => {
    const s = spec({
      allowedImports: ["b-lib", "a-lib", "b-lib"],
      properties: [{ name: "order", transform: "permuteRows" }, { name: "scaled", transform: "scale", relation: "scaled", metric: "mean", tolerance: 1e-6, options: { columns: ["x"] } }],
    });
    expect(s).toEqual({
      kind: "spec",
      allowedImports: ["a-lib", "b-lib"],
      entry: "default",
      properties: [
        { name: "order", transform: "permuteRows", relation: "invariant", tolerance: 1e-9, options: {} },
        { name: "scaled", transform: "scale", relation: "scaled", metric: "mean", tolerance: 1e-6, options: { columns: ["x"] } },
      ],
    });
    expect(Object.isFrozen(s.properties)).toBe(true);
    expect(Object.isFrozen(s.properties[1]!.options)).toBe(true);
    expect(() => ((s.properties as unknown as unknown[]).length = 0)).toThrow(TypeError);
  });

  it("round-trips through JSON, also from a fenced model answer", () => {
    const s = spec({ allowedImports: [], entry: "analyse", properties: [{ name: "dup", transform: "duplicateRows", metric: "m" }] });
    expect(spec(JSON.parse(JSON.stringify(s)))).toEqual(s);
    expect(parseSpec("Sure! Here it is:\n```json\n" + JSON.stringify(s) + "\n```\nGood luck.")).toEqual(s);
  });

  it("lists every problem at once", () => {
    const list = problems(() =>
      spec({
        allowedImports: ["./local", 3 as never],
        entry: "not valid",
        properties: [
          { name: "1bad", transform: "permuteRows" },
          { name: "ok", transform: "has space" },
          { name: "ok", transform: "scale", relation: "doubled" as never, tolerance: -1 },
          { name: "opts", transform: "scale", options: { f: () => 1 } as never },
          "nope" as never,
        ],
      }),
    ).join("\n");
    expect(list).toMatch(/allowedImports\[0\] "\.\/local" must be a bare package specifier/);
    expect(list).toMatch(/allowedImports\[1\] must be a module specifier/);
    expect(list).toMatch(/entry must be "default" or an export name/);
    expect(list).toMatch(/properties\[0\]\.name must be letters/);
    expect(list).toMatch(/properties\[1\]\.transform must name a transform/);
    expect(list).toMatch(/properties\[2\]\.relation must be one of/);
    expect(list).toMatch(/properties\[2\]\.tolerance/);
    expect(list).toMatch(/properties\[3\]\.options\.f is a function/);
    expect(list).toMatch(/properties\[4\] must be an object/);
  });

  it("refuses duplicate property names and unknown keys", () => {
    const list = problems(() =>
      spec({ allowedImports: [], properties: [{ name: "a", transform: "scale" }, { name: "a", transform: "shift" }], contracts: [] } as never),
    ).join("\n");
    expect(list).toMatch(/unknown key "contracts"/);
    expect(list).toMatch(/"a" is used twice/);
  });

  it("explains JSON that does not parse", () => {
    expect(problems(() => parseSpec("no json here"))).toEqual([expect.stringMatching(/expected a JSON object/)]);
    expect(problems(() => parseSpec("{ allowedImports: [] }"))[0]).toMatch(/does not parse/);
  });
});
