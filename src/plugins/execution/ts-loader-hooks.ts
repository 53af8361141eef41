// Node module hooks (node:module register()) that let a parallel() worker import TypeScript:
// `load` transpiles .ts/.mts/.cts/.tsx files with esbuild (types stripped, nothing checked), and
// `resolve` maps the TypeScript convention `./x.js` → `./x.ts` when the .js file does not exist.
// Registered only by a worker whose module is TypeScript (ts-loader.ts); esbuild is imported on
// the first TypeScript file, in Node's hooks thread, never by the runtime.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface ResolveContext {
  readonly parentURL?: string;
  readonly conditions?: readonly string[];
  readonly importAttributes?: Readonly<Record<string, string>>;
}
interface ResolveResult {
  readonly url: string;
  readonly format?: string | null;
  readonly shortCircuit?: boolean;
}
interface LoadContext {
  readonly format?: string | null;
  readonly conditions?: readonly string[];
  readonly importAttributes?: Readonly<Record<string, string>>;
}
interface LoadResult {
  readonly format: string;
  readonly source?: string | ArrayBuffer | Uint8Array | null;
  readonly shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<ResolveResult>;
type NextLoad = (url: string, context?: LoadContext) => Promise<LoadResult>;

const TS_FILE = /\.(ts|mts|cts|tsx)$/;

/** `./x.js` written in TypeScript means `./x.ts` (and .mjs → .mts, .cjs → .cts, .jsx → .tsx). */
const ALTERNATIVES: Readonly<Record<string, readonly string[]>> = {
  ".js": [".ts", ".tsx"],
  ".mjs": [".mts"],
  ".cjs": [".cts"],
  ".jsx": [".tsx"],
};

function isRelative(specifier: string): boolean {
  return specifier.startsWith("./") || specifier.startsWith("../") || specifier.startsWith("/") || specifier.startsWith("file:");
}

/**
 * Set when the hooks were registered after an import already failed on a TypeScript file: Node
 * keeps that failure cached under the file's URL, so TypeScript files then resolve under a marked
 * URL (`?crystallize-ts-loader`) that loads afresh.
 */
let mark = false;

export function initialize(data: { readonly mark?: boolean } | undefined): void {
  mark = data?.mark === true;
}

function marked(result: ResolveResult): ResolveResult {
  if (!mark || !result.url.startsWith("file:")) return result;
  const url = new URL(result.url);
  if (!TS_FILE.test(url.pathname) || url.searchParams.has("crystallize-ts-loader")) return result;
  url.searchParams.set("crystallize-ts-loader", "1");
  return { ...result, url: url.href };
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  return marked(await resolveTs(specifier, context, next));
}

async function resolveTs(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  try {
    return await next(specifier, context);
  } catch (error) {
    const parent = context.parentURL;
    if ((error as { code?: unknown }).code !== "ERR_MODULE_NOT_FOUND" || !parent || !isRelative(specifier)) throw error;
    const target = new URL(specifier, parent);
    const ext = /\.[a-z]+$/.exec(target.pathname)?.[0] ?? "";
    const candidates = ext in ALTERNATIVES
      ? ALTERNATIVES[ext]!.map((alt) => target.pathname.slice(0, -ext.length) + alt)
      : ext === "" ? [".ts", ".tsx", "/index.ts"].map((alt) => target.pathname + alt) : [];
    for (const path of candidates) {
      const url = new URL(path + target.search, target);
      if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
    }
    throw error;
  }
}

type Transform = (typeof import("esbuild"))["transform"];
let transform: Promise<Transform> | undefined;

export async function load(url: string, context: LoadContext, next: NextLoad): Promise<LoadResult> {
  if (!url.startsWith("file:") || !TS_FILE.test(new URL(url).pathname)) return next(url, context);
  const path = fileURLToPath(url);
  const { source } = await next(url, { ...context, format: "module" });
  const text = typeof source === "string" ? source : Buffer.from(source as Uint8Array).toString("utf8");
  transform ??= import("esbuild").then((m) => m.transform);
  const cjs = path.endsWith(".cts");
  const out = await (await transform)(text, {
    loader: path.endsWith(".tsx") ? "tsx" : "ts",
    format: cjs ? "cjs" : "esm",
    target: `node${process.versions.node.split(".")[0]}`,
    sourcefile: path,
    sourcemap: "inline",
  });
  return { format: cjs ? "commonjs" : "module", source: out.code, shortCircuit: true };
}
