// Type-level checks behind the compile-time guarantees. Each check maps an argument to itself
// when it is right, or to an error type whose name and fields explain the mistake, so `tsc`
// reports it at the offending expression with a readable message, e.g.
//   Type 'Treatment<"doubled", { factr: 2; }>' is not assignable to type
//   'UnknownTreatmentKey<"doubled", "factr", "factor">'.
// Every check is a flat mapped type (no recursion), so 30-step pipelines check quickly.
import type { AnyStep, Step } from "./step.js";
import type { Treatment } from "./treatment.js";
import type { Hypothesis } from "./hypothesis.js";

export type StepInput<S> = S extends Step<infer I, infer _O, infer _P, infer _M> ? I : never;
export type StepOutput<S> = S extends Step<infer _I, infer O, infer _P, infer _M> ? O : never;
export type StepParams<S> = S extends Step<infer _I, infer _O, infer P, infer _M> ? P : never;
export type StepMetrics<S> = S extends Step<infer _I, infer _O, infer _P, infer M> ? M : never;

/** The previous step's output does not fit this step's input. */
export interface StepInputMismatch<PreviousOutput, ThisStepInput> {
  readonly "this step's input type does not accept the previous step's output": {
    readonly previousOutput: PreviousOutput;
    readonly stepInput: ThisStepInput;
  };
}

/** A treatment sets a key that no step of the pipeline declares as a param. */
export interface UnknownTreatmentKey<TreatmentName extends string, Key, DeclaredParams> {
  readonly "treatment sets a param that no step declares": {
    readonly treatment: TreatmentName;
    readonly unknownKey: Key;
    readonly declaredParams: DeclaredParams;
  };
}

/** A treatment sets a declared param to a value of another type. */
export interface TreatmentValueMismatch<TreatmentName extends string, Key, Expected, Got> {
  readonly "treatment sets a param to a value of the wrong type": {
    readonly treatment: TreatmentName;
    readonly key: Key;
    readonly expected: Expected;
    readonly got: Got;
  };
}

/** A hypothesis names a metric that no step declares. */
export interface UnknownHypothesisMetric<HypothesisName extends string, Metric, DeclaredMetrics> {
  readonly "hypothesis names a metric that no step declares": {
    readonly hypothesis: HypothesisName;
    readonly unknownMetric: Metric;
    readonly declaredMetrics: DeclaredMetrics;
  };
}

// Index of the previous element, for tuple positions up to 64.
type Prev = [never, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
  25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
  52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63];

/** Each step (but the first) must accept the previous step's output. */
export type CheckChain<S extends readonly unknown[]> = {
  [K in keyof S]: K extends `${infer N extends number}`
    ? N extends 0
      ? S[K]
      : [StepOutput<S[Prev[N]]>] extends [StepInput<S[K]>]
        ? S[K]
        : StepInputMismatch<StepOutput<S[Prev[N]]>, StepInput<S[K]>>
    : S[K];
};

/** The next step of a builder must accept the current output. */
export type CheckNextStep<Current, S> = [Current] extends [StepInput<S>] ? S : StepInputMismatch<Current, StepInput<S>>;

type BadKeys<V, P> = Exclude<keyof V, keyof P>;
type BadValues<V, P> = { [K in keyof V & keyof P]: V[K] extends P[K] ? never : K }[keyof V & keyof P];

export type CheckTreatment<T, P> = T extends Treatment<infer N, infer V>
  ? [BadKeys<V, P>] extends [never]
    ? [BadValues<V, P>] extends [never]
      ? T
      : TreatmentValueMismatch<N, BadValues<V, P>, P[BadValues<V, P> & keyof P], V[BadValues<V, P> & keyof V]>
    : UnknownTreatmentKey<N, BadKeys<V, P>, keyof P>
  : T;

export type CheckTreatments<T extends readonly unknown[], P> = { [K in keyof T]: CheckTreatment<T[K], P> };

export type CheckHypotheses<H extends readonly unknown[], M extends string> = {
  [K in keyof H]: H[K] extends Hypothesis<infer N, infer HM>
    ? [Exclude<HM, M>] extends [never]
      ? H[K]
      : UnknownHypothesisMetric<N, Exclude<HM, M>, M>
    : H[K];
};

export type Last<S extends readonly unknown[]> = S extends readonly [...unknown[], infer L] ? L : never;
export type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;
/** The merged params of all steps ({} when none declares any). */
export type MergedParams<S extends readonly AnyStep[]> = [StepParams<S[number]>] extends [never]
  ? {}
  : Simplify<UnionToIntersection<StepParams<S[number]>>>;
export type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type NameOf<X> = X extends { readonly name: infer N extends string } ? N : never;
