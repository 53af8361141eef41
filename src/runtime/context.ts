// The frozen context of one (condition, replicate) task, and the per-step views of it that
// steps receive as `ctx`. Values are frozen when added and handed out without copying; reads and
// writes are recorded for provenance by name only.
import { jsonCodec, unsafeSegmentReason, type Artifact } from "../dsl/artifact.js";
import type { Context, Logger } from "../dsl/context.js";
import type { Resource } from "../dsl/resource.js";
import type { ArtifactWrite } from "../dsl/records.js";
import { ArtifactError, ContextMutationError, ValidationError } from "../errors.js";
import { detachBinary, freezeValue } from "./freeze.js";
import { createRandom, streamSeed } from "./seeds.js";

export interface ResourcePool {
  use<T>(resource: Resource<T>): T;
}

/** State shared by all steps of one task. */
export class TaskState {
  /** Context values; created on the first add (most pipelines never add any). */
  private values: Map<string, unknown> | undefined;
  /** Metric values of the task, per metric in recording order. */
  readonly metrics: Record<string, number[]> = {};
  readonly artifacts: ArtifactWrite[] = [];

  constructor(
    readonly experiment: string,
    readonly condition: string,
    readonly replicate: number,
    readonly seed: number,
    readonly signal: AbortSignal,
    readonly log: Logger,
    readonly resources: ResourcePool,
    /** Declared outputs by file name; undefined when the experiment declares none. */
    readonly outputs: ReadonlyMap<string, Artifact<unknown>> | undefined,
  ) {}

  recordMetric(name: string, value: number): void {
    const list = this.metrics[name];
    if (list) list.push(value);
    else this.metrics[name] = [value];
  }

  getValue(key: string): unknown {
    return this.values?.get(key);
  }
  hasValue(key: string): boolean {
    return this.values?.has(key) ?? false;
  }
  /** Adds a new key; returns false when it exists. */
  addValue(key: string, value: unknown): boolean {
    const values = (this.values ??= new Map());
    if (values.has(key)) return false;
    values.set(key, value);
    return true;
  }
}

const NO_METRICS: ReadonlySet<string> = new Set();
const EMPTY: readonly string[] = Object.freeze([]);
const NO_ACCESS = Object.freeze({ reads: EMPTY, wrote: EMPTY });
const TOUCHED_CONDITION = 1;
const TOUCHED_REPLICATE = 2;
const TOUCHED_SEED = 4;

/**
 * The `ctx` one step (or the source, or a plugin hook) sees. `owner` names it in errors and in
 * artifact paths; `stream` names its private random stream.
 */
export class StepContext implements Context<Readonly<Record<string, unknown>>, string> {
  private rng: (() => number) | undefined;
  private readsList: string[] | undefined;
  private wroteList: string[] | undefined;
  private stepMetrics: Record<string, number[]> | undefined;
  private sealed = false;
  private touched = 0;
  private writer: Context["artifacts"] | undefined;

  constructor(
    private readonly task: TaskState,
    readonly owner: string,
    private readonly stream: string,
    readonly params: Readonly<Record<string, unknown>>,
    private readonly declaredMetrics: ReadonlySet<string> = NO_METRICS,
  ) {}

  get artifacts(): Context["artifacts"] {
    // Created on first use: most steps never write artifacts.
    return (this.writer ??= { write: (a: Artifact<unknown> | string, v: unknown) => this.writeArtifact(a, v) });
  }

  get replicate(): number {
    this.touched |= TOUCHED_REPLICATE;
    return this.task.replicate;
  }
  get condition(): string {
    this.touched |= TOUCHED_CONDITION;
    return this.task.condition;
  }
  get seed(): number {
    this.touched |= TOUCHED_SEED;
    return this.task.seed;
  }

  /**
   * What the step read besides its input and params, for cache soundness: ctx keys as
   * "ctx:<key>", plus "$condition", "$replicate" and "$seed" when it read those (the prefix keeps
   * a user key named "$seed" apart from the task's seed).
   */
  get dependencies(): string[] {
    const deps = [...new Set(this.readsList ?? [])].map((k) => `ctx:${k}`);
    if (this.touched & TOUCHED_CONDITION) deps.push("$condition");
    if (this.touched & TOUCHED_REPLICATE) deps.push("$replicate");
    if (this.touched & TOUCHED_SEED) deps.push("$seed");
    return deps;
  }

  /** The current value of a dependency named as in `dependencies`. */
  dependencyValue(name: string): unknown {
    if (name === "$condition") return this.task.condition;
    if (name === "$replicate") return this.task.replicate;
    if (name === "$seed") return this.task.seed;
    // A name this runtime does not write (an entry from elsewhere) never matches a real read.
    if (!name.startsWith("ctx:")) return { unknownRead: name };
    const key = name.slice(4);
    // Presence is part of the value: ctx.has() reads it, and a key added as undefined differs from a missing one.
    return this.task.hasValue(key) ? { present: this.task.getValue(key) } : null;
  }
  get signal(): AbortSignal {
    return this.task.signal;
  }
  get log(): Logger {
    return this.task.log;
  }

