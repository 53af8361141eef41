// logging({ level?, progress? }): the run's logger (ctx.log and the runtime's own messages) and
// the progress display, both on stderr so stdout stays clean for --json output.
import type { Logger } from "../dsl/context.js";
import type { Plugin } from "../dsl/plugin.js";
import type { RunInfo } from "../dsl/records.js";
import type { Result } from "../dsl/result.js";
import type { Progress } from "../dsl/run-options.js";
import { ValidationError } from "../errors.js";
import { ProgressDisplay, formatMs, type ProgressStream } from "./progress-display.js";
import { useColor } from "./terminal-color.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LoggingOptions {
  /** Default: "info" on a TTY, "warn" otherwise. */
  readonly level?: LogLevel;
  /** Progress display: default on a TTY only. */
  readonly progress?: boolean;
  /** Where to write; default process.stderr. */
  readonly stream?: ProgressStream;
}

export interface LoggingPlugin extends Plugin {
  readonly logger: Logger;
  onProgress(progress: Progress): void;
}

const COLORS: Record<Exclude<LogLevel, "silent">, string> = { debug: "90", info: "36", warn: "33", error: "31" };

export function logging(options: LoggingOptions = {}): LoggingPlugin {
  if (options.level !== undefined && !(options.level in ORDER)) {
    throw new ValidationError("logging()", [`level must be one of ${Object.keys(ORDER).join(", ")}, got ${JSON.stringify(options.level)}`]);
  }
  const stream: ProgressStream = options.stream ?? process.stderr;
  const level: LogLevel = options.level ?? (stream.isTTY ? "info" : "warn");
  const showProgress = options.progress ?? stream.isTTY === true;
  const color = useColor(stream);
  let display: ProgressDisplay | undefined;

  const emit = (lvl: Exclude<LogLevel, "silent">, message: string, details: unknown[]) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const extra = details.length ? " " + details.map((d) => (typeof d === "string" ? d : safeJson(d))).join(" ") : "";
    const tag = color ? `\u001b[${COLORS[lvl]}m${lvl}\u001b[0m` : lvl;
    display?.finish();
    stream.write(`${tag} ${message}${extra}\n`);
  };
  const logger: Logger = Object.freeze({
    debug: (m: string, ...d: unknown[]) => emit("debug", m, d),
    info: (m: string, ...d: unknown[]) => emit("info", m, d),
    warn: (m: string, ...d: unknown[]) => emit("warn", m, d),
    error: (m: string, ...d: unknown[]) => emit("error", m, d),
  });

  return {
    name: "logging",
    logger,
    beforeRun(run: RunInfo) {
      display = showProgress ? new ProgressDisplay(stream) : undefined;
      logger.info(
        `run ${run.experiment}: ${run.replicates} replicate(s) × ${run.conditions.length} condition(s) [${run.conditions.join(", ")}], seed ${run.seed}, ${run.strategy}`,
      );
    },
    onProgress(progress: Progress) {
      display?.update(progress);
    },
    afterRun(result: Result) {
      display?.finish();
      const failed = result.errors.length;
      logger.info(`done ${result.experiment} in ${formatMs(result.run.durationMs)}${failed ? `, ${failed} task(s) failed` : ""}`);
      for (const e of result.errors.slice(0, 5)) {
        logger.warn(`${e.condition} replicate ${e.replicate}${e.step ? ` step ${e.step}` : ""}: ${e.message}`);
      }
      if (failed > 5) logger.warn(`… and ${failed - 5} more failure(s) in result.errors`);
      for (const h of result.hypotheses) {
        if ("error" in h) logger.warn(`hypothesis ${h.name} could not be evaluated: ${h.error.message}`);
      }
    },
  };
}

function safeJson(v: unknown): string {
  // JSON.stringify gives "{}" for an Error (its fields are not enumerable).
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
