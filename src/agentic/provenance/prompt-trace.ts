// promptTrace(): stores every LLM call of the agentic steps as a JSON artifact,
// llm-call-<step>-<attempt>.json: the prompt messages and their sha256, the model asked for and
// the one that answered, parameters (temperature, maxTokens, seed), usage, latency, the attempt,
// and what the step made of the answer. It switches tracing on per replicate; the steps write.
// Stateless, so safe with concurrent and parallel execution.
import type { Plugin } from "../../dsl/plugin.js";
import { AGENTIC_KEYS, type PromptTraceFlag } from "../steps/records.js";

export interface PromptTraceOptions {
  /** File name prefix. Default "llm-call". */
  readonly prefix?: string;
}

export interface PromptTracePlugin extends Plugin {
  readonly name: "promptTrace";
}

export function promptTrace(options: PromptTraceOptions = {}): PromptTracePlugin {
  const flag: PromptTraceFlag = Object.freeze({ prefix: options.prefix ?? "llm-call" });
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(flag.prefix)) throw new TypeError(`promptTrace: prefix must be a plain file-name prefix, got ${JSON.stringify(flag.prefix)}`);
  const plugin: PromptTracePlugin = {
    name: "promptTrace",
    beforeReplicate(ctx) {
      if (!ctx.has(AGENTIC_KEYS.tracePrompts)) ctx.add(AGENTIC_KEYS.tracePrompts, flag);
    },
  };
  return Object.freeze(plugin);
}
