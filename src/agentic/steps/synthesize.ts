// synthesize({ code }) takes code as given (after the static gate); synthesize({ llm, maxAttempts,
// budget }) asks a model for it. Each answer goes through the static gate and a trial run in the
// sandbox on the step's data; a refusal or failure (with the guest's stack and output) is fed back
// to the model. Bounded by maxAttempts answers and a token budget: no new call is made once the
// tokens spent reach the budget.
import { errorMessage, ValidationError } from "../../errors.js";
import { step, type Step } from "../../dsl/step.js";
import { BoundedExecutionError, SynthesisError } from "../errors.js";
import type { LlmClient } from "../llm/types.js";
import { createPreparer } from "../sandbox/prepare.js";
import type { Claim, Spec } from "../schema.js";
import { describeData } from "./describe-data.js";
import { callModel, llmCallLog, modelSettings, sha256, type ModelSettings } from "./llm-calls.js";
import { codePrompt, extractCode, feedback } from "./prompts.js";
import { AGENTIC_KEYS, AGENTIC_STEPS, type CodeRecord } from "./records.js";
import { writeEvidenceIfLast } from "../provenance/trace.js";
import { agenticSandboxes, resolveLimits, type SandboxLimits } from "./sandboxes.js";

export interface GivenCodeOptions {
  readonly code: string;
}

export interface SynthesizeOptions extends ModelSettings {
  readonly llm: LlmClient;
  /** Answers to ask for at most. Default 3. */
  readonly maxAttempts?: number;
  /** Token budget (prompt + completion, all attempts): a number, or { tokens }. Default 50 000. */
  readonly budget?: number | { readonly tokens: number };
  /** Numeric keys the code's output must contain (named in the prompt, checked in the trial run). */
  readonly metrics?: readonly string[];
  /** Limits of the trial run (the same defaults as executeSandboxed). */
  readonly limits?: SandboxLimits;
}

export const SYNTHESIZE = AGENTIC_STEPS.synthesize;

const EMPTY_SPEC: Spec = Object.freeze({ kind: "spec", allowedImports: Object.freeze([]), entry: "default", properties: Object.freeze([]) }) as Spec;

function describeFailure(e: unknown): string {
  if (e instanceof BoundedExecutionError) {
    const parts = [`${e.reason}: ${e.message}`];
    if (e.details.guestStack) parts.push(e.details.guestStack);
    if (e.details.stdout) parts.push(`console output:\n${e.details.stdout.slice(-2000)}`);
    return parts.join("\n");
  }
  return errorMessage(e);
}

function missingMetrics(value: unknown, metrics: readonly string[]): string[] {
  if (metrics.length === 0) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [`the module returned ${Array.isArray(value) ? "an array" : typeof value}, not an object with ${metrics.join(", ")}`];
  const out = value as Record<string, unknown>;
  return metrics.filter((m) => typeof out[m] !== "number" || !Number.isFinite(out[m])).map((m) => `the output has no finite number "${m}"`);
}

export function synthesize<T = any>(options: GivenCodeOptions | SynthesizeOptions): Step<T, T, {}, never> {
  if (options && "code" in options && options.code !== undefined) {
    const source = options.code;
    if (typeof source !== "string" || source.trim() === "") throw new ValidationError("synthesize", ["code must be a non-empty string"]);
    return step<T, T>(SYNTHESIZE, async (data, ctx) => {
      const spec = ctx.get<Spec>(AGENTIC_KEYS.spec) ?? EMPTY_SPEC;
      await createPreparer(spec.allowedImports)(source);
      const record: CodeRecord = { source, sha256: sha256(source), origin: "given", attempts: 0, tokens: 0 };
      ctx.add(AGENTIC_KEYS.code, record);
      writeEvidenceIfLast(ctx, SYNTHESIZE);
      return data;
    });
  }
  const o = options as SynthesizeOptions;
  const problems: string[] = [];
  if (!o || typeof o.llm?.complete !== "function") problems.push("pass either { code } or { llm, maxAttempts, budget }");
  const maxAttempts = o?.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) problems.push("maxAttempts must be an integer >= 1");
  const budget = typeof o?.budget === "number" ? o.budget : (o?.budget?.tokens ?? 50_000);
  if (typeof budget !== "number" || !(budget > 0)) problems.push("budget must be a positive number of tokens");
  if (problems.length) throw new ValidationError("synthesize", problems);
  const metrics = [...(o.metrics ?? [])];
  const limits = resolveLimits(o.limits);

  return step<T, T>(SYNTHESIZE, async (data, ctx) => {
    const spec = ctx.get<Spec>(AGENTIC_KEYS.spec) ?? EMPTY_SPEC;
    const prepare = createPreparer(spec.allowedImports);
    const messages = codePrompt({ claim: ctx.get<Claim>(AGENTIC_KEYS.claim), spec, data: describeData(data), metrics });
    const settings = modelSettings(o, ctx.seed);
    const { keep, store: storeCalls } = llmCallLog(ctx, SYNTHESIZE);
    let tokens = 0;
    let attempts = 0;
    let lastProblem = "no answer was requested";
    try {
      while (attempts < maxAttempts) {
        if (tokens >= budget) {
          lastProblem = `token budget exhausted (${tokens} of ${budget} tokens spent); last problem: ${lastProblem}`;
          break;
        }
        attempts++;
        const { response, record } = await callModel(o.llm, SYNTHESIZE, attempts, messages, settings, ctx.signal);
        tokens += response.usage.totalTokens;
        const source = extractCode(response.text);
        let problem: string | undefined;
        try {
          await prepare(source);
          const sandbox = ctx.use(agenticSandboxes).get(spec.allowedImports, limits);
          const trial = await sandbox.run(source, data, { seed: ctx.seed, entry: spec.entry });
          const missing = missingMetrics(trial.value, metrics);
          if (missing.length) problem = missing.join("\n");
        } catch (e) {
          problem = describeFailure(e);
        }
        if (problem === undefined) {
          keep(record("accepted"));
          const code: CodeRecord = { source, sha256: sha256(source), origin: "llm", attempts, tokens };
          ctx.add(AGENTIC_KEYS.code, code);
          storeCalls();
          writeEvidenceIfLast(ctx, SYNTHESIZE);
          return data;
        }
        lastProblem = problem;
        keep(record(`rejected: ${problem.split("\n")[0]}`));
        messages.push(...feedback(response.text, problem, "code"));
      }
      throw new SynthesisError(
        `synthesize: no acceptable code from ${o.llm.model} after ${attempts} attempt(s) and ${tokens} tokens. Last problem: ${lastProblem}`,
        { attempts, tokens, lastProblem },
      );
    } finally {
      storeCalls();
    }
  });
}
