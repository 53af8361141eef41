// The outcome encoding queue() workers send through Redis (JSON text) must be lossless for what
// JSON alone loses: artifact bytes, NaN, ±Infinity, -0 and undefined in arrays; and queue()'s options
// are validated before any connection. No Redis needed here.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeOutcome, encodeOutcome, jobIdOf, loadFailure, parseLoadFailure } from "../../src/plugins/execution/queue-protocol.js";
import type { TaskOutcome } from "../../src/dsl/records.js";
import { serializeError } from "../../src/runtime/error-codec.js";
import { CrystallizeError, ValidationError } from "../../src/errors.js";
import { queue } from "../../src/plugins/execution/queue.js";

const REDIS_URL = "redis://127.0.0.1:6379";

const number = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 0));
const outcome: fc.Arbitrary<TaskOutcome> = fc.record({
  condition: fc.string(),
  replicate: fc.nat(),
  status: fc.constantFrom("ok" as const, "failed" as const),
  seed: fc.nat(),
  metrics: fc.dictionary(fc.string(), fc.array(number), { noNullPrototype: true }),
  provenance: fc.array(fc.record({
    step: fc.string(), stepHash: fc.string(), params: fc.dictionary(fc.string(), fc.oneof(number, fc.string(), fc.constant(null), fc.array(fc.oneof(number, fc.constant(undefined)))), { noNullPrototype: true }),
    cacheHit: fc.boolean(), durationMs: number, ctx: fc.record({ reads: fc.array(fc.string()), wrote: fc.array(fc.string()) }, { noNullPrototype: true }), metrics: fc.dictionary(fc.string(), fc.array(number), { noNullPrototype: true }),
  }, { noNullPrototype: true })),
  artifacts: fc.array(fc.record({ artifact: fc.string(), step: fc.string(), codec: fc.string(), bytes: fc.uint8Array() }, { noNullPrototype: true })),
}, { noNullPrototype: true });

describe("queue outcome encoding", () => {
  it("decode(encode(outcome)) equals the outcome, bytes and non-finite numbers included", () => {
    fc.assert(fc.property(outcome, (o) => {
      const back = decodeOutcome(encodeOutcome(o));
      expect(back).toStrictEqual(o);
      for (const [i, a] of o.artifacts.entries()) expect(back.artifacts[i]!.bytes).toBeInstanceOf(Uint8Array);
    }));
  });

  it("keeps a slice of a larger buffer to its own bytes", () => {
    const big = new Uint8Array([1, 2, 3, 4, 5]);
    const o: TaskOutcome = { condition: "baseline", replicate: 0, status: "ok", seed: 1, metrics: {}, provenance: [], artifacts: [{ artifact: "a", step: "s", codec: "raw", bytes: big.subarray(1, 3) }] };
    expect([...decodeOutcome(encodeOutcome(o)).artifacts[0]!.bytes]).toEqual([2, 3]);
    // A codec may return a Buffer, whose toJSON() would otherwise turn it into { type, data }.
    const buf: TaskOutcome = { ...o, artifacts: [{ artifact: "a", step: "s", codec: "raw", bytes: Buffer.from([7, 8]) }] };
    const back = decodeOutcome(encodeOutcome(buf)).artifacts[0]!.bytes;
    expect(back).toBeInstanceOf(Uint8Array);
    expect([...back]).toEqual([7, 8]);
  });

  it("load failures round-trip their error; other reasons are not load failures", () => {
    const wire = serializeError(new CrystallizeError("no module", { code: "E_WORKER" }));
    expect(parseLoadFailure(loadFailure(wire))).toMatchObject({ code: "E_WORKER", message: "no module" });
    expect(parseLoadFailure("job stalled more than allowable limit")).toBeUndefined();
    expect(jobIdOf("run-1", 3)).not.toContain(":");
  });
});

describe("queue() options (validated without Redis)", () => {
  it("refuses bad options with a ValidationError", () => {
    expect(() => queue({ connection: REDIS_URL, concurrency: 0 })).toThrow(ValidationError);
    expect(() => queue({ connection: REDIS_URL, queueName: "a:b" })).toThrow(/without ":"/);
    expect(() => queue({ connection: 42 as never })).toThrow(/connection must be/);
    expect(queue({ connection: REDIS_URL, queueName: "q1" }).name).toBe("queue(q1)");
  });
});
