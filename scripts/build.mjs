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
function writeAtomically(path, contents) {
  if (existsSync(path) && Buffer.compare(readFileSync(path), contents) === 0) return;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}
for (const file of result.outputFiles) writeAtomically(file.path, file.contents);

// The tsserver plugin: one CommonJS file (tsserver loads plugins with require()), in a folder
// whose package.json makes it CommonJS inside this ESM package. The compiler's modules import
// ./typescript.js; here that import goes to typescript-host.ts, so that the rules use the
// editor's own TypeScript, which tsserver hands to the plugin.
const pluginDir = join(root, "dist", "tsserver-plugin");
const compilerDir = join(srcDir, "compiler");
const plugin = await build({
  write: false,
  entryPoints: [join(compilerDir, "tsserver-plugin.ts")],
  outfile: join(pluginDir, "index.js"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["typescript"],
  footer: { js: "module.exports = module.exports.default;" },
  logLevel: "warning",
  plugins: [
    {
      name: "editor-typescript",
      setup(b) {
        b.onResolve({ filter: /(^|\/)typescript\.js$/ }, (args) =>
          args.importer.startsWith(compilerDir) ? { path: join(compilerDir, "typescript-host.ts") } : undefined,
        );
      },
    },
  ],
});
writeAtomically(join(pluginDir, "package.json"), Buffer.from('{ "type": "commonjs" }\n'));
for (const file of plugin.outputFiles) writeAtomically(file.path, file.contents);

if (!jsOnly) {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
}
