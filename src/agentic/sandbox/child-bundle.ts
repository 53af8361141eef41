// Host side: how a sandbox child is started.
//
// Fast path: once per host process, esbuild bundles the child (child-main.js and its few modules)
// together with SES into one CommonJS file, stored in the private cache directory under its content
// hash. A child is then `node -e <LAUNCHER> <bundle> <config>`: the launcher compiles the bundle
// through V8's code cache and runs it. That skips Node's ES-module loader and most compilation,
// which is most of a cold start (see bench/agentic.bench.mjs).
// Fallback (no private cache directory, or the bundle cannot be built): `node child.js <config>`.
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { bundleCommonJs, writeByContent } from "./cjs-bundle.js";
import { isPrivateDir } from "./private-dir.js";

/** Runs the bundle given as argv[1] with V8's code cache (kept beside it, keyed by the V8 flags). */
export const LAUNCHER = `"use strict";
const fs = require("fs"), vm = require("vm"), path = require("path");
const file = process.argv[1];
const key = process.execArgv.filter((a) => a.startsWith("--")).join(" ") + "|" + process.version + "|" + process.arch;
let h = 0x811c9dc5;
for (let i = 0; i < key.length; i++) { h ^= key.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
const cacheFile = file + "." + h.toString(16) + ".v8cache";
let cached;
try { cached = fs.readFileSync(cacheFile); } catch {}
const source = fs.readFileSync(file, "utf8");
const script = new vm.Script("(function (exports, require, module, __filename, __dirname) {" + source + "\\n})", cached ? { filename: file, cachedData: cached } : { filename: file });
const hit = cached !== undefined && script.cachedDataRejected !== true;
globalThis.__crystallizeSandboxLauncher = {
  codeCache: hit ? "hit" : "miss",
  persist() {
    if (hit) return;
    try {
      const tmp = cacheFile + "." + process.pid + ".tmp";
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(tmp, cacheFile);
    } catch {}
  },
};
const mod = { exports: {} };
script.runInThisContext()(mod.exports, require, mod, file, path.dirname(file));
`;

/** What the bundle's entry passes to startChild: SES is already loaded (bundled), the launcher knows the cache state. */
const BUNDLED_SES_LOADER = `() => {
  const l = globalThis.__crystallizeSandboxLauncher;
  delete globalThis.__crystallizeSandboxLauncher;
  return l ? { codeCache: l.codeCache, persist: l.persist } : { codeCache: "off", persist() {} };
}`;

async function buildBundle(childEntry: string, cacheDir: string): Promise<string> {
  const dir = dirname(childEntry);
  const main = join(dir, "child-main.js");
  if (!existsSync(main)) throw new Error(`${main} does not exist`);
  const sesPath = createRequire(childEntry).resolve("ses");
  const text = await bundleCommonJs(
    `require(${JSON.stringify(sesPath)});\nrequire(${JSON.stringify(main)}).startChild(${BUNDLED_SES_LOADER});\n`,
    dir,
    "sandbox-child-entry.js",
  );
  if (!text) throw new Error("esbuild produced no output");
  const { file, written } = writeByContent(cacheDir, "sandbox-child-", text);
  if (written) pruneStale(cacheDir, basename(file));
  return file;
}

const STALE_MS = 7 * 24 * 3600 * 1000;

/** Removes bundles (and their code caches) of other versions not used for a week. */
function pruneStale(cacheDir: string, current: string): void {
  try {
    for (const name of readdirSync(cacheDir)) {
      if (!name.startsWith("sandbox-child-") || name.startsWith(current)) continue;
      const path = join(cacheDir, name);
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { force: true });
    }
  } catch {
    // pruning is best effort
  }
}

const launches = new Map<string, Promise<readonly string[]>>();

/**
 * The arguments that start a child, before its configuration argument: the bundled launch when a
 * private cache directory is available, else the plain entry. Memoised per (entry, cache dir).
 */
export function childLaunchArgs(childEntry: string, cacheDir: string): Promise<readonly string[]> {
  const key = `${childEntry}\u0000${cacheDir}`;
  let pending = launches.get(key);
  if (!pending) {
    pending =
      cacheDir === "" || !isPrivateDir(cacheDir)
        ? Promise.resolve([childEntry])
        : buildBundle(childEntry, cacheDir).then(
            (bundle): readonly string[] => ["-e", LAUNCHER, bundle],
            (): readonly string[] => [childEntry],
          );
    launches.set(key, pending);
  }
  return pending;
}
