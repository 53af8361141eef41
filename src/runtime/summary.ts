// A readable text summary of a Result: metrics per condition (mean ± sd, n), hypotheses with
// p-values, ranking, and failures. Used by the command line and handy in scripts.
import type { Result } from "../dsl/result.js";
import { metricEffect } from "./hypothesis-ranking.js";

export function formatResult(result: Result): string {
  const lines: string[] = [];
  lines.push(`experiment ${result.experiment}: ${result.replicates} replicate(s), seed ${result.seed}`);
  const metricNames = [...new Set([...Object.keys(result.metrics.baseline), ...Object.values(result.metrics.treatments).flatMap((m) => Object.keys(m))])].sort();
  const rows: string[][] = [["condition", ...metricNames]];
  const byCondition: [string, Readonly<Record<string, readonly number[]>>][] = [
    ["baseline", result.metrics.baseline],
    ...Object.entries(result.metrics.treatments),
  ];
  for (const [condition, metrics] of byCondition) {
    rows.push([condition, ...metricNames.map((m) => describe(metrics[m] ?? []))]);
  }
  if (metricNames.length) lines.push(...table(rows));
  else lines.push(`conditions ${byCondition.map(([c]) => c).join(", ")}: no metrics recorded`);
  for (const h of result.hypotheses) {
    lines.push("");
    if ("error" in h) {
      lines.push(`hypothesis ${h.name} (${h.metrics.join(", ")}): not evaluated: ${h.error.message}`);
      continue;
    }
    const better = `, ${h.direction === "decrease" ? "lower" : "higher"} is better`;
    const ranked = h.ranking.map((t) => `${t} (${h.effects[t]})`);
    lines.push(`hypothesis ${h.name} (${h.metrics.join(", ")}${better}): ranking ${ranked.join(" > ") || "(no treatments)"}`);
    const hrows: string[][] = [["metric", "treatment", "method", "statistic", "p-value", "effect size", "significant", "vs baseline"]];
    for (const [metric, perTreatment] of Object.entries(h.byMetric)) {
      for (const [t, r] of Object.entries(perTreatment)) {
        const p = r.adjustedPValue === undefined ? fmt(r.pValue) : `${fmt(r.adjustedPValue)} (adj.)`;
        const tv = result.metrics.treatments[t]?.[metric] ?? [];
        const bv = result.metrics.baseline[metric] ?? [];
        const effect = tv.length && bv.length ? metricEffect(h.direction, tv, bv) : "";
        hrows.push([metric, t, r.method, fmt(r.statistic), p, fmt(r.effectSize), r.significant ? "yes" : "no", effect]);
      }
    }
    lines.push(...table(hrows));
  }
  if (result.errors.length) {
    lines.push("");
    lines.push(`${result.errors.length} task(s) failed:`);
    for (const e of result.errors.slice(0, 10)) {
      lines.push(`  ${e.condition} replicate ${e.replicate}${e.step ? ` step ${e.step}` : e.phase ? ` (${e.phase})` : ""}: ${e.message.split("\n")[0]}`);
    }
    if (result.errors.length > 10) lines.push(`  … and ${result.errors.length - 10} more`);
  }
  return lines.join("\n");
}

function describe(values: readonly number[]): string {
  if (values.length === 0) return "—";
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return `${fmt(mean)} (n=1)`;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  return `${fmt(mean)} ± ${fmt(sd)} (n=${values.length})`;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6)) return x.toExponential(3);
  return Number(x.toPrecision(4)).toString();
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const render = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [render(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(render)];
}
