// crystallize exec <script.ts> [args...]: runs a TypeScript script of the project (for what only
// the API does: optimize(), apply(), resume). esbuild bundles it with the project's tsconfig
// (packages stay external, so it shares the project's crystallize-ts) into
// .crystallize/scripts/<name>.mjs, which is then imported in this process with the args.
import { existsSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import { displayPath } from "../compiler/diagnostics.js";
import { CliError } from "./output.js";
import { findProject } from "./project-options.js";

export function registerExec(program: Command): void {
  program
    .command("exec")
    .description("run a TypeScript script of the project (bundled with esbuild, packages external) with the given arguments")
    .argument("<script>", "the script, e.g. scripts/tune.ts")
    .argument("[args...]", "arguments for the script (in process.argv after the script)")
    .option("-p, --project <tsconfig>", "the project's tsconfig.json, or a folder to search upward from for one (default: the script's folder)")
    .passThroughOptions()
    .action(async (script: string, args: string[], opts: { project?: string }) => {
      const file = resolve(script);
      if (!existsSync(file)) throw new CliError(`script not found: ${script}`);
      const tsconfig = resolve(findProject(opts.project ?? dirname(file)));
      const root = existsSync(tsconfig) ? dirname(tsconfig) : dirname(file);
      const out = join(root, ".crystallize", "scripts", `${basename(file, extname(file))}.mjs`);
      const { build } = await import("esbuild");
      try {
        await build({
          entryPoints: [file],
          outfile: out,
          bundle: true,
          platform: "node",
          format: "esm",
          target: "node20",
          packages: "external",
          ...(existsSync(tsconfig) ? { tsconfig } : {}),
          absWorkingDir: root,
          sourcemap: "inline",
          sourcesContent: false,
          logLevel: "silent",
        });
      } catch (err) {
        const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors ?? [];
        const lines = errors.map((e) => (e.location ? `${e.location.file}(${e.location.line},${e.location.column + 1}): error: ${e.text}` : `error: ${e.text}`));
        throw new CliError(`${displayPath(file)} cannot be built:\n${lines.join("\n") || String(err)}`);
      }
      process.argv = [process.argv[0]!, file, ...args];
      process.setSourceMapsEnabled(true);
      await import(pathToFileURL(out).href);
    });
}
