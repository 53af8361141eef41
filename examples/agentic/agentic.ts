// The agentic example: test a claim about a dataset with code a model writes.
//
// Claim: listings in the north cost at least 10% more per square foot than in the south.
// Each replicate draws a fresh sample of listings; the baseline looks at the south, the treatment
// "north" at the north. In every (condition, replicate) a model writes a spec (which metamorphic
// properties the analysis must satisfy) and the analysis itself; the code runs in the sandbox,
// the properties are checked on generated variants of the data (row order, duplicated rows, an
// irrelevant column, prices in another currency), and two hypotheses judge the outcome: is the code
// trustworthy (metamorphicVerifier) and does the claim hold (acceptanceVerifier).
//
// Offline by default: a scripted client answers like a model would, including a first attempt
// that reads the clock (refused in the sandbox, fed back, fixed). To use a local model server
// speaking OpenAI's protocol (Ollama, vLLM, llama.cpp, LM Studio), set CRYSTALLIZE_LLM_BASE_URL
// and CRYSTALLIZE_LLM_MODEL (and CRYSTALLIZE_LLM_API_KEY if it needs one): see README.md.
import { experiment, hypothesis, pipeline, source, step, treatment } from "crystallize-ts";
import {
  acceptanceVerifier,
  claim,
  evidenceBundle,
  executeSandboxed,
  generateSpec,
  injectClaim,
  metamorphicTests,
  metamorphicVerifier,
  openAICompatible,
  promptTrace,
  scripted,
  synthesize,
  type LlmClient,
  type LlmRequest,
} from "crystallize-ts/agentic";

interface Listing {
  readonly sqft: number;
  readonly price: number;
  readonly region: "north" | "south";
  readonly rooms: number;
}

export const northCostsMore = claim({
  id: "north-ppsf",
  text: "Listings in the north cost at least 10% more per square foot than listings in the south.",
  metric: "ppsf",
  direction: "increase",
  threshold: 10,
  acceptance: { metric: "ppsf = total price / total square feet of the listings" },
});

const PROPERTIES = ["row_order", "duplicates", "extra_column", "currency"] as const;

// ── the offline model ─────────────────────────────────────────────────────────────────────────

const SPEC = {
  allowedImports: [],
  properties: [
    { name: "row_order", transform: "permuteRows", metric: "ppsf", tolerance: 1e-9 },
    { name: "duplicates", transform: "duplicateRows", metric: "ppsf", tolerance: 1e-9 },
    { name: "extra_column", transform: "addColumn", tolerance: 1e-9 },
    { name: "currency", transform: "scale", metric: "ppsf", relation: "scaled", options: { columns: ["price"] }, tolerance: 1e-9 },
  ],
};

const FIRST_TRY = `\`\`\`ts
interface Listing { sqft: number; price: number }
export default function (rows: Listing[]) {
  const started = Date.now();
  let price = 0, sqft = 0;
  for (const r of rows) { price += r.price; sqft += r.sqft; }
  return { ppsf: price / sqft, listings: rows.length, ms: Date.now() - started };
}
\`\`\``;

const FIXED = `\`\`\`ts
interface Listing { sqft: number; price: number }
/** Price per square foot of the whole set: total price over total area. */
export default function (rows: Listing[]) {
  let price = 0, sqft = 0;
  for (const r of rows) { price += r.price; sqft += r.sqft; }
  return { ppsf: price / sqft, listings: rows.length };
}
\`\`\``;

/** Answers like a model: a spec when asked for one, code otherwise (fixed after feedback). */
function offlineModel(request: LlmRequest): string {
  const system = request.messages[0]?.content ?? "";
  if (system.startsWith("You design metamorphic tests")) return "```json\n" + JSON.stringify(SPEC, null, 2) + "\n```";
  const hadFeedback = request.messages.some((m) => m.role === "assistant");
  return hadFeedback ? FIXED : FIRST_TRY;
}

function model(): LlmClient {
  const baseUrl = process.env.CRYSTALLIZE_LLM_BASE_URL;
  if (!baseUrl) return scripted([offlineModel], { loop: true, model: "offline-demo" });
  return openAICompatible({
    baseUrl,
    model: process.env.CRYSTALLIZE_LLM_MODEL ?? "llama3.1",
    ...(process.env.CRYSTALLIZE_LLM_API_KEY ? { apiKey: process.env.CRYSTALLIZE_LLM_API_KEY } : {}),
    temperature: 0,
  });
}

const llm = model();

// ── the experiment ────────────────────────────────────────────────────────────────────────────

const listings = source("listings", (ctx): Listing[] =>
  Array.from({ length: 400 }, () => {
    const region = ctx.random() < 0.5 ? "north" : "south";
    const sqft = Math.round(600 + ctx.random() * 1800);
    const perSqft = (region === "north" ? 230 : 195) * (0.85 + 0.3 * ctx.random());
    return { sqft, price: Math.round(sqft * perSqft), region, rooms: 1 + Math.floor(sqft / 450) };
  }),
);

const inRegion = step("inRegion", { params: { region: "south" } }, (rows: Listing[], ctx) =>
  rows.filter((r) => r.region === ctx.params.region),
);

export const agentic = experiment("agentic", {
  source: listings,
  pipeline: pipeline(
    inRegion,
    injectClaim(northCostsMore),
    generateSpec({ llm, properties: PROPERTIES }),
    synthesize({ llm, maxAttempts: 3, budget: 20_000, metrics: ["ppsf"] }),
    executeSandboxed({ metrics: ["ppsf"], timeoutMs: 2000, memoryMb: 128 }),
    metamorphicTests({ properties: PROPERTIES, numRuns: 25 }),
  ),
  treatments: [treatment("north", { region: "north" })],
  hypotheses: [
    hypothesis("claim", { metric: "ppsf", test: acceptanceVerifier({ claim: northCostsMore }) }),
    hypothesis("trustworthy_code", {
      metric: ["row_order_pass", "duplicates_pass", "extra_column_pass", "currency_pass"],
      test: metamorphicVerifier(),
    }),
  ],
  plugins: [promptTrace(), evidenceBundle()],
  replicates: 5,
  seed: 7,
});
