// `crystallize report`: one self-contained HTML file for a stored run (inline CSS and SVG, no
// script, no network): per-metric distributions per condition, effect sizes with CIs per
// treatment, the ranking, failures, step timings, the experiment's graph, and optionally a
// comparison with a second run. Each plot's <figure> states how many marks of each layer it
// should hold (data-marks), computed from the data, for the browser test to check.
import type { RunComparison } from "../runtime/registry/compare.js";
import type { RunRecord } from "../runtime/registry/summary.js";
import { distributionSpec, effectSpec, graphSpec, renderSvg, timingSpec, type Dot, type Interval } from "./plots.js";

export interface ReportInput {
  readonly run: RunRecord;
  /** Per condition, per metric: the stored values in replicate order (result.json). */
  readonly values: Readonly<Record<string, Readonly<Record<string, readonly number[]>>>>;
  /** The graph the experiment belongs to (from the manifest), if any. */
  readonly graph?: {
    readonly name: string;
    readonly nodes: readonly string[];
    readonly edges: ReadonlyArray<{ from: string; to: string }>;
    /** The version each node ran in this graph run, when known. */
    readonly versions?: Readonly<Record<string, unknown>>;
  };
  readonly compare?: { readonly run: RunRecord; readonly values: ReportInput["values"]; readonly diff: RunComparison };
}

const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined) return "—";
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6)) return x.toExponential(3);
  return Number(x.toPrecision(4)).toString();
}

const ref = (r: { experiment: string; version: number }) => `${r.experiment}@v${r.version}`;

async function figure(kind: string, title: string, svg: Promise<string>, marks: Record<string, number>): Promise<string> {
  const attr = Object.entries(marks)
    .map(([k, v]) => `${k}:${v}`)
    .join(",");
  return `<figure class="plot" data-plot="${esc(kind)}" data-marks="${esc(attr)}"><figcaption>${esc(title)}</figcaption>${await svg}</figure>`;
}

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, cls = ""): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

