// Whether to write colours to a stream: the one rule for the command line and the logging plugin.
// Colours only on a TTY, never with NO_COLOR set to a non-empty value (no-color.org) or TERM=dumb.

export interface ColorStream {
  readonly isTTY?: boolean;
}

export function useColor(stream: ColorStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}
