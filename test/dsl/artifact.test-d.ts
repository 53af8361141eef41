import { describe, expectTypeOf, it } from "vitest";
import { artifact, bytesCodec, textCodec, type Artifact } from "../../src/dsl/artifact.js";
import type { ArtifactWriter } from "../../src/dsl/context.js";

declare const w: ArtifactWriter;

describe("artifact types", () => {
  it("carries its value type", () => {
    expectTypeOf(artifact<{ w: number[] }>("m.json")).toEqualTypeOf<Artifact<{ w: number[] }>>();
    expectTypeOf(artifact("t.txt", { codec: textCodec })).toEqualTypeOf<Artifact<string>>();
    expectTypeOf(artifact("b.bin", { codec: bytesCodec })).toEqualTypeOf<Artifact<Uint8Array>>();
  });

  it("accepts a value of the declared type", () => {
    const model = artifact<{ w: number[] }>("m.json");
    w.write(model, { w: [1, 2] });
    w.write(artifact("t.txt", { codec: textCodec }), "hello");
    w.write(artifact("b.bin", { codec: bytesCodec }), new Uint8Array(2));
    w.write("free.json", { anything: true });
  });

  it("refuses a value of another type", () => {
    const model = artifact<{ w: number[] }>("m.json");
    // @ts-expect-error a string is not { w: number[] }
    w.write(model, "nope");
    // @ts-expect-error the element type must match
    w.write(model, { w: ["1"] });
    // @ts-expect-error a missing field
    w.write(model, {});
    // @ts-expect-error a text artifact takes strings
    w.write(artifact("t.txt", { codec: textCodec }), 42);
    // @ts-expect-error a bytes artifact takes a Uint8Array
    w.write(artifact("b.bin", { codec: bytesCodec }), [1, 2]);
  });

  it("refuses a codec of another type", () => {
    // @ts-expect-error a text codec cannot serve a number artifact
    artifact<number>("n.txt", { codec: textCodec });
  });
});
