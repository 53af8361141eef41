// crystallize gc --keep N [--dry-run]: keeps the newest N versions of each experiment and
// deletes the rest (never a running one), then deletes the step-cache entries no kept run can
// have written: those last modified before the oldest kept run started.
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { CliError } from "./output.js";
import { openRegistry, refText, storeDir, withStoreOptions, type StoreOptions } from "./store-options.js";
import type { Registry, RunRow } from "../runtime/registry/index.js";

export interface GcPlan {
  readonly remove: readonly RunRow[];
  /** Cache entries to delete (absolute paths). */
  readonly cache: readonly string[];
  readonly keptRunning: number;
}

export function planGc(registry: Registry, cacheRoot: string, keep: number): GcPlan {
  const byExp = new Map<string, RunRow[]>();
  for (const r of registry.list()) (byExp.get(r.experiment) ?? byExp.set(r.experiment, []).get(r.experiment)!).push(r);
  const remove: RunRow[] = [];
  const kept: RunRow[] = [];
  let keptRunning = 0;
  for (const rows of byExp.values()) {
    rows.sort((a, b) => b.version - a.version);
    rows.forEach((r, i) => {
      if (i < keep) kept.push(r);
      else if (r.status === "running") (keptRunning++, kept.push(r));
      else remove.push(r);
    });
  }
  // A kept run reads and writes cache entries while it runs: entries older than the oldest kept
  // run's start were written by no kept run. With nothing kept, every entry goes.
  const oldest = kept.length ? Math.min(...kept.map((r) => Date.parse(r.startedAt))) : Infinity;
  const cache: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith(".entry") && st.mtimeMs < oldest) cache.push(p);
    }
  };
  walk(cacheRoot);
  return { remove, cache, keptRunning };
}

export function registerGc(program: Command): void {
  withStoreOptions(
    program
      .command("gc")
      .description("delete old stored runs (keeping the newest N per experiment, and every running one) and unreferenced cache entries")
      .requiredOption("--keep <n>", "versions to keep per experiment")
      .option("--dry-run", "only print what would be deleted"),
  ).action(async (opts: StoreOptions & { keep: string; dryRun?: boolean }) => {
    const keep = Number(opts.keep);
    if (!Number.isInteger(keep) || keep < 0) throw new CliError(`--keep needs an integer ≥ 0, got "${opts.keep}"`);
    const registry = await openRegistry(opts);
    try {
      const plan = planGc(registry, join(storeDir(opts), "cache"), keep);
      const verb = opts.dryRun ? "would delete" : "deleted";
      for (const r of plan.remove) {
        if (!opts.dryRun) {
          rmSync(r.dir, { recursive: true, force: true });
          registry.remove(r.experiment, r.version);
        }
        process.stdout.write(`${verb} ${refText(r)}\n`);
      }
      if (!opts.dryRun) for (const p of plan.cache) rmSync(p, { force: true });
      process.stdout.write(
        `${verb} ${plan.remove.length} run${plan.remove.length === 1 ? "" : "s"} and ${plan.cache.length} cache entr${plan.cache.length === 1 ? "y" : "ies"}` +
          `${plan.keptRunning ? `; kept ${plan.keptRunning} running run${plan.keptRunning === 1 ? "" : "s"}` : ""}\n`,
      );
    } finally {
      registry.close();
    }
  });
}
