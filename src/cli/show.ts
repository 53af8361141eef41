// crystallize show <exp>[@vN] [--json]: reprints a stored run from its files and registry row;
// nothing is recomputed.
import type { Command } from "commander";
import { readStoredResult, type RunRecord } from "../runtime/registry/index.js";
import { duration, findRun, fmt, openRegistry, parseRef, refText, table, withStoreOptions, type StoreOptions } from "./store-options.js";

export function formatRecord(r: RunRecord): string {
  const lines: string[] = [];
  lines.push(`${refText(r)}: ${r.status}, ${r.replicates} replicate(s), seed ${r.seed}, ${r.conditions.join(", ")}`);
  lines.push(`  started ${r.startedAt}, took ${duration(r.durationMs)}`);
  lines.push(`  git ${r.git.commit ?? "—"}${r.git.dirty ? " (dirty)" : ""}`);
  if (r.command) lines.push(`  command ${r.command}`);
  lines.push(`  cache hits ${r.cacheHits} of ${r.stepExecutions} step executions`);
  lines.push(`  stored in ${r.dir}`);
  const metricNames = [...new Set(Object.values(r.metrics).flatMap((m) => Object.keys(m)))].sort();
  if (metricNames.length) {
    lines.push("");
    const rows = [["condition", "metric", "n", "mean", "SD", "95% CI"]];
    for (const c of r.conditions) {
      for (const m of metricNames) {
        const s = r.metrics[c]?.[m];
        if (s) rows.push([c, m, String(s.n), fmt(s.mean), fmt(s.sd), `[${fmt(s.ci[0])}, ${fmt(s.ci[1])}]`]);
      }
    }
    lines.push(...table(rows));
  }
  if (r.hypotheses.length) {
    lines.push("");
    const rows = [["hypothesis", "treatment", "rank", "p-value", "effect size", "CI of difference", "significant"]];
    for (const h of r.hypotheses) {
      if (h.error !== undefined) rows.push([h.hypothesis, "—", "—", "—", "—", `not evaluated: ${h.error}`, "—"]);
      else rows.push([h.hypothesis, h.treatment, h.rank === null ? "—" : String(h.rank), fmt(h.pValue), fmt(h.effectSize), h.ci ? `[${fmt(h.ci[0])}, ${fmt(h.ci[1])}]` : "—", h.significant ? "yes" : "no"]);
    }
    lines.push(...table(rows));
  }
  if (r.errors.length) {
    lines.push("", `${r.errors.length} task(s) failed:`);
    for (const e of r.errors.slice(0, 10)) lines.push(`  ${e.condition} replicate ${e.replicate}${e.step ? ` step ${e.step}` : ""}: ${e.code} ${e.message.split("\n")[0]}`);
    if (r.errors.length > 10) lines.push(`  … and ${r.errors.length - 10} more`);
  }
  if (r.timings.length) {
    lines.push("");
    lines.push(...table([["step", "executions", "cache hits", "total", "mean"], ...r.timings.map((t) => [t.step, String(t.executions), String(t.cacheHits), duration(t.totalMs), `${fmt(t.meanMs)} ms`])]));
  }
  return lines.join("\n");
}

export function registerShow(program: Command): void {
  withStoreOptions(
    program
      .command("show")
      .description("print a stored run's results (no recomputation): crystallize show <experiment>[@vN]")
      .argument("<run>", "<experiment> (the latest run) or <experiment>@v<N>")
      .option("--json", "print the registry record and the stored result.toJSON()"),
  ).action(async (text: string, opts: StoreOptions & { json?: boolean }) => {
    const registry = await openRegistry(opts);
    try {
      const r = findRun(registry, parseRef(text));
      if (opts.json) process.stdout.write(`${JSON.stringify({ run: r, result: (await readStoredResult(r.dir)) ?? null })}\n`);
      else process.stdout.write(`${formatRecord(r)}\n`);
    } finally {
      registry.close();
    }
  });
}
