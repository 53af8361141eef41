// The authoring DSL: builders of frozen, tagged nodes. No I/O, no execution.
export { source, type Source } from "./source.js";
export { step, type Step, type AnyStep, type StepOptions } from "./step.js";
export { pipeline, type Pipeline, type AnyPipeline } from "./pipeline.js";
export { treatment, type Treatment, type AnyTreatment } from "./treatment.js";
export { hypothesis, type Hypothesis, type AnyHypothesis, type HypothesisOptions, type Correction, type HypothesisDirection } from "./hypothesis.js";
export {
  experiment,
  type Experiment,
  type AnyExperiment,
  type ExperimentBuilder,
  type ExperimentDefinition,
  type ArtifactRef,
} from "./experiment.js";
export { resource, type Resource } from "./resource.js";
export { artifact, codecs, jsonCodec, textCodec, bytesCodec, type Artifact, type Codec } from "./artifact.js";
export type { Context, BaseContext, SourceContext, TreatmentContext, Logger, ArtifactWriter } from "./context.js";
export type { Json, Params } from "./json.js";
export type { Verifier, VerifierResult, VerifierOptions, VerifierSamples, Alternative } from "./verifier.js";
export type {
  Plugin,
  ExecutionStrategy,
  ExecutionJob,
  ExperimentAddress,
  TaskSettings,
  StepHashInfo,
  CompiledHashes,
} from "./plugin.js";
export type { Result, ResultJSON, MetricsByCondition, HypothesisReport, HypothesisEffect, TaskProvenance, RunMeta } from "./result.js";
export type { RunOptions, ApplyOptions, CacheOptions, Progress } from "./run-options.js";
export type {
  TaskRef,
  TaskOutcome,
  TaskError,
  ProvenanceRecord,
  ArtifactWrite,
  ArtifactRecord,
  RunInfo,
  Condition,
} from "./records.js";
export type {
  StepInputMismatch,
  UnknownTreatmentKey,
  TreatmentValueMismatch,
  UnknownHypothesisMetric,
} from "./checks.js";
export { installEngine, type Engine } from "./engine.js";
export {
  input,
  isInputSource,
  type InputSource,
  type InputEntry,
  type InputValue,
  type InputValues,
  type InputSpec,
} from "./input.js";
export {
  graph,
  analyseGraph,
  topologicalOrder,
  type Graph,
  type GraphEdge,
  type GraphEvent,
  type GraphResult,
  type GraphRunOptions,
  type GraphAnalysis,
  type SomeExperiment,
} from "./graph.js";
export type {
  Optimizer,
  AnyOptimizer,
  Observation,
  Objective,
  Direction,
  OptimizeOptions,
  OptimizeResult,
  TrialRecord,
  SpaceOf,
  CheckOptimizer,
  UnknownSearchParam,
  SearchValueMismatch,
} from "./optimizer.js";
