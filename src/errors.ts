// The error hierarchy. Every error Crystallize raises extends CrystallizeError and carries a
// stable `code` that scripts and tests can match on; messages name the thing and the fix.

export type ErrorCode =
  | "E_CRYSTALLIZE"
  | "E_CONTEXT_MUTATION"
  | "E_STEP_FAILED"
  | "E_VALIDATION"
  | "E_INPUT"
  | "E_MISSING_ARTIFACT"
  | "E_GRAPH_CYCLE"
  | "E_CACHE_CORRUPT"
  | "E_CANCELLED"
  | "E_SANDBOX"
  | "E_ARTIFACT"
  | "E_STORAGE"
  | "E_HYPOTHESIS"
  | "E_WORKER"
  | "E_COMPILE";

export class CrystallizeError extends Error {
  readonly code: string;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? "E_CRYSTALLIZE";
    // Subclasses get their own name without having to repeat it.
    this.name = new.target.name;
  }
}

/** `ctx.add` of a key that already exists, or any attempt to change a frozen context. */
export class ContextMutationError extends CrystallizeError {
  readonly key: string;
  constructor(key: string, message?: string) {
    super(
      message ??
        `Context key "${key}" already exists; a context is immutable, so add a value under a new key instead.`,
      { code: "E_CONTEXT_MUTATION" },
    );
    this.key = key;
  }
}

/** A step (or the source) threw. Wraps the cause and names the step. */
export class PipelineExecutionError extends CrystallizeError {
  readonly step: string;
  constructor(step: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`Step "${step}" failed: ${why}`, { cause, code: "E_STEP_FAILED" });
    this.step = step;
  }
}

/** A definition-time mistake. Lists every problem found, not only the first. */
export class ValidationError extends CrystallizeError {
  readonly problems: readonly string[];
  constructor(subject: string, problems: readonly string[]) {
    const list = problems.map((p) => `  - ${p}`).join("\n");
    super(`${subject} is invalid:\n${list}`, { code: "E_VALIDATION" });
    this.problems = Object.freeze([...problems]);
  }
}

/** Inputs of an experiment disagree (for example on replicate counts). */
export class InputError extends CrystallizeError {
  readonly inputs: readonly string[];
  constructor(message: string, inputs: readonly string[] = []) {
    super(message, { code: "E_INPUT" });
    this.inputs = Object.freeze([...inputs]);
  }
}

export interface MissingArtifactDetails {
  producer?: string;
  artifact: string;
  condition?: string;
  replicate?: number;
  path?: string;
}

export class MissingArtifactError extends CrystallizeError {
  readonly details: MissingArtifactDetails;
  constructor(message: string, details: MissingArtifactDetails) {
    super(message, { code: "E_MISSING_ARTIFACT" });
    this.details = Object.freeze({ ...details });
  }
}

export class GraphCycleError extends CrystallizeError {
  readonly cycle: readonly string[];
  constructor(cycle: readonly string[]) {
    super(
      `Experiment graph has a cycle: ${cycle.join(" -> ")}. Break it by removing one of these input links.`,
      { code: "E_GRAPH_CYCLE" },
    );
    this.cycle = Object.freeze([...cycle]);
  }
}

export class CacheCorruptionError extends CrystallizeError {
  readonly file: string;
  constructor(file: string, why: string) {
    super(
      `Cache entry ${file} is corrupt (${why}). Delete it, run \`crystallize cache clear\`, or pass cache: { onCorrupt: "recompute" }.`,
      { code: "E_CACHE_CORRUPT" },
    );
    this.file = file;
  }
}

/** A run was cancelled through its AbortSignal. `partial` holds what had finished. */
export class CancelledError<P = unknown> extends CrystallizeError {
  readonly partial: P | undefined;
  constructor(message = "The run was cancelled.", partial?: P) {
    super(message, { code: "E_CANCELLED" });
    this.partial = partial;
  }
}

/** An artifact was declared or written wrongly (unsafe name, undeclared, unserialisable). */
export class ArtifactError extends CrystallizeError {
  readonly artifact: string;
  constructor(artifact: string, message: string, cause?: unknown) {
    super(message, { code: "E_ARTIFACT", cause });
    this.artifact = artifact;
  }
}

/** A file-system write or read failed; names the path. */
export class StorageError extends CrystallizeError {
  readonly path: string;
  constructor(path: string, message: string, cause?: unknown) {
    super(message, { code: "E_STORAGE", cause });
    this.path = path;
  }
}

/** The run registry (.crystallize/registry.sqlite) could not be read or written, or a run named on the command line is not there. */
export class RegistryError extends CrystallizeError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: "E_REGISTRY", cause });
  }
}

/** A hypothesis could not be evaluated (too few values, NaN, missing metric). */
export class HypothesisError extends CrystallizeError {
  readonly hypothesis: string;
  constructor(hypothesis: string, message: string) {
    super(message, { code: "E_HYPOTHESIS" });
    this.hypothesis = hypothesis;
  }
}

/** Plain data describing an error, for crossing a thread or process boundary, or for results. */
export interface SerializedError {
  name: string;
  code: string;
  message: string;
  stack?: string;
  cause?: SerializedError;
  /** Own enumerable fields of the error (step, key, file, ...), when they are plain data. */
  fields?: Record<string, unknown>;
}

export function errorCode(error: unknown): string {
  if (error instanceof CrystallizeError) return error.code;
  if (error && typeof error === "object" && typeof (error as { code?: unknown }).code === "string") {
    return (error as { code: string }).code;
  }
  return "E_UNKNOWN";
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
