// Two stored runs side by side: params, step hashes and metrics, each metric's change with a
// Welch t-test of run B against run A (per condition) saying whether the change is significant.
import { welchTTest } from "../../stats/t-tests.js";
import { readStoredResult, storedValues, summarize, type RunRecord } from "./summary.js";

export interface ValueChange {
  readonly key: string;
  readonly a: unknown;
  readonly b: unknown;
  readonly changed: boolean;
}

export interface MetricChange {
  readonly condition: string;
  readonly metric: string;
  readonly a: { readonly n: number; readonly mean: number } | null;
  readonly b: { readonly n: number; readonly mean: number } | null;
  /** b.mean - a.mean. */
  readonly change: number | null;
  /** Relative change, (b - a) / |a|. */
  readonly relative: number | null;
  /** Welch's t-test, B vs A; null below 2 values on a side. */
  readonly pValue: number | null;
  readonly significant: boolean | null;
  /** CI of the difference b - a. */
  readonly ci: readonly [number, number] | null;
}

export interface RunComparison {
  readonly a: { readonly experiment: string; readonly version: number };
  readonly b: { readonly experiment: string; readonly version: number };
  readonly params: readonly ValueChange[];
  readonly stepHashes: readonly ValueChange[];
  readonly metrics: readonly MetricChange[];
  readonly alpha: number;
}

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

function flatParams(r: RunRecord): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [c, bySteps] of Object.entries(r.params)) {
    for (const [s, params] of Object.entries(bySteps)) for (const [k, v] of Object.entries(params)) out.set(`${c} ${s}.${k}`, v);
  }
  return out;
}

function changes(a: Map<string, unknown>, b: Map<string, unknown>): ValueChange[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.map((key) => ({ key, a: a.get(key) ?? null, b: b.get(key) ?? null, changed: !same(a.get(key), b.get(key)) }));
}

const values = async (r: RunRecord) => storedValues(await readStoredResult(r.dir));

export async function compareRuns(a: RunRecord, b: RunRecord, alpha = 0.05): Promise<RunComparison> {
  const [va, vb] = await Promise.all([values(a), values(b)]);
  const test = welchTTest({ alpha });
  const metrics: MetricChange[] = [];
  const conditions = [...new Set([...a.conditions, ...b.conditions])];
  for (const condition of conditions) {
    const names = [...new Set([...Object.keys(va[condition] ?? {}), ...Object.keys(vb[condition] ?? {})])].sort();
    for (const metric of names) {
      const xa = va[condition]?.[metric] ?? [];
      const xb = vb[condition]?.[metric] ?? [];
      const sa = xa.length ? summarize(xa) : null;
      const sb = xb.length ? summarize(xb) : null;
      let pValue: number | null = null;
      let significant: boolean | null = null;
      let ci: readonly [number, number] | null = null;
      if (xa.length >= 2 && xb.length >= 2) {
        try {
          const t = test.test({ treatment: xb, baseline: xa });
          pValue = Number.isFinite(t.pValue) ? t.pValue : null;
          significant = t.significant;
          ci = t.ci ?? null;
        } catch {
          // Zero variance on both sides, etc.: no test.
        }
      }
      const change = sa && sb ? sb.mean - sa.mean : null;
      metrics.push({
        condition,
        metric,
        a: sa && { n: sa.n, mean: sa.mean },
        b: sb && { n: sb.n, mean: sb.mean },
        change,
        relative: change !== null && sa && sa.mean !== 0 ? change / Math.abs(sa.mean) : null,
        pValue,
        significant,
        ci,
      });
    }
  }
  return {
    a: { experiment: a.experiment, version: a.version },
    b: { experiment: b.experiment, version: b.version },
    params: changes(flatParams(a), flatParams(b)),
    stepHashes: changes(new Map(Object.entries(a.stepHashes)), new Map(Object.entries(b.stepHashes))),
    metrics,
    alpha,
  };
}
