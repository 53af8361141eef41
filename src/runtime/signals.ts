// Ctrl-C / SIGTERM for a run in this process (the CLI's graph runs, compiled runners, bundles):
// the first aborts the run (completed work stays stored, --resume continues it); a second exits at once.
export interface SignalCancel {
  readonly signal: AbortSignal;
  /** The signal received, if any. */
  received(): NodeJS.Signals | undefined;
  dispose(): void;
}

export function cancelOnSignals(stderr: { write(chunk: string): unknown } = process.stderr): SignalCancel {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (sig: NodeJS.Signals) => {
    if (received) {
      stderr.write(`\n${sig} again: exiting now\n`);
      process.exit(exitCodeOf(sig));
    }
    received = sig;
    stderr.write(`\n${sig}: cancelling after the running steps (Ctrl-C again to exit at once)\n`);
    controller.abort(new Error(`received ${sig}`));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

/** 128 + the signal's number, as shells report it. */
export const exitCodeOf = (sig: NodeJS.Signals): number => (sig === "SIGTERM" ? 143 : 130);
