// Shared by the commands that read stored runs (runs, show, diff, report, gc): where the store
// is, `exp@vN` references, and the registry opened and reconciled with the files.
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { Registry, type RunRecord } from "../runtime/registry/index.js";
import { CliError } from "./output.js";

export interface StoreOptions {
  project?: string;
  out?: string;
}

export function withStoreOptions(c: Command): Command {
  return c
    .option("-p, --project <tsconfig>", "the project's tsconfig.json (or its folder)", "tsconfig.json")
    .option("--out <dir>", "storage folder (default: .crystallize beside the tsconfig)");
}

/** The storage folder: --out, else .crystallize beside the tsconfig. */
export function storeDir(opts: StoreOptions): string {
  if (opts.out) return resolve(opts.out);
  let tsconfig = resolve(opts.project ?? "tsconfig.json");
  if (existsSync(tsconfig) && statSync(tsconfig).isDirectory()) tsconfig = join(tsconfig, "tsconfig.json");
  return join(dirname(tsconfig), ".crystallize");
}

export interface RunRef {
  readonly experiment: string;
  /** Undefined: the latest version. */
  readonly version?: number;
}

/** `exp`, `exp@vN` or `exp@N`. */
export function parseRef(text: string): RunRef {
  const m = /^(.+?)(?:@v?(\d+))?$/.exec(text);
  if (!m || m[1] === undefined) throw new CliError(`"${text}" names no run; write <experiment> or <experiment>@v<N>`);
  return m[2] === undefined ? { experiment: m[1] } : { experiment: m[1], version: Number(m[2]) };
}

export const refText = (r: { experiment: string; version: number }) => `${r.experiment}@v${r.version}`;

/** Opens the registry and brings it in line with the file store first. */
export async function openRegistry(opts: StoreOptions): Promise<Registry> {
  const registry = Registry.open(storeDir(opts));
  await registry.reconcile();
  return registry;
}

export function findRun(registry: Registry, ref: RunRef): RunRecord {
  const r = registry.get(ref.experiment, ref.version);
  if (r === undefined) {
    const known = registry.list({ experiment: ref.experiment }).map((x) => `v${x.version}`);
    throw new CliError(
      ref.version === undefined
        ? `no stored run of experiment "${ref.experiment}"${known.length ? "" : " (run it first: crystallize run " + ref.experiment + ")"}`
        : `experiment "${ref.experiment}" has no stored version v${ref.version}${known.length ? ` (stored: ${known.join(", ")})` : ""}`,
    );
  }
  return r;
}

export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined) return "—";
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6)) return x.toExponential(3);
  return Number(x.toPrecision(4)).toString();
}

export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const render = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [render(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(render)];
}

export function duration(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}
