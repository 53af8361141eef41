// Bundle: one self-contained ESM file for one experiment (runner + project code + crystallize +
// packages), built with esbuild (platform node, format esm, a createRequire banner for CommonJS
// dependencies). Deterministic: two builds of the same code give the same bytes.
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import type { Plugin } from "esbuild";
import { compile, type CompileOptions } from "./compile.js";
import { diagnosticOf, type Diagnostic } from "./diagnostics.js";
import { runnerSource, WORKER_ENTRY_SPECIFIER, writeIfChanged } from "./emit.js";
import { findExperiment } from "./lookup.js";
import { stepHashesOf, type Manifest } from "./manifest.js";
import { errorMessage } from "../errors.js";

export interface BundleOptions extends CompileOptions {
  /** The experiment's name. */
  readonly experiment: string;
  /** Output file. Default: `<experiment>.mjs` in the working directory. */
  readonly outFile?: string;
  /** Minify (default true: smaller and faster to start). */
  readonly minify?: boolean;
  /**
   * Include the BullMQ/Redis client, so the bundle can run `--queue` and `--worker` (default false:
   * it adds about 1.3 MB, which every start of the bundle would pay to load).
   */
  readonly withQueue?: boolean;
}

export interface BundleResult {
  readonly ok: boolean;
  readonly diagnostics: readonly Diagnostic[];
  /** A message for the user when the experiment was not found (with the closest names). */
  readonly message?: string;
  readonly outFile?: string;
  readonly bytes?: number;
}

export const BUNDLE_BANNER =
  'import { createRequire as __crystallizeCreateRequire } from "node:module"; const require = __crystallizeCreateRequire(import.meta.url);';

/** Resolves `crystallize-ts` (and its subpaths) from the project's install, else from this package. */
function crystallizeResolver(root: string): Plugin {
  return {
    name: "crystallize-package",
    setup(build) {
      build.onResolve({ filter: /^crystallize-ts(\/.*)?$/ }, (args) => {
        for (const from of [join(root, "package.json"), import.meta.url]) {
          try {
            if (args.path === WORKER_ENTRY_SPECIFIER) {
              const pkg = createRequire(from).resolve("crystallize-ts/package.json");
              return { path: join(dirname(pkg), "dist", "plugins", "execution", "worker-entry.js") };
            }
            return { path: createRequire(from).resolve(args.path) };
          } catch {
            // next
          }
        }
        return { errors: [{ text: `cannot resolve "${args.path}": install crystallize in the project (npm install crystallize-ts)` }] };
      });
    },
  };
}

/** The queue's client packages, left out of a bundle unless asked for: importing one then fails with the fix. */
const QUEUE_PACKAGES = /^(bullmq|ioredis)(\/.*)?$/;

function withoutQueueClient(experiment: string): Plugin {
  return {
    name: "crystallize-without-queue-client",
    setup(build) {
      build.onResolve({ filter: QUEUE_PACKAGES }, (args) => ({ path: args.path, namespace: "crystallize-no-queue" }));
      build.onLoad({ filter: /.*/, namespace: "crystallize-no-queue" }, (args) => ({
        contents: `throw new Error(${JSON.stringify(
          `this bundle was built without the queue client (${args.path}); rebuild it with \`crystallize bundle ${experiment} --with-queue\` to use --queue or --worker`,
        )});`,
        loader: "js",
      }));
    },
  };
}

/**
 * A bundle holds one experiment's runner; a graph runs several, resuming by its own state, which a
 * bundle does not carry. Naming a graph is refused with the two ways that work.
 */
function graphMessage(manifest: Manifest, name: string): string | undefined {
  const g = manifest.graphs.find((x) => x.name === name) ?? manifest.graphs.find((x) => x.export === name);
  if (!g) return undefined;
  return (
    `"${name}" is a graph (${g.file}), and a bundle holds one experiment: run the graph with \`crystallize run ${g.name}\`, ` +
    `or bundle its experiments one by one (${g.experiments.map((e) => `\`crystallize bundle ${e}\``).join(", ")}); a bundled consumer reads its producers' latest stored runs`
  );
}

export async function bundle(options: BundleOptions): Promise<BundleResult> {
  const compiled = await compile({ ...options, emit: false });
  if (!compiled.ok || !compiled.analysis || !compiled.manifest || !compiled.root || !compiled.tsconfig) {
    return { ok: false, diagnostics: compiled.diagnostics };
  }
  const found = findExperiment(compiled.analysis, options.experiment);
  if (!found.ok) return { ok: false, diagnostics: compiled.diagnostics, message: graphMessage(compiled.manifest, options.experiment) ?? found.message };
  const { entry, moduleFile } = found;
  const outFile = resolve(options.cwd ?? process.cwd(), options.outFile ?? `${entry.name}.mjs`);
  const esbuild = await import("esbuild");
  try {
    const result = await esbuild.build({
      stdin: { contents: runnerSource(entry, moduleFile, { bundle: true, hashes: stepHashesOf(entry) }), resolveDir: compiled.root, sourcefile: `crystallize-runner-${entry.name}.mjs`, loader: "js" },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      banner: { js: BUNDLE_BANNER },
      minify: options.minify ?? true,
      legalComments: "none",
      charset: "utf8",
      tsconfig: compiled.tsconfig,
      absWorkingDir: compiled.root,
      write: false,
      logLevel: "silent",
      // A fixed nominal name: esbuild's minified names depend on the output file's name, and the
      // bundle must not (write: false, the bytes go to outFile below).
      outfile: join(compiled.root, "crystallize-bundle.mjs"),
      plugins: [crystallizeResolver(compiled.root), ...(options.withQueue ? [] : [withoutQueueClient(entry.name)])],
    });
    const out = result.outputFiles.find((f) => f.path.endsWith(".mjs")) ?? result.outputFiles[0]!;
    writeIfChanged(outFile, out.contents);
    return { ok: true, diagnostics: compiled.diagnostics, outFile, bytes: out.contents.byteLength };
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors ?? [];
    const diagnostics: Diagnostic[] = errors.length
      ? errors.map((e) => ({
          file: e.location ? resolve(compiled.root!, e.location.file) : undefined,
          line: e.location?.line ?? 1,
          column: (e.location?.column ?? 0) + 1,
          code: "CRY4007",
          severity: "error" as const,
          message: `the bundle could not be built: ${e.text}`,
        }))
      : [diagnosticOf(undefined, "CRY4007", `the bundle could not be built: ${errorMessage(err)}`)];
    return { ok: false, diagnostics: [...compiled.diagnostics, ...diagnostics] };
  }
}
