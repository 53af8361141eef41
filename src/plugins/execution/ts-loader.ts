// Lets this thread import TypeScript modules: registers ts-loader-hooks (esbuild transpilation)
// with node:module register(). A parallel() worker calls it before importing a .ts experiment
// module, since workers do not get a test runner's transform (vitest) and a plain `node` host has
// no loader at all. Registering once per thread is enough; later calls do nothing.
import { register } from "node:module";

let registered = false;

/** True when `url` names a TypeScript file Node cannot import without a loader. */
export function isTypeScriptUrl(url: string): boolean {
  try {
    return /\.(ts|mts|cts|tsx)$/.test(new URL(url).pathname);
  } catch {
    return false;
  }
}

/**
 * Registers the TypeScript hooks in this thread (idempotent); false when they already were.
 * `afterFailure`: an import already failed on a TypeScript file (Node caches that failure under
 * the file's URL), so the hooks load TypeScript files under marked URLs.
 */
export function registerTypeScriptLoader(options: { readonly afterFailure?: boolean } = {}): boolean {
  if (registered) return false;
  registered = true;
  // The hooks file sits beside this one: .js in dist/, .ts when run from src/ under a loader.
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  register(new URL(`./ts-loader-hooks${ext}`, import.meta.url), { data: { mark: options.afterFailure === true } });
  return true;
}
