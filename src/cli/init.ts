// crystallize init [dir]: a new project from templates/init (an example experiment, package.json,
// tsconfig.json) that compiles and runs once its dependencies are installed.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { createRequire } from "node:module";
import { displayPath } from "../compiler/diagnostics.js";
import { CliError, paint } from "./output.js";

/** Template file names that npm would drop or rename when publishing. */
const RENAMES: Record<string, string> = { gitignore: ".gitignore" };

function files(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p, base) : [relative(base, p)];
  });
}

export interface InitResult {
  readonly dir: string;
  readonly written: readonly string[];
}

/** This package's folder (the clone, or where npm installed it). */
function packageRoot(): string {
  return fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");
}

/**
 * The crystallize-ts dependency the new project gets: one that installs. From a clone (not under
 * node_modules), a file: spec to the clone; installed from a tarball or folder (npx ./x.tgz),
 * a file: spec to that, as the installing lockfile records it; else the registry version.
 */
export function dependencySpec(version: string, root: string = packageRoot()): string {
  const parts = root.split(sep);
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return `file:${root}`;
  const project = parts.slice(0, at).join(sep) || sep;
  for (const lock of [join(project, "node_modules", ".package-lock.json"), join(project, "package-lock.json")]) {
    try {
      const packages = (JSON.parse(readFileSync(lock, "utf8")) as { packages?: Record<string, { resolved?: string }> }).packages ?? {};
      const resolved = packages[parts.slice(at).join("/")]?.resolved;
      if (resolved?.startsWith("file:")) return `file:${resolve(project, resolved.slice(5))}`;
      if (resolved) break;
    } catch {
      // No lockfile there: try the next one.
    }
  }
  return `^${version}`;
}

export function initProject(target: string, options: { force?: boolean; name?: string; dependency?: string } = {}): InitResult {
  const dir = resolve(target);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CliError(`${displayPath(dir)} exists and is not a folder; choose another folder`);
  if (existsSync(dir) && readdirSync(dir).filter((f) => f !== ".git").length > 0 && !options.force) {
    throw new CliError(`${displayPath(dir)} is not empty; run init in a new or empty folder (or pass --force to add the files anyway, overwriting none)`);
  }
  const name = (options.name ?? basename(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+/, "") || "experiments";
  const require = createRequire(import.meta.url);
  const own = require("../../package.json") as { version: string; dependencies?: Record<string, string> };
  const tsRange = own.dependencies?.typescript?.replace(/^[~^]/, "") ?? "6.0.0";
  const vars: Record<string, string> = { name, crystallizeSpec: options.dependency ?? dependencySpec(own.version), typescriptVersion: tsRange };
  const src = fileURLToPath(new URL("../../templates/init", import.meta.url));
  const written: string[] = [];
  for (const rel of files(src)) {
    const parts = rel.split(/[\\/]/);
    parts[parts.length - 1] = RENAMES[parts[parts.length - 1]!] ?? parts[parts.length - 1]!;
    const out = join(dir, ...parts);
    if (existsSync(out)) continue;
    mkdirSync(join(out, ".."), { recursive: true });
    const text = readFileSync(join(src, rel), "utf8").replace(/\{\{(\w+)\}\}/g, (m, k: string) => vars[k] ?? m);
    writeFileSync(out, text);
    written.push(out);
  }
  return { dir, written };
}

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("create a new project with an example experiment, package.json and tsconfig.json")
    .argument("[dir]", "the folder to create (default: the current folder)", ".")
    .option("--name <name>", "the package name (default: the folder's name)")
    .option("--force", "add the files to a folder that is not empty (existing files are kept)")
    .option("--dependency <spec>", "the crystallize-ts dependency to write (default: a file: spec to the clone or tarball this runs from, else ^version)")
    .action((dir: string, opts: { name?: string; force?: boolean; dependency?: string }) => {
      const r = initProject(dir, opts);
      const c = paint(process.stdout);
      for (const f of r.written) process.stdout.write(`  ${c.green("created")} ${displayPath(f)}\n`);
      const cd = relative(process.cwd(), r.dir);
      process.stdout.write(`\nNext:\n${cd ? `  cd ${cd}\n` : ""}  npm install\n  npx crystallize compile\n  npx crystallize run example\n  npx crystallize exec scripts/tune.ts\n`);
    });
}
