// Errors as plain data and back: class, code, message, stack, cause and fields survive a real
// structured clone (a MessageChannel, as between threads); constructors are never called.
import { MessageChannel } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import {
  CacheCorruptionError,
  CancelledError,
  ContextMutationError,
  CrystallizeError,
  PipelineExecutionError,
  ValidationError,
} from "../../src/errors.js";
import { decodeValue, encodeValue, registerErrorClass, reviveError, serializeError, type WireError } from "../../src/runtime/error-codec.js";

/** Sends the serialised error through a MessagePort and revives what arrives. */
async function roundTrip(error: unknown): Promise<unknown> {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<WireError>((resolve) => port2.once("message", resolve));
  port1.postMessage(serializeError(error));
  const wire = await received;
  port1.close();
  return reviveError(wire);
}

describe("error codec", () => {
  it("keeps a Crystallize error's class, code, message, stack, fields and a cause chain", async () => {
    const root = Object.assign(new TypeError("bad input"), { detail: { at: [1, 2] } });
    const original = new PipelineExecutionError("scale", root);
    const back = (await roundTrip(original)) as PipelineExecutionError;
    expect(back).toBeInstanceOf(PipelineExecutionError);
    expect(back).toBeInstanceOf(CrystallizeError);
    expect(back.name).toBe("PipelineExecutionError");
    expect(back.code).toBe("E_STEP_FAILED");
    expect(back.step).toBe("scale");
    expect(back.message).toBe(original.message);
    expect(back.stack).toBe(original.stack);
    const cause = back.cause as TypeError & { detail: unknown };
    expect(cause).toBeInstanceOf(TypeError);
    expect(cause.message).toBe("bad input");
    expect(cause.stack).toBe(root.stack);
    expect(cause.detail).toEqual({ at: [1, 2] });
    // Like the original, message, stack and cause are not enumerable.
    expect(Object.keys(back).sort()).toEqual(Object.keys(original).sort());
  });

  it("revives every error class of errors.ts with its own fields", async () => {
    const v = (await roundTrip(new ValidationError("experiment \"x\"", ["a", "b"]))) as ValidationError;
    expect(v).toBeInstanceOf(ValidationError);
    expect(v.problems).toEqual(["a", "b"]);
    const c = (await roundTrip(new CacheCorruptionError("/tmp/k.entry", "checksum"))) as CacheCorruptionError;
    expect(c).toBeInstanceOf(CacheCorruptionError);
    expect(c.file).toBe("/tmp/k.entry");
    expect(c.code).toBe("E_CACHE_CORRUPT");
    const m = (await roundTrip(new ContextMutationError("k"))) as ContextMutationError;
    expect(m).toBeInstanceOf(ContextMutationError);
    expect(m.key).toBe("k");
    const x = (await roundTrip(new CancelledError("stopped"))) as CancelledError;
    expect(x).toBeInstanceOf(CancelledError);
    expect(x.code).toBe("E_CANCELLED");
  });

  it("keeps Node system errors' code and fields", async () => {
    const original = await import("node:fs/promises").then((fs) => fs.readFile("/definitely/not/here").catch((e: unknown) => e));
    const back = (await roundTrip(original)) as NodeJS.ErrnoException;
    expect(back).toBeInstanceOf(Error);
    expect(back.code).toBe("ENOENT");
    expect(back.path).toBe("/definitely/not/here");
    expect(back.message).toBe((original as Error).message);
  });

  it("revives AggregateError's errors and cuts cycles", async () => {
    const inner = new RangeError("inner");
    const agg = new AggregateError([inner, new Error("other")], "many");
    const back = (await roundTrip(agg)) as AggregateError;
    expect(back).toBeInstanceOf(AggregateError);
    expect(back.errors.map((e: Error) => e.message)).toEqual(["inner", "other"]);
    expect(back.errors[0]).toBeInstanceOf(RangeError);

    const a = new Error("a") as Error & { cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    const cyc = (await roundTrip(a)) as Error;
    expect((cyc.cause as Error).message).toBe("b");
    expect(String((cyc.cause as Error).cause)).toContain("circular");
  });

  it("returns thrown non-Error values as themselves", async () => {
    expect(await roundTrip("plain text")).toBe("plain text");
    expect(await roundTrip({ reason: 1 })).toEqual({ reason: 1 });
    expect(await roundTrip(7)).toBe(7);
    expect(await roundTrip(Symbol("s"))).toBe("Symbol(s)");
  });

  it("keeps an unregistered class's name and code; revives it as that class once registered", async () => {
    class QuotaError extends Error {
      readonly code = "E_QUOTA";
      constructor(readonly limit: number) {
        super(`over quota ${limit}`);
      }
    }
    const unknown = (await roundTrip(new QuotaError(3))) as Error & { code: string; limit: number };
    expect(unknown).toBeInstanceOf(Error);
    expect(unknown).not.toBeInstanceOf(QuotaError);
    expect(unknown.code).toBe("E_QUOTA");
    expect(unknown.limit).toBe(3);
    registerErrorClass(QuotaError);
    const known = (await roundTrip(new QuotaError(4))) as QuotaError;
    expect(known).toBeInstanceOf(QuotaError);
    expect(known.limit).toBe(4);
    expect(known.message).toBe("over quota 4");
  });

  it("encodes log details: errors inside become revivable, other values pass through", async () => {
    const details = [new ValidationError("x", ["p"]), { n: 1 }, "text", () => 1];
    const encoded = details.map(encodeValue);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<unknown[]>((resolve) => port2.once("message", resolve));
    port1.postMessage(encoded);
    const decoded = (await received).map(decodeValue);
    port1.close();
    expect(decoded[0]).toBeInstanceOf(ValidationError);
    expect(decoded[1]).toEqual({ n: 1 });
    expect(decoded[2]).toBe("text");
    expect(decoded[3]).toBe("() => 1");
  });
});
