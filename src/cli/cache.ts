// crystallize cache ls | clear: the step cache under <out>/cache.
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { displayPath } from "../compiler/diagnostics.js";
import { findProject } from "./project-options.js";
import { dirname } from "node:path";

interface CacheOptions {
  project?: string;
  out?: string;
  json?: boolean;
}

function cacheRoot(opts: CacheOptions): string {
  let tsconfig = resolve(findProject(opts.project));
  if (existsSync(tsconfig) && statSync(tsconfig).isDirectory()) tsconfig = join(tsconfig, "tsconfig.json");
  return join(opts.out ? resolve(opts.out) : join(dirname(tsconfig), ".crystallize"), "cache");
}

export interface CacheListing {
  readonly root: string;
  readonly entries: number;
  readonly bytes: number;
  readonly oldest: string | null;
  readonly newest: string | null;
}

export function listCache(root: string): CacheListing {
  let entries = 0;
  let bytes = 0;
  let oldest = Infinity;
  let newest = -Infinity;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith(".entry")) {
        entries++;
        bytes += st.size;
        oldest = Math.min(oldest, st.mtimeMs);
        newest = Math.max(newest, st.mtimeMs);
      }
    }
  };
  if (existsSync(root)) walk(root);
  const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : null);
  return { root, entries, bytes, oldest: iso(oldest), newest: iso(newest) };
}

export function registerCache(program: Command): void {
  const cache = program.command("cache").description("inspect or clear the step cache");
  cache
    .command("ls")
    .description("show how many entries the step cache holds and their size")
    .option("-p, --project <tsconfig>", "the project's tsconfig.json, or a folder to search upward from for one (default: the current folder)")
    .option("--out <dir>", "storage folder (default: .crystallize beside the tsconfig)")
    .option("--json", "print as JSON")
    .action((opts: CacheOptions) => {
      const l = listCache(cacheRoot(opts));
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...l, root: displayPath(l.root) })}\n`);
      else if (l.entries === 0) process.stdout.write(`the cache (${displayPath(l.root)}) is empty\n`);
      else process.stdout.write(`${displayPath(l.root)}: ${l.entries} entr${l.entries === 1 ? "y" : "ies"}, ${(l.bytes / 1024).toFixed(1)} KiB, written ${l.oldest} … ${l.newest}\n`);
    });
  cache
    .command("clear")
    .description("delete every cache entry (steps run again on the next run)")
    .option("-p, --project <tsconfig>", "the project's tsconfig.json, or a folder to search upward from for one (default: the current folder)")
    .option("--out <dir>", "storage folder (default: .crystallize beside the tsconfig)")
    .action((opts: CacheOptions) => {
      const root = cacheRoot(opts);
      const l = listCache(root);
      rmSync(root, { recursive: true, force: true });
      process.stdout.write(`cleared ${l.entries} entr${l.entries === 1 ? "y" : "ies"} from ${displayPath(root)}\n`);
    });
}