  random(): number {
    // Created lazily: most steps never draw, and creating a generator costs about 2 µs.
    if (this.rng === undefined) this.rng = createRandom(streamSeed(this.task.seed, this.stream));
    return this.rng();
  }

  /** Whether this context drew from its random stream (recorded for cache soundness). */
  get usedRandom(): boolean {
    return this.rng !== undefined;
  }

  get<T = unknown>(key: string): T | undefined {
    (this.readsList ??= []).push(key);
    const value = this.task.getValue(key);
    return (value instanceof ArrayBuffer || ArrayBuffer.isView(value) ? detachBinary(value) : value) as T | undefined;
  }

  has(key: string): boolean {
    // A read like get(): a cache hit is checked against what the step saw.
    (this.readsList ??= []).push(key);
    return this.task.hasValue(key);
  }

  add(key: string, value: unknown): void {
    this.assertOpen();
    if (typeof key !== "string" || key === "") {
      throw new ValidationError(`ctx.add in "${this.owner}"`, ["the key must be a non-empty string"]);
    }
    if (this.task.hasValue(key)) throw new ContextMutationError(key);
    this.task.addValue(key, freezeValue(value, key));
    (this.wroteList ??= []).push(key);
  }

  record(metric: string, value: number): void {
    this.assertOpen();
    if (!this.declaredMetrics.has(metric)) {
      const declared = [...this.declaredMetrics];
      throw new ValidationError(`ctx.record in step "${this.owner}"`, [
        `metric "${metric}" is not declared; declare it in the step's options: { metrics: [${[...declared, metric].map((m) => JSON.stringify(m)).join(", ")}] }`,
      ]);
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new ValidationError(`ctx.record in step "${this.owner}"`, [
        `metric "${metric}" got ${typeof value === "number" ? value : typeof value}; metric values must be finite numbers`,
      ]);
    }
    this.task.recordMetric(metric, value);
    const mine = (this.stepMetrics ??= {});
    (mine[metric] ??= []).push(value);
  }

  use<T>(resource: Resource<T>): T {
    return this.task.resources.use(resource);
  }

  private writeArtifact(artifactOrName: Artifact<unknown> | string, value: unknown): void {
    this.assertOpen();
    const declared =
      typeof artifactOrName === "string" ? this.task.outputs?.get(artifactOrName) : artifactOrName;
    const name = typeof artifactOrName === "string" ? artifactOrName : artifactOrName?.name;
    if (typeof name !== "string") {
      throw new ArtifactError(String(name), `ctx.artifacts.write in step "${this.owner}" needs an artifact() declaration or a file name`);
    }
    const unsafe = unsafeSegmentReason(name);
    if (unsafe) {
      throw new ArtifactError(name, `Step "${this.owner}" wrote artifact "${name}", which is not a safe file name: ${unsafe}. Use a plain file name such as "model.json".`);
    }
    if (this.task.artifacts.some((a) => a.artifact === name && a.step === this.owner)) {
      throw new ArtifactError(name, `Step "${this.owner}" wrote artifact "${name}" twice in one replicate; write it once, or use another file name.`);
    }
    if (this.task.outputs && !this.task.outputs.has(name)) {
      throw new ArtifactError(
        name,
        `Step "${this.owner}" wrote artifact "${name}", which the experiment does not declare; add it to the experiment's outputs (declared: ${[...this.task.outputs.keys()].join(", ") || "none"}).`,
      );
    }
    const art = declared ?? null;
    let bytes: Uint8Array;
    let codecName: string;
    try {
      if (art) {
        bytes = art.codec.encode(value);
        codecName = art.codec.name ?? "custom";
      } else {
        // A bare name without declared outputs: JSON, via the same codec as artifact(name).
        bytes = json.encode(value);
        codecName = "json";
      }
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new ArtifactError(name, `Step "${this.owner}" could not encode artifact "${name}": ${why}`, cause);
    }
    if (!(bytes instanceof Uint8Array)) {
      throw new ArtifactError(name, `The codec of artifact "${name}" returned ${typeof bytes}, not a Uint8Array`);
    }
    this.task.artifacts.push({ artifact: name, step: this.owner, codec: codecName, bytes });
  }

  /** Called when the step finished: later calls through a leaked ctx are refused. */
  seal(): void {
    this.sealed = true;
  }

  private assertOpen(): void {
    if (this.sealed) {
      throw new ContextMutationError(
        this.owner,
        `The context of "${this.owner}" was used after the step finished; await all work inside the step.`,
      );
    }
  }

  get reads(): readonly string[] {
    return this.readsList ?? EMPTY;
  }
  get wrote(): readonly string[] {
    return this.wroteList ?? EMPTY;
  }
  /** `{ reads, wrote }` for provenance; one shared frozen object when the step touched nothing. */
  get access(): { readonly reads: readonly string[]; readonly wrote: readonly string[] } {
    if (this.readsList === undefined && this.wroteList === undefined) return NO_ACCESS;
    return { reads: this.reads, wrote: this.wrote };
  }
  get recordedMetrics(): Readonly<Record<string, readonly number[]>> {
    return this.stepMetrics ?? NO_RECORDED;
  }
}

const NO_RECORDED: Readonly<Record<string, readonly number[]>> = Object.freeze({});
const json = jsonCodec<unknown>();
