// evidenceBundle(): one JSON bundle per replicate (evidence.json) with what it takes to judge it:
// the claim, the spec, the code and its hash, the sandbox report (output, console, limits, seed),
// the metamorphic results (cases, counterexamples), a summary of the LLM calls, and a verdict.
// The bundle is written by the last agentic step of the pipeline when it finishes (found in
// init()); a replicate that fails before then has no bundle (failed replicates are not stored).
import type { Plugin } from "../../dsl/plugin.js";
import { AGENTIC_KEYS, AGENTIC_STEP_ORDER, AGENTIC_STEPS, type EvidenceFlag } from "../steps/records.js";

export interface EvidenceBundleOptions {
  /** Artifact file name. Default "evidence.json". */
  readonly name?: string;
}

export interface EvidenceBundlePlugin extends Plugin {
  readonly name: "evidenceBundle";
}

export function evidenceBundle(options: EvidenceBundleOptions = {}): EvidenceBundlePlugin {
  const name = options.name ?? "evidence.json";
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(name)) throw new TypeError(`evidenceBundle: name must be a plain file name, got ${JSON.stringify(name)}`);
  // The writer is the last agentic step of the experiment's pipeline; metamorphicTests when the
  // pipeline is not known (e.g. a worker that did not call init).
  let writer: string = AGENTIC_STEPS.metamorphicTests;
  const plugin: EvidenceBundlePlugin = {
    name: "evidenceBundle",
    init(exp) {
      const names = exp.pipeline.steps.map((s) => s.name).filter((n) => AGENTIC_STEP_ORDER.includes(n));
      writer = names.at(-1) ?? AGENTIC_STEPS.metamorphicTests;
    },
    beforeReplicate(ctx) {
      if (ctx.has(AGENTIC_KEYS.traceEvidence)) return;
      const flag: EvidenceFlag = { writer, name };
      ctx.add(AGENTIC_KEYS.traceEvidence, flag);
    },
  };
  return Object.freeze(plugin);
}
