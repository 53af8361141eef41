// crystallize runs [exp] [--status s] [--since t] [--json] | runs reindex | runs rm <exp@vN...>:
// the run registry's history, rebuilt from the file store on demand.
import { rmSync } from "node:fs";
import type { Command } from "commander";
import { CliError, paint, useColor } from "./output.js";
import { duration, findRun, openRegistry, parseRef, refText, storeDir, table, withStoreOptions, type StoreOptions } from "./store-options.js";
import { Registry, type RunRow } from "../runtime/registry/index.js";

interface RunsOptions extends StoreOptions {
  status?: string;
  since?: string;
  json?: boolean;
}

/** `--since`: an ISO date/time, or a span back from now (30m, 12h, 7d). */
export function parseSince(text: string, now = Date.now()): string {
  const span = /^(\d+)([mhdw])$/.exec(text);
  if (span) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[span[2] as "m" | "h" | "d" | "w"];
    return new Date(now - Number(span[1]) * unit).toISOString();
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new CliError(`--since needs an ISO date (2026-01-31, 2026-01-31T12:00Z) or a span (30m, 12h, 7d), got "${text}"`);
  return new Date(t).toISOString();
}

export function formatRuns(rows: readonly RunRow[], color = paint(process.stdout), colored = useColor(process.stdout)): string {
  if (rows.length === 0) return "no stored runs";
  const status = (s: string) => (s === "completed" ? color.green(s) : s === "running" ? color.cyan(s) : color.red(s));
  const body = table([
    ["run", "status", "started", "duration", "git", "seed", "replicates", "cache hits", "errors"],
    ...rows.map((r) => [
      refText(r),
      r.status,
      `${r.startedAt.slice(0, 10)} ${r.startedAt.slice(11, 19)}Z`,
      duration(r.durationMs),
      r.gitCommit === null ? "—" : `${r.gitCommit.slice(0, 8)}${r.gitDirty ? "+dirty" : ""}`,
      String(r.seed),
      String(r.replicates),
      `${r.cacheHits}/${r.stepExecutions}`,
      String(r.errors),
    ]),
  ]);
  // Colour after padding, so the columns stay aligned.
  if (!colored) return body.join("\n");
  return body.map((line, i) => (i < 2 ? line : line.replace(/ (completed|running|failed|cancelled) /, (_m, s: string) => ` ${status(s)} `))).join("\n");
}

export function registerRuns(program: Command): void {
  const runs = withStoreOptions(
    program
      .command("runs")
      .description("list stored runs (the run registry): crystallize runs [experiment]; also runs reindex, runs rm")
      .argument("[experiment]", "only this experiment's runs")
      .option("--status <status>", "only runs with this status (completed, failed, cancelled, running)")
      .option("--since <when>", "only runs started since an ISO date or a span back from now (12h, 7d)")
      .option("--json", "print the rows as JSON"),
  ).action(async (experiment: string | undefined, opts: RunsOptions) => {
    const registry = await openRegistry(opts);
    try {
      const rows = registry.list({
        ...(experiment === undefined ? {} : { experiment }),
        ...(opts.status === undefined ? {} : { status: opts.status }),
        ...(opts.since === undefined ? {} : { since: parseSince(opts.since) }),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(rows)}\n` : `${formatRuns(rows)}\n`);
    } finally {
      registry.close();
    }
  });
  withStoreOptions(runs.command("reindex").description("rebuild the run registry from the stored versions (the files are the source of truth)")).action(
    async (_opts: StoreOptions, cmd: Command) => {
      // `runs` declares --out too, and commander hands it the option: read both levels.
      const registry = Registry.open(storeDir(cmd.optsWithGlobals<StoreOptions>()));
      try {
        const n = await registry.reindex();
        process.stdout.write(`indexed ${n} stored run${n === 1 ? "" : "s"} into ${registry.file}\n`);
      } finally {
        registry.close();
      }
    },
  );
  withStoreOptions(
    runs
      .command("rm")
      .description("delete stored runs (their version folders and registry rows)")
      .argument("<runs...>", "runs to delete, as <experiment>@v<N>")
      .option("--force", "also delete a run whose status is still running"),
  ).action(async (refs: string[], _opts: StoreOptions, cmd: Command) => {
    const opts = cmd.optsWithGlobals<StoreOptions & { force?: boolean }>();
    const registry = await openRegistry(opts);
    try {
      const targets = refs.map((text) => {
        const ref = parseRef(text);
        if (ref.version === undefined) throw new CliError(`runs rm needs a version: ${text}@v<N>`);
        return findRun(registry, ref);
      });
      for (const r of targets) {
        if (r.status === "running" && !opts.force) throw new CliError(`${refText(r)} is running (or was killed mid-run); add --force to delete it anyway`);
      }
      for (const r of targets) {
        // Files first: a crash between the two leaves a row that reconcile drops.
        rmSync(r.dir, { recursive: true, force: true });
        registry.remove(r.experiment, r.version);
        process.stdout.write(`deleted ${refText(r)}\n`);
      }
    } finally {
      registry.close();
    }
  });
}
