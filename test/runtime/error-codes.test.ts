import { describe, expect, it } from "vitest";
import { experiment, pipeline, source, step } from "../../src/index.js";

const one = source("one", () => 1);

// Issue 17: a failure keeps its cause's own stable code and class name; the step wrapper stays as wrapperCode.
describe("the codes recorded for a failed task", () => {
  it("a plain Error without a code is recorded as E_STEP_FAILED with its class name and no wrapper code", async () => {
    const boom = step("boom", (_x: number): number => {
      throw new TypeError("bad shape");
    });
    const r = await experiment("codes-plain", { source: one, pipeline: pipeline(boom) }).run({ cache: false });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ step: "boom", code: "E_STEP_FAILED", name: "TypeError" });
    expect(r.errors[0]!.wrapperCode).toBeUndefined();
    expect(r.toJSON().errors[0]).toEqual(expect.objectContaining({ code: "E_STEP_FAILED", name: "TypeError" }));
  });

  it("a Node error with a string code (ENOENT) keeps that code, wrapped by the step", async () => {
    const read = step("read", async (_x: number): Promise<number> => {
      const { readFile } = await import("node:fs/promises");
      await readFile("/definitely/not/here.json");
      return 1;
    });
    const r = await experiment("codes-node", { source: one, pipeline: pipeline(read) }).run({ cache: false });
    expect(r.errors[0]).toMatchObject({ step: "read", code: "ENOENT", name: "Error", wrapperCode: "E_STEP_FAILED" });
    expect(JSON.parse(JSON.stringify(r.toJSON())).errors[0]).toMatchObject({ code: "ENOENT", wrapperCode: "E_STEP_FAILED" });
  });
});
