// Builds dist/ (JavaScript only, well under a second) so that tests spawning node processes,
// worker threads or sandbox children run the current sources.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const script = fileURLToPath(new URL("../scripts/build.mjs", import.meta.url));
  execFileSync(process.execPath, [script, "--js-only"], { stdio: "inherit" });
}
