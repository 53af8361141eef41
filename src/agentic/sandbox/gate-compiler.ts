// Host side: the esbuild service behind the static gate, kept alive and bounded.
//
// One esbuild service (a Go child process) serves the whole host process. A hostile module must
// not be able to take it down for everyone or hold the host: a build that overruns its deadline
// stops the service (esbuild starts a new one on the next call), and a service that died under a
// build (a stack overflow in esbuild's parser) is stopped and the build retried once on a fresh
// one, so a crash costs one module its compilation, never the gate itself. Every warning kind is
// silenced: esbuild copies the offending source line into each warning, so a short module with
// thousands of warnings would cost the host hundreds of MiB (the gate finds direct eval by itself).
import { BoundedExecutionError } from "../errors.js";

type Esbuild = typeof import("esbuild");
let esbuild: Promise<Esbuild> | undefined;
function load(): Promise<Esbuild> {
  // Loaded on first use: importing crystallize/agentic does not start esbuild's service.
  esbuild ??= import("esbuild");
  return esbuild;
}

/** esbuild's warning ids (logger/msg_ids.go); an id esbuild does not know is ignored by it. */
const WARNING_IDS = [
  "assert-to-with", "assert-type-json", "assign-to-constant", "assign-to-define", "assign-to-import",
  "call-import-namespace", "class-name-will-throw", "commonjs-variable-in-esm", "delete-super-property",
  "direct-eval", "duplicate-case", "duplicate-class-member", "duplicate-object-key", "empty-import-meta",
  "equals-nan", "equals-negative-zero", "equals-new-object", "html-comment-in-js", "impossible-typeof",
  "indirect-require", "private-name-will-throw", "semicolon-after-return", "suspicious-boolean-not",
  "suspicious-define", "suspicious-logical-operator", "suspicious-nullish-coalescing",
  "this-is-undefined-in-esm", "unsupported-dynamic-import", "unsupported-jsx-comment", "unsupported-regexp",
  "unsupported-require-call", "ambiguous-reexport", "different-path-case", "empty-glob", "ignored-bare-import",
  "ignored-dynamic-import", "import-is-undefined", "require-resolve-not-external", "invalid-source-mappings",
  "missing-source-map", "unsupported-source-map-comment", "package.json", "tsconfig.json",
] as const;
const SILENT = Object.fromEntries(WARNING_IDS.map((id) => [id, "silent" as const]));

export interface CompiledModule {
  readonly code: string;
  readonly imports: ReadonlyArray<{ readonly path: string; readonly kind: string }>;
}

/** A compile error of the guest's own making (memoisable). */
export class GuestCompileError extends Error {}

const SERVICE_GONE = /service (was stopped|is no longer running)|stopped unexpectedly|EPIPE|write after end/i;

let generation = 0;
let retries = 0;

/** How often the gate restarted esbuild's service, and retried a build on a fresh one (for tests). */
export function gateServiceStats(): { readonly restarts: number; readonly retries: number } {
  return { restarts: generation, retries };
}
/** Builds sent to the current service: esbuild's stop() leaves them pending forever, so a restart
 * rejects them itself (their callers retry on the new service). */
const inFlight = new Set<(error: Error) => void>();

async function restart(from: number): Promise<void> {
  // Only the first caller to notice a dead (or overrun) service restarts it.
  if (generation !== from) return;
  generation++;
  const abandoned = [...inFlight];
  inFlight.clear();
  for (const reject of abandoned) reject(new Error("The service was stopped (restarted by the gate)"));
  try {
    await (await load()).stop();
  } catch {
    // already gone
  }
}

async function buildOnce(source: string): Promise<CompiledModule> {
  const { build } = await load();
  const imports: Array<{ path: string; kind: string }> = [];
  try {
    const result = await build({
      stdin: { contents: source, loader: "ts", sourcefile: "guest.ts" },
      bundle: true,
      write: false,
      format: "cjs",
      platform: "neutral",
      target: "node20",
      legalComments: "none",
      charset: "ascii",
      logLevel: "silent",
      logOverride: SILENT,
      plugins: [
        {
          name: "crystallize-sandbox-imports",
          setup(b) {
            b.onResolve({ filter: /.*/ }, (args) => {
              if (imports.length < 4096) imports.push({ path: args.path.slice(0, 500), kind: args.kind });
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    return { code: result.outputFiles?.[0]?.text ?? "", imports };
  } catch (error) {
    const first = (error as { errors?: Array<{ text: string; location?: { line: number; column: number } | null }> })
      .errors?.[0];
    if (first) {
      const where = first.location ? ` at guest.ts:${first.location.line}:${first.location.column + 1}` : "";
      throw new GuestCompileError(`the module does not compile${where}: ${first.text.slice(0, 500)}`);
    }
    throw error;
  }
}

/**
 * Compiles `source` within `deadlineMs` (milliseconds from now). Rejects with a GuestCompileError
 * for the guest's own errors, and with a BoundedExecutionError "timeout" past the deadline.
 */
export async function compileGuest(source: string, deadlineMs: number): Promise<CompiledModule> {
  const until = performance.now() + deadlineMs;
  for (let attempt = 0; ; attempt++) {
    const gen = generation;
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new BoundedExecutionError("timeout", "the static gate (compiling the module) ran past the time limit"));
      }, Math.max(0, until - performance.now()));
    });
    let abandon: ((error: Error) => void) | undefined;
    const building = new Promise<CompiledModule>((resolve, reject) => {
      abandon = reject;
      buildOnce(source).then(resolve, reject);
    });
    building.catch(() => {});
    inFlight.add(abandon as (error: Error) => void);
    try {
      return await Promise.race([building, overrun]);
    } catch (error) {
      if (error instanceof BoundedExecutionError) {
        // The build may still be running: stopping the service ends it.
        await restart(gen);
        throw error;
      }
      if (error instanceof GuestCompileError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (!SERVICE_GONE.test(message)) throw new GuestCompileError(`the module does not compile: ${message.slice(0, 500)}`);
      await restart(gen);
      if (attempt >= 1 || performance.now() >= until) {
        throw new GuestCompileError("the module could not be compiled: it crashed the compiler (too deeply nested?)");
      }
      retries++;
    } finally {
      clearTimeout(timer);
      inFlight.delete(abandon as (error: Error) => void);
    }
  }
}
