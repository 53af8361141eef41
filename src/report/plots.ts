// Plots as static SVG: Vega-Lite specs compiled to Vega and rendered headless in Node (no
// browser, no canvas, no network), so the report is one HTML file that needs nothing to open.
// Every mark layer is named; the SVG then carries a `<name>_marks` group per layer, which the
// browser test counts.
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface Dot {
  readonly condition: string;
  readonly replicate: number;
  readonly value: number;
}

export interface Interval {
  readonly label: string;
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
}

const FONT = { font: "system-ui, sans-serif", labelFont: "system-ui, sans-serif", titleFont: "system-ui, sans-serif" };
const config = { view: { stroke: null }, axis: { labelFont: FONT.labelFont, titleFont: FONT.titleFont }, font: FONT.font } as const;

/** One dot per replicate value, and per condition its mean (diamond) and 95% CI (rule). */
export function distributionSpec(metric: string, dots: readonly Dot[], intervals: readonly Interval[], order: readonly string[]): TopLevelSpec {
  const y = { field: "label", type: "nominal", sort: [...order], title: null } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: 520,
    height: { step: 34 },
    config,
    layer: [
      {
        name: "dots",
        data: { values: dots.map((d) => ({ label: d.condition, replicate: d.replicate, value: d.value })) },
        mark: { type: "point", filled: true, opacity: 0.45, size: 28, yOffset: 0 },
        encoding: { y, x: { field: "value", type: "quantitative", title: metric, scale: { zero: false } }, color: { field: "label", type: "nominal", legend: null, sort: [...order] } },
      },
      {
        name: "ci",
        data: { values: intervals.map((i) => ({ ...i })) },
        mark: { type: "rule", strokeWidth: 2.5, color: "#222" },
        encoding: { y, x: { field: "lo", type: "quantitative" }, x2: { field: "hi" } },
      },
      {
        name: "mean",
        data: { values: intervals.map((i) => ({ ...i })) },
        mark: { type: "point", shape: "diamond", filled: true, size: 110, color: "#222" },
        encoding: { y, x: { field: "mean", type: "quantitative" } },
      },
    ],
  };
}

/** Per treatment, the difference from the baseline with its CI; a zero line for reference. */
export function effectSpec(title: string, intervals: readonly Interval[]): TopLevelSpec {
  const y = { field: "label", type: "nominal", sort: intervals.map((i) => i.label), title: null } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: 520,
    height: { step: 34 },
    config,
    layer: [
      { name: "zero", data: { values: [{ z: 0 }] }, mark: { type: "rule", strokeDash: [4, 4], color: "#999" }, encoding: { x: { field: "z", type: "quantitative" } } },
      {
        name: "ci",
        data: { values: intervals.map((i) => ({ ...i })) },
        mark: { type: "rule", strokeWidth: 2.5, color: "#1f5fa8" },
        encoding: { y, x: { field: "lo", type: "quantitative", title }, x2: { field: "hi" } },
      },
      {
        name: "effect",
        data: { values: intervals.map((i) => ({ ...i })) },
        mark: { type: "point", filled: true, size: 90, color: "#1f5fa8" },
        encoding: { y, x: { field: "mean", type: "quantitative" } },
      },
    ],
  };
}

/** Mean wall-clock time per step execution, one bar per step. */
export function timingSpec(rows: ReadonlyArray<{ step: string; meanMs: number }>): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: 520,
    height: { step: 22 },
    config,
    layer: [
      {
        name: "bars",
        data: { values: rows.map((r) => ({ ...r })) },
        mark: { type: "bar", color: "#6a8caf" },
        encoding: { y: { field: "step", type: "nominal", sort: rows.map((r) => r.step), title: null }, x: { field: "meanMs", type: "quantitative", title: "mean ms per execution" } },
      },
    ],
  };
}

/** A graph of experiments: nodes in layers (longest path from a root), edges as lines. */
export function graphSpec(
  nodes: readonly string[],
  edges: ReadonlyArray<{ from: string; to: string }>,
  current: string,
  versions: Readonly<Record<string, unknown>> = {},
): TopLevelSpec {
  const depth = new Map<string, number>(nodes.map((n) => [n, 0]));
  for (let i = 0; i < nodes.length; i++) for (const e of edges) depth.set(e.to, Math.max(depth.get(e.to) ?? 0, (depth.get(e.from) ?? 0) + 1));
  const row = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const d = depth.get(n) ?? 0;
    const r = row.get(d) ?? 0;
    row.set(d, r + 1);
    pos.set(n, { x: d, y: r });
  }
  const nodeRows = nodes.map((n) => ({ name: typeof versions[n] === "number" ? `${n}@v${versions[n]}` : n, ...pos.get(n)!, here: n === current }));
  const edgeRows = edges.map((e) => ({ x: pos.get(e.from)?.x ?? 0, y: pos.get(e.from)?.y ?? 0, x2: pos.get(e.to)?.x ?? 0, y2: pos.get(e.to)?.y ?? 0 }));
  const axis = { axis: null, scale: { padding: 30 } } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: 520,
    height: Math.max(60, 50 * Math.max(...row.values(), 1)),
    config,
    layer: [
      {
        name: "edges",
        data: { values: edgeRows },
        mark: { type: "rule", color: "#888", strokeWidth: 1.5 },
        encoding: { x: { field: "x", type: "quantitative", ...axis }, y: { field: "y", type: "quantitative", ...axis }, x2: { field: "x2" }, y2: { field: "y2" } },
      },
      {
        name: "nodes",
        data: { values: nodeRows },
        mark: { type: "point", filled: true, size: 260 },
        encoding: {
          x: { field: "x", type: "quantitative", ...axis },
          y: { field: "y", type: "quantitative", ...axis },
          color: { condition: { test: "datum.here", value: "#c0392b" }, value: "#6a8caf" },
        },
      },
      {
        name: "labels",
        data: { values: nodeRows },
        mark: { type: "text", dy: -16, fontSize: 12 },
        encoding: { x: { field: "x", type: "quantitative", ...axis }, y: { field: "y", type: "quantitative", ...axis }, text: { field: "name" } },
      },
    ],
  };
}
