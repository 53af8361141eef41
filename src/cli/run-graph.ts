// `crystallize run <graph>`: bundles the module that exports the graph (like a runner: the
// project's code bundled, `crystallize-ts` external), imports it, and runs the graph in this process.
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { CompileResult } from "../compiler/compile.js";
import type { ManifestGraph } from "../compiler/manifest.js";
import { CliError } from "./output.js";

export interface GraphRunOptions {
  replicates?: string;
  seed?: string;
  treatments?: string;
  workers?: string;
  cache: boolean;
  json?: boolean;
  resume?: boolean;
  /** The command line that resumes this run, printed on Ctrl-C. */
  resumeCommand?: string;
}

interface GraphResult {
  toJSON(): unknown;
  readonly errors: readonly unknown[];
}
interface RunnableGraph {
  readonly kind: "graph";
  run(options: Record<string, unknown>): Promise<{ results: Record<string, GraphResult> }>;
}

function count(flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw === "" || !Number.isInteger(n) || n < min) throw new CliError(`${flag} needs an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

export async function runGraph(result: CompileResult, graph: ManifestGraph, opts: GraphRunOptions): Promise<number> {
  const root = result.root!;
  const outDir = result.outDir!;
  const dir = join(outDir, "runners", ".graphs");
  const [{ build }, { runnerBuildOptions, runnerImports, sourceMetaUrls, writeIfChanged }] = await Promise.all([import("esbuild"), import("../compiler/emit.js")]);
  const entry = join(dir, `${graph.name}.entry.mjs`);
  writeIfChanged(entry, `export { ${graph.export} as graph } from ${JSON.stringify(join(root, graph.file))};\n`);
  const built = await build({ ...runnerBuildOptions(root, result.tsconfig!, outDir, [entry]), outdir: dir });
  const file = join(dir, `${graph.name}.mjs`);
  const output = built.outputFiles!.find((f) => basename(f.path) === `${graph.name}.entry.mjs`)!;
  // Like runners: with --out outside the project, import the project's crystallize-ts by file URL.
  writeIfChanged(file, runnerImports(root, dir)(sourceMetaUrls(Buffer.from(output.contents).toString("utf8"), root, join(outDir, "runners"), file)));
  const mod = (await import(pathToFileURL(file).href)) as { graph?: RunnableGraph };
  if (mod.graph?.kind !== "graph") throw new CliError(`${graph.file} no longer exports a graph named "${graph.export}"; run crystallize compile again`);

  const crystallize = await import("crystallize-ts");
  // The manifest's hashes, per experiment (step names may repeat across a graph): the same keys
  // and resume fingerprints as the experiments' own runners use.
  const { stepHashesOf } = await import("../compiler/manifest.js");
  const manifest = result.analysis!.manifest;
  const compiledHashes = Object.fromEntries(
    graph.experiments.flatMap((n) => {
      const e = manifest.experiments.find((x) => x.name === n);
      return e ? [[n, e.sourceHash === null ? { stepHashes: stepHashesOf(e) } : { stepHashes: stepHashesOf(e), sourceHash: e.sourceHash }] as const] : [];
    }),
  );
  const options: Record<string, unknown> = { outDir, cache: opts.cache, compiledHashes };
  const replicates = count("--replicates", opts.replicates, 1);
  const seed = count("--seed", opts.seed, 0);
  const workers = count("--workers", opts.workers, 1);
  if (replicates !== undefined) options.replicates = replicates;
  if (seed !== undefined) options.seed = seed;
  if (opts.treatments !== undefined) options.treatments = opts.treatments.split(",").map((s) => s.trim()).filter(Boolean);
  if (workers !== undefined) options.execution = crystallize.parallel({ workers });
  options.onEvent = (e: { type?: string; experiment?: string }) => {
    if (e.type && e.experiment) process.stderr.write(`${graph.name}: ${e.experiment} ${e.type}\n`);
  };
  if (opts.resume) options.resume = true;
  const { cancelOnSignals, exitCodeOf } = await import("../runtime/signals.js");
  const cancel = cancelOnSignals();
  options.signal = cancel.signal;
  let results: Record<string, GraphResult>;
  try {
    ({ results } = await mod.graph.run(options));
  } catch (err) {
    const sig = cancel.received();
    if ((err as { code?: unknown } | null)?.code !== "E_CANCELLED" || !sig) throw err;
    process.stderr.write(`cancelled (${err instanceof Error ? err.message.replace(/; `resume: true` continues it\.?$/, "") : "cancelled"}); resume with: ${opts.resumeCommand ?? `crystallize run ${graph.name} --resume`}\n`);
    return exitCodeOf(sig);
  } finally {
    cancel.dispose();
  }
  const order = graph.experiments.filter((n) => n in results);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ graph: graph.name, results: Object.fromEntries(order.map((n) => [n, results[n]!.toJSON()])) })}\n`);
  } else {
    const parts = order.map((n) => crystallize.formatResult(results[n] as unknown as Parameters<typeof crystallize.formatResult>[0]));
    process.stdout.write(`graph ${graph.name}: ${order.join(" → ")}\n\n${parts.join("\n\n")}\n`);
  }
  return order.some((n) => results[n]!.errors.length > 0) ? 1 : 0;
}
