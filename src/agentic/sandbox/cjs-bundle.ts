// Host side: what the child bundle (child-bundle.ts) and the allowed modules (module-bundle.ts) share:
// one self-contained CommonJS text built by esbuild from a small entry, and its file in a private
// directory named by its content hash (written once, atomically: a reader sees all of it or none).
import { createHash } from "node:crypto";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Bundles `contents` (a CommonJS entry resolved from `resolveDir`) for Node 20; the text, or undefined when empty. */
export async function bundleCommonJs(contents: string, resolveDir: string, sourcefile: string): Promise<string | undefined> {
  const { build } = await import("esbuild");
  const result = await build({
    stdin: { contents, resolveDir, sourcefile, loader: "js" },
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text || undefined;
}

/** `<dir>/<prefix><content hash>.cjs`, written unless a file of that name is already there (`written` says which). */
export function writeByContent(dir: string, prefix: string, text: string): { file: string; written: boolean } {
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 24);
  const file = join(dir, `${prefix}${hash}.cjs`);
  if (existsSync(file)) return { file, written: false };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
  return { file, written: true };
}
