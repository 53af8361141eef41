// crystallize report <exp>[@vN] [--compare <exp>@vM] [-o report.html]: one self-contained HTML
// file for a stored run (see src/report/html.ts). The plotting code loads only here.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { readStoredResult, storedValues, type RunRecord } from "../runtime/registry/index.js";
import { readCheckedJson } from "../runtime/storage/checked-json.js";
import { findRun, openRegistry, parseRef, refText, storeDir, withStoreOptions, type StoreOptions } from "./store-options.js";

const valuesOf = async (r: RunRecord) => storedValues(await readStoredResult(r.dir));

/**
 * The graph run this version took part in: the graph runner keeps, per graph, a state file per
 * experiment (<outDir>/graphs/<graph>/<experiment>.json) naming the version it ran and the
 * versions of its inputs; those give the nodes (with versions) and the edges. Falls back to the
 * manifest's graphs for a version no graph state names.
 */
async function graphOf(outDir: string, experiment: string, version: number) {
  const root = join(outDir, "graphs");
  for (const name of existsSync(root) ? readdirSync(root) : []) {
    const dir = join(root, name);
    const states = new Map<string, { version?: unknown; inputs?: Record<string, unknown> }>();
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".json"))) {
      const state = await readCheckedJson(join(dir, f)).catch(() => undefined);
      if (state) states.set(f.slice(0, -5), state);
    }
    if (states.get(experiment)?.version !== version) continue;
    const nodes = [...states.keys()];
    const edges = nodes.flatMap((to) => Object.keys(states.get(to)?.inputs ?? {}).filter((from) => states.has(from)).map((from) => ({ from, to })));
    return { name, nodes, edges, versions: Object.fromEntries(nodes.map((n) => [n, states.get(n)?.version])) };
  }
  const file = join(outDir, "manifest.json");
  if (!existsSync(file)) return undefined;
  try {
    const m = JSON.parse(readFileSync(file, "utf8")) as { graphs?: Array<{ name: string; experiments: string[]; edges: Array<{ from: string; to: string }> }> };
    const g = m.graphs?.find((x) => x.experiments.includes(experiment));
    return g && { name: g.name, nodes: g.experiments, edges: g.edges.map((e) => ({ from: e.from, to: e.to })) };
  } catch {
    return undefined;
  }
}

export function registerReport(program: Command): void {
  withStoreOptions(
    program
      .command("report")
      .description("write a self-contained HTML report of a stored run (plots, effect sizes, ranking, failures, timings)")
      .argument("<run>", "<experiment> (the latest run) or <experiment>@v<N>")
      .option("--compare <run>", "add a comparison with another stored run (<experiment>@v<N>)")
      .option("-o, --output <file>", "where to write the report", "report.html"),
  ).action(async (text: string, opts: StoreOptions & { compare?: string; output: string }) => {
    const registry = await openRegistry(opts);
    try {
      const run = findRun(registry, parseRef(text));
      const other = opts.compare === undefined ? undefined : findRun(registry, parseRef(opts.compare));
      const [{ renderReport }, { compareRuns }] = await Promise.all([import("../report/html.js"), import("../runtime/registry/compare.js")]);
      const graph = await graphOf(storeDir(opts), run.experiment, run.version);
      const html = await renderReport({
        run,
        values: await valuesOf(run),
        ...(graph ? { graph } : {}),
        ...(other ? { compare: { run: other, values: await valuesOf(other), diff: await compareRuns(run, other) } } : {}),
      });
      const out = resolve(opts.output);
      writeFileSync(out, html);
      process.stdout.write(`wrote the report of ${refText(run)}${other ? ` (compared with ${refText(other)})` : ""} to ${out}\n`);
    } finally {
      registry.close();
    }
  });
}
