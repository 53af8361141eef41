import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArtifactError } from "../../src/errors.js";
import {
  artifact,
  bytesCodec,
  codecs,
  jsonCodec,
  textCodec,
  unsafeSegmentReason,
  type Codec,
} from "../../src/dsl/artifact.js";

describe("artifact()", () => {
  it("builds a frozen, tagged declaration with the JSON codec by default", () => {
    const a = artifact<{ w: number[] }>("model.json");
    expect(a.kind).toBe("artifact");
    expect(a.name).toBe("model.json");
    expect(a.codec.name).toBe("json");
    expect(Object.isFrozen(a)).toBe(true);
    expect(a.codec.decode(a.codec.encode({ w: [1, 2] }))).toEqual({ w: [1, 2] });
  });

  it("keeps a given codec", () => {
    const upper: Codec<string> = {
      name: "upper",
      encode: (s) => new TextEncoder().encode(s.toUpperCase()),
      decode: (b) => new TextDecoder().decode(b),
    };
    const a = artifact("shout.txt", { codec: upper });
    expect(a.codec).toBe(upper);
    expect(new TextDecoder().decode(a.codec.encode("hi"))).toBe("HI");
    expect(artifact("raw.bin", { codec: bytesCodec }).codec.name).toBe("bytes");
    expect(codecs.text).toBe(textCodec);
  });

  it.each([
    ["../x", /path separator/],
    ["a/b.json", /path separator/],
    ["a\\b.json", /path separator/],
    ["/etc/passwd", /path separator/],
    ["C:\\x", /path separator/],
    ["..", /directory/],
    [".", /directory/],
    ["", /empty/],
    ["bad\u0000name", /not portable/],
    ["what?.json", /not portable/],
    ["x".repeat(201), /longer than 200/],
  ])("refuses the unsafe name %j, naming it", (name, why) => {
    let err: unknown;
    try {
      artifact(name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArtifactError);
    expect((err as ArtifactError).artifact).toBe(name);
    expect((err as Error).message).toContain(name.slice(0, 20));
    expect((err as Error).message).toMatch(why);
  });

  it("refuses a codec without encode/decode, naming the artifact", () => {
    expect(() => artifact("m.json", { codec: { encode: () => new Uint8Array() } as never })).toThrow(/artifact "m\.json".*encode\(value\) and decode\(bytes\)/);
    expect(() => artifact(42 as never)).toThrow(ArtifactError);
  });

  it("accepts ordinary file names", () => {
    for (const n of ["model.json", "data-1.csv", "weights_v2.bin", ".hidden", "a b.txt", "résumé.md"]) {
      expect(unsafeSegmentReason(n)).toBeUndefined();
      expect(artifact(n).name).toBe(n);
    }
  });
});

describe("codecs", () => {
  it("JSON round-trips any JSON value (property)", () => {
    const c = jsonCodec<unknown>();
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(c.decode(c.encode(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it("text round-trips any well-formed string (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        expect(textCodec.decode(textCodec.encode(s))).toBe(s);
      }),
    );
  });

  it("bytes round-trip any byte array (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array(), (b) => {
        expect([...bytesCodec.decode(bytesCodec.encode(b))]).toEqual([...b]);
      }),
    );
  });

  it("JSON refuses what it cannot represent faithfully, saying what", () => {
    const c = jsonCodec<unknown>();
    expect(() => c.encode({ n: 1n })).toThrow(/bigint \(at key "n"\)/);
    expect(() => c.encode({ f: () => 1 })).toThrow(/function/);
    expect(() => c.encode({ s: Symbol("x") })).toThrow(/symbol/);
    expect(() => c.encode([NaN])).toThrow(/NaN/);
    expect(() => c.encode({ x: Infinity })).toThrow(/Infinity/);
    expect(() => c.encode(undefined)).toThrow(/undefined/);
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    expect(() => c.encode(cyclic)).toThrow(/circular/i);
  });

  it("text refuses bytes that are not UTF-8", () => {
    expect(() => textCodec.decode(new Uint8Array([0xff, 0xfe]))).toThrow();
  });
});
