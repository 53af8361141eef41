// Child side: loads the SES shim (which defines lockdown, harden and Compartment) as fast as
// possible. Compiling and running the 500 KB shim is most of a sandbox process's cold start, so
// it is compiled through node:vm with V8's code cache, kept in a private directory the host names.
// Any problem with the cache falls back to a plain require: the cache only ever saves time.
import { createRequire } from "node:module";
import { closeSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";
import { isPrivateDir } from "./private-dir.js";

export type CodeCacheState = "hit" | "miss" | "off";

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

export interface SesLoad {
  readonly codeCache: CodeCacheState;
  /** Writes the code cache when it was missing or stale; call after lockdown() so that the
   * functions lockdown ran are compiled into it too. Never throws. */
  persist(): void;
}

const nothingToPersist = (): void => {};

/** Loads SES into this realm, through V8's code cache when one is available. */
export function loadSes(cacheDir: string): SesLoad {
  const require = createRequire(import.meta.url);
  const file = require.resolve("ses");
  if (cacheDir === "" || !isPrivateDir(cacheDir)) {
    require(file);
    return { codeCache: "off", persist: nothingToPersist };
  }
  let source: string;
  let key: string;
  try {
    const fd = openSync(file, "r");
    try {
      const st = fstatSync(fd);
      source = readFileSync(fd, "utf8");
      key = fnv1a(`${file}|${st.size}|${st.mtimeMs}|${process.version}|${process.arch}|${process.execArgv.join(" ")}`);
    } finally {
      closeSync(fd);
    }
  } catch {
    require(file);
    return { codeCache: "off", persist: nothingToPersist };
  }
  const cacheFile = join(cacheDir, `ses-${key}.v8cache`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapper, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const factory = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {} };
  factory(mod.exports, require, mod, file, dirname(file));
  const hit = cachedData !== undefined && script.cachedDataRejected !== true;
  if (hit) return { codeCache: "hit", persist: nothingToPersist };
  return {
    codeCache: "miss",
    persist() {
      try {
        const tmp = join(cacheDir, `.${basename(cacheFile)}.${process.pid}.tmp`);
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        renameSync(tmp, cacheFile);
      } catch {
        // a read-only or full disk only costs time
      }
    },
  };
}
