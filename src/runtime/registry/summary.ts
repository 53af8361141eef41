// What the registry records of one stored version, computed from its files alone
// (metadata.json, result.json, tasks.jsonl). Recording a finished run and `runs reindex` both go
// through summarizeVersion, so a registry row is a function of the file store: rebuilding it
// from the files gives the same row.
import { statSync } from "node:fs";
import { join } from "node:path";
import { tQuantile } from "../../stats/distributions.js";
import { readCheckedJson } from "../storage/checked-json.js";
import { readJournal, JOURNAL_FILE } from "../storage/task-journal.js";

export interface MetricSummary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n - 1); NaN below 2 values. */
  readonly sd: number;
  /** 95% t-interval of the mean; [mean, mean] below 2 values. */
  readonly ci: readonly [number, number];
}

export interface HypothesisOutcome {
  readonly hypothesis: string;
  readonly treatment: string;
  readonly metrics: readonly string[];
  readonly pValue: number | null;
  readonly significant: boolean;
  readonly effectSize: number | null;
  readonly ci: readonly [number, number] | null;
  readonly method: string | null;
  /** 1 = best; null when the hypothesis ranked nothing. */
  readonly rank: number | null;
  /** Set when the hypothesis could not be evaluated. */
  readonly error?: string;
}

export interface RunErrorSummary {
  readonly condition: string;
  readonly replicate: number;
  readonly step?: string;
  readonly code: string;
  readonly message: string;
}

/** One step's wall-clock time over a run's tasks (from the journal: result.json omits timings). */
export interface StepTiming {
  readonly step: string;
  readonly executions: number;
  readonly cacheHits: number;
  readonly totalMs: number;
  readonly meanMs: number;
}

export interface RunRecord {
  readonly experiment: string;
  readonly version: number;
  readonly runId: string;
  /** "running", "completed", "failed" or "cancelled" (metadata.json's status). */
  readonly status: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly git: { readonly commit: string | null; readonly dirty: boolean | null };
  readonly command: string | null;
  readonly seed: number;
  readonly replicates: number;
  readonly conditions: readonly string[];
  readonly stepHashes: Readonly<Record<string, string>>;
  /** Per condition, per step: the resolved params the step saw. */
  readonly params: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;
  /** Per condition, per metric. */
  readonly metrics: Readonly<Record<string, Readonly<Record<string, MetricSummary>>>>;
  readonly hypotheses: readonly HypothesisOutcome[];
  readonly cacheHits: number;
  readonly stepExecutions: number;
  readonly errors: readonly RunErrorSummary[];
  readonly timings: readonly StepTiming[];
  /** The version folder (absolute). */
  readonly dir: string;
  /** metadata.json's mtime when summarised: a newer one means the row is stale. */
  readonly metaMtimeMs: number;
}

export function summarize(values: readonly number[]): MetricSummary {
  const n = values.length;
  if (n === 0) return { n, mean: Number.NaN, sd: Number.NaN, ci: [Number.NaN, Number.NaN] };
  let s = 0;
  for (const v of values) s += v;
  const mean = s / n;
  if (n < 2) return { n, mean, sd: Number.NaN, ci: [mean, mean] };
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const sd = Math.sqrt(ss / (n - 1));
  const half = tQuantile(0.975, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, ci: [mean - half, mean + half] };
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** The stored result.toJSON() of a version, or undefined when it has none (a running or killed run). */
export async function readStoredResult(dir: string): Promise<Json | undefined> {
  const file = await readCheckedJson(join(dir, "result.json")).catch(() => undefined);
  return file !== undefined && isObj(file.result) ? file.result : undefined;
}

/**
 * Per condition, per metric: the stored values (result.json keeps the baseline's at
 * metrics.baseline and each treatment's at metrics.treatments[name]).
 */
export function storedValues(result: Json | undefined): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  const m = isObj(result?.metrics) ? result.metrics : {};
  const take = (c: string, byMetric: unknown) => {
    if (!isObj(byMetric)) return;
    out[c] = Object.fromEntries(Object.entries(byMetric).map(([k, v]) => [k, arr(v).filter((x): x is number => typeof x === "number")]));
  };
  take("baseline", m.baseline);
  for (const [t, byMetric] of Object.entries(isObj(m.treatments) ? m.treatments : {})) take(t, byMetric);
  return out;
}

/** Step timings summed over tasks' provenance, in first-seen step order. */
export class TimingTally {
  private readonly by = new Map<string, { executions: number; cacheHits: number; totalMs: number }>();
  add(provenance: readonly unknown[]): void {
    for (const p of provenance) {
      if (!isObj(p) || typeof p.step !== "string") continue;
      let slot = this.by.get(p.step);
      if (slot === undefined) this.by.set(p.step, (slot = { executions: 0, cacheHits: 0, totalMs: 0 }));
      slot.executions++;
      if (p.cacheHit === true) slot.cacheHits++;
      slot.totalMs += num(p.durationMs) ?? 0;
    }
  }
  timings(): StepTiming[] {
    return [...this.by].map(([step, s]) => ({ step, ...s, meanMs: s.executions ? s.totalMs / s.executions : 0 }));
  }
}

