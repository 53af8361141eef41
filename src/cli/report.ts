// crystallize report <exp>[@vN] [--compare <exp>@vM] [-o report.html]: one self-contained HTML
// file for a stored run (see src/report/html.ts). The plotting code loads only here.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { readStoredResult, storedValues, type RunRecord } from "../runtime/registry/index.js";
import { findRun, openRegistry, parseRef, refText, storeDir, withStoreOptions, type StoreOptions } from "./store-options.js";

const valuesOf = async (r: RunRecord) => storedValues(await readStoredResult(r.dir));

/** The first graph in the project's manifest that holds the experiment. */
function graphOf(outDir: string, experiment: string) {
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
      const graph = graphOf(storeDir(opts), run.experiment);
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
