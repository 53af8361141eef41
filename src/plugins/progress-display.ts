// Progress on stderr: a redrawn bar on a TTY, plain lines (every 10%) otherwise.
import type { Progress } from "../dsl/run-options.js";
import { useColor } from "./terminal-color.js";

export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

export class ProgressDisplay {
  private lastDecile = -1;
  private drawn = false;

  constructor(private readonly stream: ProgressStream) {}

  update(p: Progress): void {
    if (p.total === 0) return;
    const ratio = p.done / p.total;
    const failed = p.failed ? `, ${p.failed} failed` : "";
    if (this.stream.isTTY) {
      const width = 24;
      const filled = Math.round(ratio * width);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      const eta = p.done > 0 && p.done < p.total ? ` eta ${formatMs((p.elapsedMs / p.done) * (p.total - p.done))}` : "";
      const text = `${p.experiment} ${bar} ${p.done}/${p.total}${failed}${eta}`;
      const colored = useColor(this.stream) && p.failed ? `\u001b[33m${text}\u001b[0m` : text;
      this.stream.write(`\r\u001b[2K${colored}`);
      this.drawn = true;
      if (p.done === p.total) this.finish();
      return;
    }
    const decile = Math.floor(ratio * 10);
    if (decile > this.lastDecile) {
      this.lastDecile = decile;
      this.stream.write(`${p.experiment}: ${p.done}/${p.total} tasks (${Math.round(ratio * 100)}%)${failed}, ${formatMs(p.elapsedMs)}\n`);
    }
  }

  finish(): void {
    if (this.drawn) this.stream.write("\n");
    this.drawn = false;
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
