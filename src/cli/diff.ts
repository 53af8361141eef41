// crystallize diff <exp>@vA <exp>@vB [--all] [--json]: params, step hashes and metrics of two
// stored runs, with each metric's change and whether it is significant (Welch, B vs A).
import type { Command } from "commander";
import { compareRuns, type RunComparison } from "../runtime/registry/compare.js";
import { CliError } from "./output.js";
import { findRun, fmt, openRegistry, parseRef, refText, table, withStoreOptions, type StoreOptions } from "./store-options.js";

const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

export function formatComparison(d: RunComparison, all = false): string {
  const lines = [`${refText(d.a)} → ${refText(d.b)}`];
  const section = (title: string, rows: RunComparison["params"], short = false) => {
    const shown = rows.filter((r) => all || r.changed);
    lines.push("", `${title}: ${rows.filter((r) => r.changed).length} of ${rows.length} changed`);
    if (shown.length) {
      const cut = (v: unknown) => (short && typeof v === "string" ? v.slice(0, 12) : show(v));
      lines.push(...table([["", "A", "B", "changed"], ...shown.map((r) => [r.key, cut(r.a), cut(r.b), r.changed ? "yes" : ""])]));
    }
  };
  section("params", d.params);
  section("step hashes", d.stepHashes, true);
  lines.push("", `metrics (Welch's t-test of B vs A, alpha ${d.alpha}):`);
  if (d.metrics.length === 0) lines.push("  none recorded");
  else {
    lines.push(
      ...table([
        ["condition", "metric", "A mean", "B mean", "change", "change %", "p-value", "significant"],
        ...d.metrics.map((m) => [
          m.condition,
          m.metric,
          m.a ? `${fmt(m.a.mean)} (n=${m.a.n})` : "—",
          m.b ? `${fmt(m.b.mean)} (n=${m.b.n})` : "—",
          m.change === null ? "—" : `${m.change > 0 ? "+" : ""}${fmt(m.change)}`,
          m.relative === null ? "—" : `${m.relative > 0 ? "+" : ""}${(m.relative * 100).toFixed(1)}%`,
          fmt(m.pValue),
          m.significant === null ? "—" : m.significant ? "yes" : "no",
        ]),
      ]),
    );
  }
  return lines.join("\n");
}

export function registerDiff(program: Command): void {
  withStoreOptions(
    program
      .command("diff")
      .description("compare two stored runs: params, step hashes, metrics (change and significance)")
      .argument("<a>", "<experiment>@v<N>")
      .argument("<b>", "<experiment>@v<M>")
      .option("--all", "list unchanged params and step hashes too")
      .option("--alpha <p>", "significance level", "0.05")
      .option("--json", "print the comparison as JSON"),
  ).action(async (ta: string, tb: string, opts: StoreOptions & { all?: boolean; json?: boolean; alpha: string }) => {
    const registry = await openRegistry(opts);
    try {
      const a = findRun(registry, parseRef(ta));
      const b = findRun(registry, parseRef(tb));
      const alpha = Number(opts.alpha);
      if (!(alpha > 0 && alpha < 1)) throw new CliError(`--alpha needs a number between 0 and 1, got "${opts.alpha}"`);
      const d = await compareRuns(a, b, alpha);
      process.stdout.write(opts.json ? `${JSON.stringify(d)}\n` : `${formatComparison(d, opts.all)}\n`);
    } finally {
      registry.close();
    }
  });
}
