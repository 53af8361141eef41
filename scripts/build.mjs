// Builds dist/ from src/: esbuild transpiles each module 1:1 (fast), then tsc emits declarations.
// `--js-only` skips declarations (the test suite's global setup uses it).
// Each output file is replaced atomically (temp file + rename) and only when it changed, so a
// process importing dist/ while a build runs (a worker thread, a sandbox child) never reads a
// half-written module.
import { build } from "esbuild";
import { readdirSync, statSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const jsOnly = process.argv.includes("--js-only");

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

const srcDir = join(root, "src");
if (!existsSync(srcDir)) process.exit(0);
const result = await build({
  write: false,
  entryPoints: sources(srcDir),
  outdir: join(root, "dist"),
  outbase: srcDir,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
});
for (const file of result.outputFiles) {
  if (existsSync(file.path) && Buffer.compare(readFileSync(file.path), file.contents) === 0) continue;
  mkdirSync(dirname(file.path), { recursive: true });
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}

if (!jsOnly) {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
}
