// injectClaim(claim): puts the claim in the context (agentic.claim) and passes the data on.
import { step, type Step } from "../../dsl/step.js";
import { claim as makeClaim, type Claim, type ClaimOptions } from "../schema.js";
import { AGENTIC_KEYS, AGENTIC_STEPS } from "./records.js";
import { writeEvidenceIfLast } from "../provenance/trace.js";

export function injectClaim<T = any>(claim: Claim | ClaimOptions): Step<T, T, {}, never> {
  const frozen = makeClaim(claim);
  return step<T, T>(AGENTIC_STEPS.injectClaim, (data, ctx) => {
    ctx.add(AGENTIC_KEYS.claim, frozen);
    writeEvidenceIfLast(ctx, AGENTIC_STEPS.injectClaim);
    return data;
  });
}
