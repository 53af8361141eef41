// A private copy of a fixture project (test/fixtures/compiler/projects/<name>) in a temporary
// folder, removed after the test file: tests that compile or run a project never write into the
// repository, nor share a project (and its .crystallize/) with test files in other workers.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";

const repo = fileURLToPath(new URL("..", import.meta.url));
const fixtures = join(repo, "test/fixtures/compiler/projects");

export function fixtureProject(name: "basic" | "rules" | "hashing"): string {
  const root = mkdtempSync(join(tmpdir(), `cry-fixture-${name}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, name);
  cpSync(join(fixtures, name), dir, { recursive: true, filter: (src) => !src.includes(`${sep}.crystallize`) });
  // The shared base config, with its repository-relative paths made absolute.
  const base = JSON.parse(readFileSync(join(fixtures, "tsconfig.base.json"), "utf8")) as { compilerOptions: Record<string, unknown> };
  base.compilerOptions.paths = { "crystallize-ts": [join(repo, "src/dsl/index.ts")] };
  base.compilerOptions.typeRoots = [join(repo, "node_modules/@types")];
  writeFileSync(join(root, "tsconfig.base.json"), JSON.stringify(base, null, 2));
  // Runners import crystallize-ts as a package, as in a user's project.
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(repo, join(dir, "node_modules/crystallize-ts"), "dir");
  return dir;
}
