// Throwaway projects to compile and run: source files in a temporary folder, a test tsconfig
// (crystallize-ts mapped to the DSL's sources for the checker), and node_modules/crystallize-ts
// linked to this repository so that compiled runners (and their workers) import its dist/.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeTestTsconfig } from "../compiler/temp-project.js";

export const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin/crystallize.js");
const typeRoots = [join(repo, "node_modules/@types")];

/** `files` maps paths relative to the project folder to their text; returns the folder. */
export function compiledProject(prefix: string, files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeTestTsconfig(dir, { lib: ["ES2023"], typeRoots, types: ["node"] });
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(repo, join(dir, "node_modules/crystallize-ts"), "dir");
  return dir;
}

/** The command line, as a user runs it. */
export function cli(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
