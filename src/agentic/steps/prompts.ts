// The prompts the agentic steps send, and how answers are read back. Plain text builders: what a
// model sees is exactly what promptTrace() stores.
import type { Claim, Spec } from "../schema.js";
import { RELATIONS } from "../schema.js";
import type { LlmMessage } from "../llm/types.js";
import type { MetamorphicTransform } from "../metamorphic/transforms.js";

function claimText(claim: Claim | undefined): string {
  if (!claim) return "Claim: (none given; test the properties of the data below)";
  const lines = [`Claim "${claim.id}": ${claim.text}`];
  if (claim.metric) lines.push(`Metric: ${claim.metric}${claim.direction ? ` (should ${claim.direction})` : ""}`);
  if (claim.threshold !== undefined) lines.push(`Threshold: a relative change of at least ${claim.threshold}%`);
  if (claim.acceptance) lines.push(`Acceptance criteria: ${JSON.stringify(claim.acceptance)}`);
  return lines.join("\n");
}

export function specPrompt(input: {
  claim: Claim | undefined;
  data: string;
  transforms: readonly MetamorphicTransform<never>[];
  allowedImports: readonly string[];
  properties: readonly string[] | undefined;
}): LlmMessage[] {
  const transforms = input.transforms.map((t) => `- ${t.name}: ${t.description ?? "(custom transform)"}`).join("\n");
  const system = [
    "You design metamorphic tests for a program that will check a claim about a dataset.",
    "Answer with one JSON object and nothing else, of this form:",
    '{ "allowedImports": [], "entry": "default", "properties": [ { "name": "row_order", "transform": "permuteRows", "metric": "mean_x", "relation": "invariant", "tolerance": 1e-9 } ] }',
    "",
    "Transforms:",
    transforms,
    "",
    `Relations: ${RELATIONS.join(", ")} ("scaled" needs scale, "shifted" needs shift; "invariant" is the default).`,
    "A property's options may name the columns a transform touches: { \"columns\": [\"x\"] }.",
    "Property names use letters, digits and _ (each becomes the metric <name>_pass).",
    input.allowedImports.length
      ? `allowedImports may list only these modules: ${input.allowedImports.join(", ")}.`
      : "allowedImports must be empty: the program may import nothing.",
  ].join("\n");
  const user = [
    claimText(input.claim),
    "",
    `Data: ${input.data}`,
    ...(input.properties?.length ? ["", `Use exactly these property names: ${input.properties.join(", ")}.`] : []),
  ].join("\n");
  return [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
}

export function codePrompt(input: { claim: Claim | undefined; spec: Spec; data: string; metrics: readonly string[] }): LlmMessage[] {
  const { spec } = input;
  const entry = spec.entry === "default" ? "export default function (input) { ... }" : `export function ${spec.entry}(input) { ... }`;
  const properties = spec.properties.map(
    (p) =>
      `- ${p.name}: after the "${p.transform}" transform${Object.keys(p.options).length ? ` ${JSON.stringify(p.options)}` : ""}, ` +
      `${p.metric ? `the output's "${p.metric}"` : "every output value"} must be ${p.relation === "invariant" ? "unchanged" : p.relation} (tolerance ${p.tolerance}).`,
  );
  const system = [
    "You write one TypeScript ES module that computes what is needed to test a claim about a dataset.",
    `It must have ${entry}: it receives the dataset and returns a plain object of numbers.`,
    "It runs in a sandbox: no file system, network, process, timers, clock, eval, Function or dynamic import().",
    "Math.random is seeded. Return plain data only (no class instances, functions or Maps).",
    spec.allowedImports.length ? `It may import only: ${spec.allowedImports.join(", ")}.` : "It may not import anything.",
    ...(properties.length ? ["Its results are checked with these metamorphic properties:", ...properties] : []),
    "Answer with the whole module in one ```ts code block.",
  ].join("\n");
  const user = [
    claimText(input.claim),
    "",
    `Data: ${input.data}`,
    ...(input.metrics.length ? ["", `The returned object must include: ${input.metrics.join(", ")}.`] : []),
  ].join("\n");
  return [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
}

/** What is appended to the conversation after a rejected answer. */
export function feedback(previousAnswer: string, problem: string, what: "spec" | "code"): LlmMessage[] {
  return [
    { role: "assistant", content: previousAnswer },
    {
      role: "user",
      content:
        what === "spec"
          ? `That spec was rejected:\n${problem}\nAnswer again with the corrected JSON object only.`
          : `That module was rejected:\n${problem}\nFix it and answer with the whole module again, in one \`\`\`ts block.`,
    },
  ];
}

/** The code in a model's answer: the first fenced block (```ts, ```js, ...), else the whole answer. */
export function extractCode(answer: string): string {
  const fence = /```[ \t]*(?:ts|typescript|js|javascript|mjs|tsx)?[ \t]*\r?\n([\s\S]*?)```/i.exec(answer);
  return (fence?.[1] ?? answer).trim();
}
