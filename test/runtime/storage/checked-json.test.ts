import * as fsp from "node:fs/promises";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../../../src/errors.js";
import {
  checkedJsonProblem,
  checkedJsonText,
  fromStorableJson,
  readCheckedJson,
  toStorableJson,
  writeCheckedJson,
} from "../../../src/runtime/storage/checked-json.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cry-json-"));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe("storable JSON", () => {
  it("round-trips NaN, ±Infinity, -0 and bigints, and objects that look like tags", () => {
    const v = { m: [NaN, Infinity, -Infinity, -0, 0, 1.5], b: 12n, tricky: { $number: "NaN" }, t2: { $literal: 1 } };
    const back = fromStorableJson(toStorableJson(v)) as typeof v;
    expect(back.m).toEqual([NaN, Infinity, -Infinity, -0, 0, 1.5]);
    expect(Object.is(back.m[3], -0)).toBe(true);
    expect(back.b).toBe(12n);
    expect(back.tricky).toEqual({ $number: "NaN" });
    expect(back.t2).toEqual({ $literal: 1 });
  });

  it("round-trips any JSON value and any double (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.double()), (j, xs) => {
        const back = fromStorableJson(toStorableJson({ j, xs })) as { j: unknown; xs: number[] };
        expect(back.j).toEqual(j);
        expect(back.xs.length).toBe(xs.length);
        back.xs.forEach((x, i) => expect(Object.is(x, xs[i])).toBe(true));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("checked JSON files", () => {
  it("write and read back, with a checksum, readable as plain JSON", async () => {
    const p = join(dir, "metadata.json");
    await writeCheckedJson(p, { experiment: "demo", seed: 1, metrics: { m: [1, NaN] } });
    const raw = JSON.parse(readFileSync(p, "utf8"));
    expect(raw.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(raw.experiment).toBe("demo");
    const back = await readCheckedJson(p);
    expect(back).toEqual({ experiment: "demo", seed: 1, metrics: { m: [1, NaN] } });
    expect(await readCheckedJson(join(dir, "missing.json"))).toBeUndefined();
  });

  it("detect any edit, truncation or missing checksum, naming the file", async () => {
    const p = join(dir, "results.json");
    await writeCheckedJson(p, { metrics: { acc: [0.5, 0.75] } });
    const good = readFileSync(p, "utf8");
    expect(checkedJsonProblem(good)).toBeUndefined();
    expect(checkedJsonProblem(good.replace("0.75", "0.76"))).toMatch(/checksum/);
    expect(checkedJsonProblem(good.slice(0, good.length - 5))).toMatch(/not valid JSON/);
    expect(checkedJsonProblem('{"a":1}')).toMatch(/no checksum/);
    writeFileSync(p, good.replace("0.75", "0.76"));
    const err = await readCheckedJson(p).catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain(p);
  });

  it("hold for any content (property), including integer-like keys", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.double(), (o, x) => {
        fc.pre(!("checksum" in o));
        const text = checkedJsonText({ ...o, x, "10": 1, "2": 2 });
        expect(checkedJsonProblem(text)).toBeUndefined();
      }),
    );
  });

  it("refuse a field named checksum", () => {
    expect(() => checkedJsonText({ checksum: 1 })).toThrow(/checksum/);
  });
});
