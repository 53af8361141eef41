import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^crystallize-ts$/, replacement: src("index.ts") },
      { find: /^crystallize-ts\/stats$/, replacement: src("stats/index.ts") },
      { find: /^crystallize-ts\/agentic$/, replacement: src("agentic/index.ts") },
      { find: /^crystallize-ts\/compiler$/, replacement: src("compiler/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    // dist/ must exist for tests that spawn node (CLI, workers, sandbox children).
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    typecheck: {
      enabled: true,
      include: ["test/**/*.test-d.ts"],
      tsconfig: "tsconfig.json",
    },
  },
});
