// The TypeScript compiler API, loaded for speed: through require() (an ESM import of the 9 MB
// CommonJS bundle makes Node lex it for named exports, about half a second) and with a V8 code
// cache kept in the OS temp folder, so the functions the checker needs are not compiled again on
// every run. Any problem falls back to a plain require(). CRYSTALLIZE_NO_CODE_CACHE=1 disables
// the cache.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Script } from "node:vm";
import type * as TS from "typescript";

const require = createRequire(import.meta.url);

function loadWithCodeCache(): typeof TS | undefined {
  const file = require.resolve("typescript");
  const version = (require("typescript/package.json") as { version: string }).version;
  const dir = join(tmpdir(), "crystallize-code-cache");
  const cacheFile = join(dir, `typescript-${version}-${process.version}-${process.arch}.bin`);
  const source = readFileSync(file, "utf8");
  const cachedData = existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const script = new Script((Module as unknown as { wrap(s: string): string }).wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
  const fn = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  const mod = { exports: {} as unknown };
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  const ts = mod.exports as typeof TS;
  if (typeof ts?.createProgram !== "function") return undefined;
  if (!cachedData || script.cachedDataRejected) {
    // Written at exit, after this run compiled the functions it used.
    process.once("exit", () => {
      try {
        mkdirSync(dir, { recursive: true });
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // a cache is only an optimisation
      }
    });
  }
  return ts;
}

function load(): typeof TS {
  if (!process.env.CRYSTALLIZE_NO_CODE_CACHE) {
    try {
      const ts = loadWithCodeCache();
      if (ts) return ts;
    } catch {
      // fall back
    }
  }
  return require("typescript") as typeof TS;
}

const ts: typeof TS = load();
export default ts;
