// input({ alias: sourceOrArtifact, ... }): a source whose value is an object of named inputs.
// Each input is a plain source, an artifact reference (`producer.output(artifact)`), or a bare
// artifact() declaration (inside a graph it resolves to the experiment whose `outputs` lists it).
// The value types flow from each input's type, so a consumer whose first step expects another
// type than the producer writes is a compile error at the consumer's `source:`.
//
// The runtime resolves artifact inputs (graph runner or a standalone run reading storage): an
// input source is bound to its producers before it runs, so its own fetch never runs unbound.
import { CrystallizeError, ValidationError } from "../errors.js";
import type { Artifact } from "./artifact.js";
import type { SourceContext } from "./context.js";
import type { AnyExperiment, ArtifactRef } from "./experiment.js";
import type { Source } from "./source.js";

type AnyArtifact = Artifact<unknown>;
type AnyArtifactRef = ArtifactRef<unknown>;

/** What `input()` accepts for each alias. */
export type InputEntry = Source<unknown> | AnyArtifactRef | AnyArtifact;

/** The value an input entry gives: an artifact's T, or a source's T. */
export type InputValue<E> =
  E extends ArtifactRef<infer T> ? T : E extends Artifact<infer T> ? T : E extends Source<infer T> ? T : never;

/** The object an `input({...})` source gives: one key per alias. */
export type InputValues<I> = { -readonly [K in keyof I]: InputValue<I[K]> };

/** One resolved input of an input source, in declaration order. */
export type InputSpec =
  | { readonly kind: "source"; readonly alias: string; readonly source: Source<unknown> }
  | {
      readonly kind: "artifact";
      readonly alias: string;
      readonly artifact: Artifact<unknown>;
      /** The producer named by `producer.output(artifact)`; undefined for a bare artifact declaration. */
      readonly producer: AnyExperiment | undefined;
    };

/** A source built by `input()`: the runtime recognises it by its `inputs`. */
export interface InputSource<T> extends Source<T> {
  readonly inputs: readonly InputSpec[];
}

export function isInputSource(value: unknown): value is InputSource<unknown> {
  const v = value as { kind?: unknown; inputs?: unknown } | null | undefined;
  return v?.kind === "source" && Array.isArray(v.inputs);
}

/** The artifact inputs of an input source (empty for any other source). */
export function artifactInputs(source: unknown): Extract<InputSpec, { kind: "artifact" }>[] {
  if (!isInputSource(source)) return [];
  return source.inputs.filter((s): s is Extract<InputSpec, { kind: "artifact" }> => s.kind === "artifact");
}

function unbound(): never {
  throw new CrystallizeError(
    "An input() source was fetched without the runtime binding its artifacts; run the experiment with experiment.run(), experiment.apply() or graph(...).run().",
    { code: "E_INPUT" },
  );
}

export function input<const I extends Readonly<Record<string, InputEntry>>>(inputs: I): InputSource<InputValues<I>> {
  const problems: string[] = [];
  const specs: InputSpec[] = [];
  if (typeof inputs !== "object" || inputs === null || Array.isArray(inputs)) {
    throw new ValidationError("input()", ["expected an object of alias: source, artifact or producer.output(artifact)"]);
  }
  const entries = Object.entries(inputs as Readonly<Record<string, unknown>>);
  if (entries.length === 0) problems.push("input() needs at least one input, e.g. input({ model: train.output(model) })");
  for (const [alias, entry] of entries) {
    const kind = (entry as { kind?: unknown } | null | undefined)?.kind;
    if (alias === "") problems.push("an input alias is empty");
    if (kind === "source") {
      specs.push(Object.freeze({ kind: "source" as const, alias, source: entry as Source<unknown> }));
    } else if (kind === "artifact-ref") {
      const ref = entry as AnyArtifactRef;
      if (ref.experiment?.kind !== "experiment" || ref.artifact?.kind !== "artifact") {
        problems.push(`input "${alias}" is an artifact reference without an experiment or artifact; create it with producer.output(artifact)`);
      } else {
        specs.push(Object.freeze({ kind: "artifact" as const, alias, artifact: ref.artifact, producer: ref.experiment }));
      }
    } else if (kind === "artifact") {
      specs.push(Object.freeze({ kind: "artifact" as const, alias, artifact: entry as AnyArtifact, producer: undefined }));
    } else {
      problems.push(
        `input "${alias}" must be a source, an artifact() declaration or producer.output(artifact), got ${entry === null ? "null" : typeof entry}`,
      );
    }
  }
  if (problems.length) throw new ValidationError("input()", problems);
  return Object.freeze({
    kind: "source" as const,
    name: "input",
    inputs: Object.freeze(specs),
    fetch: (_ctx: SourceContext) => unbound(),
  }) as InputSource<InputValues<I>>;
}
