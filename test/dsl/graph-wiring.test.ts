// resolveInput, the wiring rule graph() and the compiler share, on plain nodes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveInput, type Wiring, type WiringView } from "../../src/dsl/graph-wiring.js";

interface Art {
  readonly id: number;
  readonly name: string;
}
interface Node {
  readonly id: number;
  readonly outputs: readonly Art[];
}
const view: WiringView<Node, Art> = { outputs: (n) => n.outputs, name: (a) => a.name };

const arts = [0, 1, 2, 3, 4].map((id): Art => ({ id, name: ["x", "y", "x", "z", "y"][id]! }));
const nodesArb = fc.array(fc.subarray(arts, { maxLength: 3 }), { minLength: 1, maxLength: 5 }).map((outs) => outs.map((outputs, id): Node => ({ id, outputs })));

const summary = (w: Wiring<Node>) =>
  w.ok ? `ok ${w.producer.id} ${w.by}` : w.kind === "ambiguous" ? `ambiguous ${w.by} ${w.candidates.map((c) => c.id).sort().join(",")}` : w.kind;

describe("resolveInput", () => {
  it("property: the verdict does not depend on the members' order (no first match wins)", () => {
    fc.assert(
      fc.property(nodesArb, fc.constantFrom(...arts), fc.nat(), (nodes, art, seed) => {
        const shuffled = [...nodes].sort((a, b) => ((a.id * 7919 + seed) % 13) - ((b.id * 7919 + seed) % 13));
        expect(summary(resolveInput(view, shuffled, { artifact: art }))).toBe(summary(resolveInput(view, nodes, { artifact: art })));
      }),
    );
  });

  it("property: identity first, else a unique lister of the name; several candidates are ambiguous", () => {
    fc.assert(
      fc.property(nodesArb, fc.constantFrom(...arts), (nodes, art) => {
        const w = resolveInput(view, nodes, { artifact: art });
        const byId = nodes.filter((n) => n.outputs.includes(art));
        const byName = nodes.filter((n) => n.outputs.some((o) => o.name === art.name));
        if (byId.length === 1) expect(w).toEqual({ ok: true, producer: byId[0], by: "identity" });
        else if (byId.length > 1) expect(w).toEqual({ ok: false, kind: "ambiguous", candidates: byId, by: "identity" });
        else if (byName.length === 1) expect(w).toEqual({ ok: true, producer: byName[0], by: "name" });
        else if (byName.length > 1) expect(w).toEqual({ ok: false, kind: "ambiguous", candidates: byName, by: "name" });
        else expect(w).toEqual({ ok: false, kind: "no-lister" });
      }),
    );
  });

  it("checks a named producer: a member that lists the name", () => {
    const a: Node = { id: 0, outputs: [arts[0]!] };
    const b: Node = { id: 1, outputs: [] };
    expect(resolveInput(view, [a, b], { artifact: arts[2]!, producer: a })).toEqual({ ok: true, producer: a, by: "reference" });
    expect(resolveInput(view, [a, b], { artifact: arts[1]!, producer: a })).toEqual({ ok: false, kind: "not-listed", producer: a });
    expect(resolveInput(view, [b], { artifact: arts[0]!, producer: a })).toEqual({ ok: false, kind: "unknown-producer", producer: a });
  });

  it("uses the view's notion of the same declaration", () => {
    const copy: Art = { id: 0, name: "x" };
    const a: Node = { id: 0, outputs: [arts[0]!] };
    const b: Node = { id: 1, outputs: [arts[2]!] };
    const sameId: WiringView<Node, Art> = { ...view, same: (p, q) => p.id === q.id };
    expect(resolveInput(sameId, [a, b], { artifact: copy })).toEqual({ ok: true, producer: a, by: "identity" });
    expect(resolveInput(view, [a, b], { artifact: copy })).toMatchObject({ ok: false, kind: "ambiguous", by: "name" });
  });
});
