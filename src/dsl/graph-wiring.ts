// Graph wiring: which member of a graph produces each artifact input. One rule, used by graph()
// (over experiment values) and by the compiler (over discovered infos), so `crystallize compile`
// and `graph()` accept and reject the same graphs. Pure: no I/O, no user code.
//
// - `producer.output(artifact)`: the producer must be a member and list an artifact of that name.
// - a bare artifact: the members listing that very declaration; when none does, the members
//   listing an artifact with the same file name. Exactly one candidate is the producer; none is
//   "no-lister"; several is "ambiguous" (never first-match-wins).

/** How the resolver sees nodes (experiments) and artifacts. */
export interface WiringView<N, A> {
  /** The artifacts a node lists in its outputs. */
  outputs(node: N): readonly A[];
  /** The artifact's file name; undefined when it is not known. */
  name(artifact: A): string | undefined;
  /** Whether two artifacts are the same declaration (default: ===). */
  same?(a: A, b: A): boolean;
}

/** One artifact input: `producer.output(artifact)` (producer set) or a bare artifact (producer undefined). */
export interface WiringRequest<N, A> {
  readonly artifact: A;
  readonly producer?: N | undefined;
}

export type WiringProblem<N> =
  /** producer.output(artifact) names an experiment that is not a member. */
  | { readonly kind: "unknown-producer"; readonly producer: N }
  /** producer.output(artifact) names a member whose outputs have no artifact of that name. */
  | { readonly kind: "not-listed"; readonly producer: N }
  /** A bare artifact no member lists (neither the declaration nor its name). */
  | { readonly kind: "no-lister" }
  /** A bare artifact several members list (by declaration, or else by name). */
  | { readonly kind: "ambiguous"; readonly candidates: readonly N[]; readonly by: "identity" | "name" };

export type Wiring<N> =
  | { readonly ok: true; readonly producer: N; readonly by: "reference" | "identity" | "name" }
  | ({ readonly ok: false } & WiringProblem<N>);

function distinct<N>(nodes: readonly N[]): N[] {
  return [...new Set(nodes)];
}

/** Resolves one artifact input among a graph's members. */
export function resolveInput<N, A>(view: WiringView<N, A>, members: readonly N[], request: WiringRequest<N, A>): Wiring<N> {
  const same = view.same ?? ((a: A, b: A) => a === b);
  const name = view.name(request.artifact);
  const listsName = (m: N) => name !== undefined && view.outputs(m).some((o) => view.name(o) === name);
  const producer = request.producer;
  if (producer !== undefined) {
    if (!members.includes(producer)) return { ok: false, kind: "unknown-producer", producer };
    // An unknown name cannot be checked: it is not a problem of the wiring.
    if (name !== undefined && !listsName(producer)) return { ok: false, kind: "not-listed", producer };
    return { ok: true, producer, by: "reference" };
  }
  const byIdentity = distinct(members.filter((m) => view.outputs(m).some((o) => same(o, request.artifact))));
  if (byIdentity.length === 1) return { ok: true, producer: byIdentity[0]!, by: "identity" };
  if (byIdentity.length > 1) return { ok: false, kind: "ambiguous", candidates: byIdentity, by: "identity" };
  const byName = distinct(members.filter(listsName));
  if (byName.length === 1) return { ok: true, producer: byName[0]!, by: "name" };
  if (byName.length > 1) return { ok: false, kind: "ambiguous", candidates: byName, by: "name" };
  return { ok: false, kind: "no-lister" };
}
