import { describe, expect, it } from "vitest";
import { useColor } from "../../src/plugins/terminal-color.js";
import { useColor as cliUseColor } from "../../src/cli/output.js";

describe("useColor, the one colour rule of the command line and the logging plugin", () => {
  const tty = { isTTY: true };
  it("colours a TTY only", () => {
    expect(useColor(tty, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({}, {})).toBe(false);
  });
  it("honours NO_COLOR when it is set to a non-empty value (no-color.org), and TERM=dumb", () => {
    expect(useColor(tty, { NO_COLOR: "1" })).toBe(false);
    expect(useColor(tty, { NO_COLOR: "" })).toBe(true);
    expect(useColor(tty, { TERM: "dumb" })).toBe(false);
    expect(useColor(tty, { TERM: "xterm-256color" })).toBe(true);
  });
  it("is the same function for the command line", () => {
    expect(cliUseColor).toBe(useColor);
  });
});
