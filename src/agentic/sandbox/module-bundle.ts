// Host side: each allowed module becomes one self-contained CommonJS text (esbuild bundles the
// package with its own dependencies), written once to a private directory. Children read these
// texts at start and evaluate a fresh instance inside each job's own Compartment, so a module's
// `this`, globals, Math and timers are the job's, never the child's real realm (jstat is sloppy
// code: an unbound call handed out the real globalThis when it was loaded by Node).
// Node built-ins stay external: inside the sandbox a module's require() of one is refused (or, for
// `crypto`, answered by a seeded stub; see job.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { bundleCommonJs, writeByContent } from "./cjs-bundle.js";
import { isPrivateDir } from "./private-dir.js";

/** What SES's evaluator refuses in any source text (see prepare.ts for the guest's side). */
const SES_REJECTED = [/(^|[^.]|\.\.\.)\bimport(\s*(?:\(|\/[/*]))/, /<!--|-->/];

let fallbackDir: string | undefined;
function outputDir(cacheDir: string): string {
  if (cacheDir !== "" && isPrivateDir(cacheDir)) return cacheDir;
  // mkdtemp creates a 0700 directory: private to this user.
  if (fallbackDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "crystallize-sandbox-modules-"));
    fallbackDir = dir;
    // Children read the bundles at start only; the directory goes with this process.
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return fallbackDir;
}

async function bundleOne(specifier: string, resolveFrom: string, dir: string): Promise<string> {
  let text: string | undefined;
  try {
    text = await bundleCommonJs(`module.exports = require(${JSON.stringify(specifier)});\n`, dirname(resolveFrom), "sandbox-module-entry.js");
  } catch (error) {
    const first = (error as { errors?: Array<{ text: string }> }).errors?.[0]?.text;
    throw new Error(`the allowed import "${specifier}" cannot be loaded: ${first ?? String(error)}`);
  }
  if (!text) throw new Error(`the allowed import "${specifier}" bundled to nothing`);
  for (const pattern of SES_REJECTED) {
    const m = pattern.exec(text);
    if (m) throw new Error(`the allowed import "${specifier}" contains "${m[0].trim()}", which the sandbox's evaluator refuses`);
  }
  return writeByContent(dir, "sandbox-module-", text).file;
}

const bundles = new Map<string, Promise<string>>();

/** Bundle files by specifier, built once per (specifier, resolveFrom, directory) in this process. */
export async function bundleAllowedModules(
  allowedImports: readonly string[],
  resolveFrom: string,
  cacheDir: string,
): Promise<Record<string, string>> {
  const dir = outputDir(cacheDir);
  const out: Record<string, string> = {};
  for (const specifier of allowedImports) {
    const key = `${specifier}\u0000${resolveFrom}\u0000${dir}`;
    let pending = bundles.get(key);
    if (!pending) {
      pending = bundleOne(specifier, resolveFrom, dir);
      bundles.set(key, pending);
      pending.catch(() => bundles.delete(key));
    }
    out[specifier] = await pending;
  }
  return out;
}
