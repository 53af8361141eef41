import { describe, expect, it } from "vitest";
import { artifact, experiment, graph, input, pipeline, source, step } from "../../src/index.js";
import { describeGraph, renderGraph } from "../../src/runtime/graph-render.js";

const rows = artifact<number[]>("rows.json");
const stats = artifact<number>("stats.json");
const prepare = experiment("prepare", {
  source: source("n", () => [1, 2]),
  pipeline: pipeline(step("w", (x: number[], ctx) => (ctx.artifacts.write(rows, x), ctx.artifacts.write(stats, x.length), x))),
  outputs: [rows, stats],
});
const train = experiment("train", {
  source: input({ rows: prepare.output(rows), n: prepare.output(stats) }),
  pipeline: pipeline(step("fit", (x: { rows: number[]; n: number }) => x.n)),
});
const g = graph("study", [prepare, train]);

describe("renderGraph", () => {
  it("describes a graph node as names and edges", () => {
    expect(describeGraph(g)).toEqual({
      name: "study",
      nodes: ["prepare", "train"],
      edges: [
        { from: "prepare", to: "train", artifact: "rows.json", input: "rows" },
        { from: "prepare", to: "train", artifact: "stats.json", input: "n" },
      ],
    });
  });

  it("renders Mermaid with one labelled edge per producer/consumer pair", () => {
    expect(renderGraph(g)).toBe(
      ["---", "title: study", "---", "flowchart LR", '  n0["prepare"]', '  n1["train"]', '  n0 -- "rows.json, stats.json" --> n1', ""].join("\n"),
    );
  });

  it("renders Graphviz DOT, escaping quotes", () => {
    expect(renderGraph({ name: 'a"b', nodes: ["x", "y"], edges: [{ from: "x", to: "y", artifact: "m.json" }] }, "dot")).toBe(
      ['digraph "a\\"b" {', "  rankdir=LR;", "  node [shape=box];", '  "x";', '  "y";', '  "x" -> "y" [label="m.json"];', "}", ""].join("\n"),
    );
    expect(() => renderGraph(g, "svg" as never)).toThrow(/unknown graph format/);
  });
});
