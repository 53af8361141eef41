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
  storableReplacer,
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

describe("the fast path (plain JSON.stringify when nothing needs a tag)", () => {
  const slow = (v: unknown) => JSON.stringify(v, storableReplacer);
  const awkward = fc.oneof(
    fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 12n, undefined, null, "$number", { $number: "NaN" }, { $bigint: "1" }, { $literal: 2 }),
    fc.constantFrom(new Date(0), { toJSON: () => NaN }, { toJSON: () => ({ $number: "x" }) }, () => 1),
  );
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: "small" }, fc.jsonValue(), fc.double(), awkward, fc.array(tie("v")), fc.dictionary(fc.string(), tie("v"))),
  })).v;

  it("gives exactly the replacer's text for any value (property)", () => {
    fc.assert(
      fc.property(value, fc.boolean(), (v, freeze) => {
        const x = freeze ? deepFreeze(structuredCloneish(v)) : v;
        expect(toStorableJson({ x })).toBe(slow({ x }));
        // A second time (frozen values are memoised).
        expect(toStorableJson({ x })).toBe(slow({ x }));
      }),
      { numRuns: 2000 },
    );
  });

  it("notices a NaN that appears later inside a frozen object's unfrozen array", () => {
    const inner: number[] = [1, 2];
    const params = Object.freeze({ xs: inner });
    expect(toStorableJson(params)).toBe('{"xs":[1,2]}');
    inner.push(NaN, -0);
    expect(toStorableJson(params)).toBe('{"xs":[1,2,{"$number":"NaN"},{"$number":"-0"}]}');
  });

  it("a frozen object with a getter is not memoised", () => {
    let n = 1;
    const o = Object.freeze(Object.defineProperty({}, "v", { get: () => n, enumerable: true }));
    expect(toStorableJson(o)).toBe('{"v":1}');
    n = NaN;
    expect(toStorableJson(o)).toBe('{"v":{"$number":"NaN"}}');
  });

  it("cycles still fail as JSON.stringify does", () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => toStorableJson(a)).toThrow(TypeError);
  });
});

function structuredCloneish(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(structuredCloneish);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, structuredCloneish(x)]));
  }
  return v;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

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
    expect(() => checkedJsonText({ checksum: 1 }, { pretty: false })).toThrow(/checksum/);
  });

  it("compact files (one line) carry the same checksum and read back the same (property)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.double(), (o, x) => {
        fc.pre(!("checksum" in o));
        const fields = { ...o, x, "10": 1, "2": 2 };
        const compact = checkedJsonText(fields, { pretty: false });
        expect(compact.split("\n")).toHaveLength(2);
        expect(checkedJsonProblem(compact)).toBeUndefined();
        expect(JSON.parse(compact).checksum).toBe(JSON.parse(checkedJsonText(fields)).checksum);
      }),
    );
    expect(checkedJsonText({}, { pretty: false })).toMatch(/^\{"checksum":"sha256:[0-9a-f]{64}"\}\n$/);
  });
});