/** Distribution plots of one run (or of two runs' conditions, labelled by run, for the compare view). */
async function distributions(
  runs: ReadonlyArray<{ label: (condition: string) => string; record: RunRecord; values: ReportInput["values"] }>,
  kind: string,
): Promise<string[]> {
  const metrics = [...new Set(runs.flatMap((r) => Object.values(r.values).flatMap((m) => Object.keys(m))))].sort();
  const out: string[] = [];
  for (const metric of metrics) {
    const dots: Dot[] = [];
    const intervals: Interval[] = [];
    const order: string[] = [];
    for (const { label, record, values } of runs) {
      for (const c of record.conditions) {
        const xs = (values[c]?.[metric] ?? []).filter((v) => Number.isFinite(v));
        if (xs.length === 0) continue;
        const name = label(c);
        order.push(name);
        xs.forEach((value, i) => dots.push({ condition: name, replicate: i, value }));
        const s = record.metrics[c]?.[metric];
        if (s && Number.isFinite(s.mean) && Number.isFinite(s.ci[0]) && Number.isFinite(s.ci[1])) intervals.push({ label: name, mean: s.mean, lo: s.ci[0], hi: s.ci[1] });
      }
    }
    if (dots.length === 0) continue;
    out.push(
      await figure(kind, `${metric}: each replicate, with the mean (◆) and its 95% CI`, renderSvg(distributionSpec(metric, dots, intervals, order)), {
        dots: dots.length,
        ci: intervals.length,
        mean: intervals.length,
      }),
    );
  }
  return out;
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;color:#222;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#555}.meta code{background:#f3f3f3;padding:0 .25rem;border-radius:3px}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left;font-variant-numeric:tabular-nums}
th{background:#f7f7f7}.yes{color:#1e7d32;font-weight:600}.no{color:#888}.changed{background:#fff6d5}
figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.3rem}.status-completed{color:#1e7d32}.status-failed,.status-cancelled{color:#b71c1c}
.empty{color:#888;font-style:italic}
`;

export async function renderReport(input: ReportInput): Promise<string> {
  const r = input.run;
  const parts: string[] = [];
  parts.push(`<h1>${esc(ref(r))}</h1>`);
  parts.push(
    `<p class="meta"><span class="status-${esc(r.status)}">${esc(r.status)}</span> · ${r.replicates} replicate(s) · seed ${r.seed} · started ${esc(r.startedAt)}` +
      ` · ${r.durationMs === null ? "—" : `${fmt(r.durationMs / 1000)} s`} · git <code>${esc(r.git.commit?.slice(0, 12) ?? "—")}${r.git.dirty ? " (dirty)" : ""}</code>` +
      `${r.command ? ` · <code>${esc(r.command)}</code>` : ""} · cache hits ${r.cacheHits}/${r.stepExecutions}</p>`,
  );

  parts.push(`<h2 id="distributions">Metrics per condition</h2>`);
  const dist = await distributions([{ label: (c) => c, record: r, values: input.values }], "distribution");
  parts.push(dist.length ? dist.join("") : `<p class="empty">no metrics recorded</p>`);
  const summaryRows: string[][] = [];
  for (const c of r.conditions) {
    for (const [m, s] of Object.entries(r.metrics[c] ?? {})) summaryRows.push([esc(c), esc(m), String(s.n), fmt(s.mean), fmt(s.sd), `[${fmt(s.ci[0])}, ${fmt(s.ci[1])}]`]);
  }
  if (summaryRows.length) parts.push(table(["condition", "metric", "n", "mean", "SD", "95% CI"], summaryRows, "summary"));

  parts.push(`<h2 id="effects">Effect sizes per treatment</h2>`);
  const byHypothesis = new Map<string, RunRecord["hypotheses"][number][]>();
  for (const h of r.hypotheses) (byHypothesis.get(h.hypothesis) ?? byHypothesis.set(h.hypothesis, []).get(h.hypothesis)!).push(h);
  if (byHypothesis.size === 0) parts.push(`<p class="empty">no hypotheses</p>`);
  for (const [name, hs] of byHypothesis) {
    const ok = hs.filter((h) => h.error === undefined);
    const failed = hs.find((h) => h.error !== undefined);
    if (failed) {
      parts.push(`<p>hypothesis <b>${esc(name)}</b> was not evaluated: ${esc(failed.error)}</p>`);
      continue;
    }
    const intervals = ok.filter((h) => h.ci && Number.isFinite(h.ci[0]) && Number.isFinite(h.ci[1])).map((h) => ({ label: h.treatment, mean: (h.ci![0] + h.ci![1]) / 2, lo: h.ci![0], hi: h.ci![1] }));
    if (intervals.length) {
      parts.push(await figure("effect", `${name} (${ok[0]?.metrics.join(", ") ?? ""}): treatment − baseline, with its CI`, renderSvg(effectSpec("difference from baseline", intervals)), { zero: 1, ci: intervals.length, effect: intervals.length }));
    }
    const ranked = [...ok].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
    parts.push(`<h3 id="ranking-${esc(name)}">Ranking: ${esc(name)}</h3>`);
    parts.push(
      table(
        ["rank", "treatment", "p-value", "Cohen's d", "CI of difference", "method", "significant"],
        ranked.map((h) => [
          h.rank === null ? "—" : String(h.rank),
          esc(h.treatment),
          fmt(h.pValue),
          fmt(h.effectSize),
          h.ci ? `[${fmt(h.ci[0])}, ${fmt(h.ci[1])}]` : "—",
          esc(h.method ?? "—"),
          h.significant ? `<span class="yes">yes</span>` : `<span class="no">no</span>`,
        ]),
        "ranking",
      ),
    );
  }

  parts.push(`<h2 id="failures">Failures</h2>`);
  parts.push(
    r.errors.length
      ? table(["condition", "replicate", "step", "code", "message"], r.errors.map((e) => [esc(e.condition), String(e.replicate), esc(e.step ?? "—"), esc(e.code), esc(e.message.split("\n")[0])]), "failures")
      : `<p class="empty">no task failed</p>`,
  );

  parts.push(`<h2 id="timings">Step timings</h2>`);
  if (r.timings.length) {
    parts.push(await figure("timing", "mean wall-clock time per step execution", renderSvg(timingSpec(r.timings)), { bars: r.timings.length }));
    parts.push(table(["step", "executions", "cache hits", "total ms", "mean ms"], r.timings.map((t) => [esc(t.step), String(t.executions), String(t.cacheHits), fmt(t.totalMs), fmt(t.meanMs)]), "timings"));
  } else parts.push(`<p class="empty">no step timings stored</p>`);

  if (input.graph) {
    const g = input.graph;
    parts.push(`<h2 id="graph">Graph ${esc(g.name)}</h2>`);
    parts.push(await figure("graph", `experiments of graph ${g.name} (this one in red)`, renderSvg(graphSpec(g.nodes, g.edges, r.experiment, g.versions)), { nodes: g.nodes.length, edges: g.edges.length, labels: g.nodes.length }));
  }

  if (input.compare) {
    const { run: b, diff } = input.compare;
    parts.push(`<h2 id="compare">Compared with ${esc(ref(b))}</h2>`);
    const cmp = await distributions(
      [
        { label: (c) => `${c} @v${r.version}`, record: r, values: input.values },
        { label: (c) => `${c} @v${b.version}`, record: b, values: input.compare.values },
      ],
      "compare",
    );
    parts.push(cmp.join(""));
    parts.push(
      table(
        ["condition", "metric", `mean v${r.version}`, `mean v${b.version}`, "change", "p-value", "significant"],
        diff.metrics.map((m) => [
          esc(m.condition),
          esc(m.metric),
          fmt(m.a?.mean),
          fmt(m.b?.mean),
          m.change === null ? "—" : `${m.change > 0 ? "+" : ""}${fmt(m.change)}`,
          fmt(m.pValue),
          m.significant === null ? "—" : m.significant ? `<span class="yes">yes</span>` : `<span class="no">no</span>`,
        ]),
        "compare",
      ),
    );
    const changed = [...diff.params, ...diff.stepHashes.map((s) => ({ ...s, key: `step hash ${s.key}` }))].filter((x) => x.changed);
    parts.push(changed.length ? table(["changed", `v${r.version}`, `v${b.version}`], changed.map((c) => [esc(c.key), esc(JSON.stringify(c.a)), esc(JSON.stringify(c.b))]), "changes") : `<p class="empty">same params and step hashes</p>`);
  }

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(ref(r))} · crystallize report</title><style>${CSS}</style></head>
<body>${parts.join("\n")}
<p class="meta">written by crystallize report from ${esc(r.dir)}</p></body></html>
`;
}