/** Per-step timings from the version's journal. */
export async function readTimings(dir: string): Promise<StepTiming[]> {
  const journal = await readJournal(join(dir, JOURNAL_FILE)).catch(() => undefined);
  const tally = new TimingTally();
  for (const t of journal?.tasks ?? []) tally.add(t.provenance);
  return tally.timings();
}

/** The record of the version stored at `dir`, or undefined when it has no readable metadata.json. */
export async function summarizeVersion(dir: string): Promise<RunRecord | undefined> {
  let meta: Json | undefined;
  let metaMtimeMs: number;
  try {
    metaMtimeMs = statSync(join(dir, "metadata.json")).mtimeMs;
    meta = await readCheckedJson(join(dir, "metadata.json"));
  } catch {
    return undefined;
  }
  if (meta === undefined) return undefined;
  const running = meta.status === "running";
  return buildRecord(dir, meta, metaMtimeMs, running ? undefined : await readStoredResult(dir), running ? [] : await readTimings(dir));
}

/**
 * The record of a version from its parsed files: metadata.json's fields, result.json's result,
 * and the journal's step timings. The run store calls it with what it just wrote (so it need
 * not read it back); summarizeVersion with what it read.
 */
export function buildRecord(dir: string, meta: Json, metaMtimeMs: number, result: Json | undefined, timings: readonly StepTiming[]): RunRecord | undefined {
  if (typeof meta.experiment !== "string" || typeof meta.version !== "number") return undefined;
  const status = str(meta.status) ?? "unknown";
  const conditions = arr(meta.conditions).filter((c): c is string => typeof c === "string");

  const metrics: Record<string, Record<string, MetricSummary>> = {};
  for (const [c, byMetric] of Object.entries(storedValues(result))) {
    metrics[c] = Object.fromEntries(Object.entries(byMetric).map(([m, values]) => [m, summarize(values)]));
  }

  const hypotheses: HypothesisOutcome[] = [];
  for (const h of arr(result?.hypotheses)) {
    if (!isObj(h)) continue;
    const name = str(h.name) ?? "?";
    const hm = arr(h.metrics).filter((m): m is string => typeof m === "string");
    if (isObj(h.error)) {
      hypotheses.push({ hypothesis: name, treatment: "*", metrics: hm, pValue: null, significant: false, effectSize: null, ci: null, method: null, rank: null, error: str(h.error.message) ?? "failed" });
      continue;
    }
    const ranking = arr(h.ranking).filter((t): t is string => typeof t === "string");
    for (const [t, r] of Object.entries(isObj(h.results) ? h.results : {})) {
      if (!isObj(r)) continue;
      const ci = Array.isArray(r.ci) && r.ci.length === 2 ? ([Number(r.ci[0]), Number(r.ci[1])] as const) : null;
      const rank = ranking.indexOf(t);
      hypotheses.push({
        hypothesis: name,
        treatment: t,
        metrics: hm,
        pValue: num(r.pValue),
        significant: r.significant === true,
        effectSize: num(r.effectSize),
        ci,
        method: str(r.method),
        rank: rank < 0 ? null : rank + 1,
      });
    }
  }

  const params: Record<string, Record<string, Record<string, unknown>>> = {};
  let cacheHits = 0;
  let stepExecutions = 0;
  for (const p of arr(result?.provenance)) {
    if (!isObj(p) || typeof p.condition !== "string") continue;
    const first = params[p.condition] === undefined;
    const byStep = (params[p.condition] ??= {});
    for (const s of arr(p.steps)) {
      if (!isObj(s)) continue;
      stepExecutions++;
      if (s.cacheHit === true) cacheHits++;
      if (first && typeof s.step === "string" && isObj(s.params)) byStep[s.step] = s.params;
    }
  }
  // Runs stored before results.json carried provenance: the params metadata.json recorded.
  if (Object.keys(params).length === 0 && isObj(meta.params)) Object.assign(params, meta.params);

  const errors: RunErrorSummary[] = arr(result?.errors)
    .filter(isObj)
    .map((e) => ({
      condition: str(e.condition) ?? "?",
      replicate: num(e.replicate) ?? -1,
      ...(typeof e.step === "string" ? { step: e.step } : {}),
      code: str(e.code) ?? "E_UNKNOWN",
      message: str(e.message) ?? "",
    }));

  const git = isObj(meta.git) ? meta.git : {};
  const startedAt = str(meta.startedAt) ?? new Date(0).toISOString();
  const endedAt = str(meta.endedAt);
  return {
    experiment: meta.experiment,
    version: meta.version,
    runId: str(meta.runId) ?? "",
    status,
    startedAt,
    endedAt,
    durationMs: endedAt === null ? null : Date.parse(endedAt) - Date.parse(startedAt),
    git: { commit: str(git.commit), dirty: typeof git.dirty === "boolean" ? git.dirty : null },
    command: str(meta.command),
    seed: num(meta.seed) ?? 0,
    replicates: num(meta.replicates) ?? 0,
    conditions,
    stepHashes: isObj(meta.stepHashes) ? (meta.stepHashes as Record<string, string>) : {},
    params,
    metrics,
    hypotheses,
    cacheHits,
    stepExecutions,
    errors,
    timings,
    dir,
    metaMtimeMs,
  };
}
