// Claims and specs: the plain, deep-frozen, JSON-serialisable records an agentic run is about.
// A claim is what is asserted about the data; a spec says what the code that tests it may import,
// what it exports, and which metamorphic properties it must satisfy.
import { ValidationError } from "../errors.js";
import { freezeJson, nonJsonReason, type Json } from "../dsl/json.js";

export type ClaimDirection = "increase" | "decrease";

export interface ClaimOptions {
  /** A short identifier (letters, digits, ".", "_", "-"), used in file names and evidence bundles. */
  readonly id: string;
  /** The claim in words, as a model will read it. */
  readonly text: string;
  /** The metric the claim is about (as the generated code reports it). */
  readonly metric?: string;
  /** Which way the metric must move for the claim to hold (treatment against baseline). */
  readonly direction?: ClaimDirection;
  /** The smallest relative change, in percent of the baseline, that supports the claim. Default 0. */
  readonly threshold?: number;
  /** Free-form acceptance criteria (JSON), handed to the model with the claim. */
  readonly acceptance?: { readonly [key: string]: Json };
}

/** A validated, deep-frozen claim: its options, tagged. */
export interface Claim extends ClaimOptions {
  readonly kind: "claim";
}

/**
 * How a property's output must relate to the output on the untransformed input:
 * - "invariant": equal (within tolerance);
 * - "scaled": multiplied by the transform's factor (e.g. a mean under `scale`);
 * - "scaled-abs": multiplied by the factor's absolute value (e.g. a standard deviation under `scale`);
 * - "shifted": moved by the transform's offset (e.g. a mean under `shift`);
 * - "changed": different (the output must depend on what the transform changed).
 */
export type Relation = "invariant" | "scaled" | "scaled-abs" | "shifted" | "changed";
export const RELATIONS: readonly Relation[] = Object.freeze(["invariant", "scaled", "scaled-abs", "shifted", "changed"]);

/** Built-in transforms (custom ones are registered by name, see metamorphic/transforms.ts). */
export const BUILTIN_TRANSFORMS = Object.freeze(["identity", "permuteRows", "scale", "shift", "duplicateRows", "addColumn"] as const);
export type BuiltinTransformName = (typeof BUILTIN_TRANSFORMS)[number];

export interface PropertyOptions<N extends string = string> {
  /** Names the metric `${name}_pass`: letters, digits and "_", not starting with a digit. */
  readonly name: N;
  /** A built-in transform ("permuteRows", "scale", "shift", "duplicateRows", "addColumn") or a registered one. */
  readonly transform: BuiltinTransformName | (string & {});
  /** The output key to compare (when the code returns an object of metrics). Default: every numeric key. */
  readonly metric?: string;
  /** Default "invariant". */
  readonly relation?: Relation;
  /** Allowed difference: |actual - expected| <= tolerance * max(1, |expected|). Default 1e-9. */
  readonly tolerance?: number;
  /** Options of the transform (for example `{ columns: ["x"] }` for scale), JSON. */
  readonly options?: { readonly [key: string]: Json };
}

export interface MetamorphicProperty<N extends string = string> {
  readonly name: N;
  readonly transform: string;
  readonly metric?: string;
  readonly relation: Relation;
  readonly tolerance: number;
  readonly options: { readonly [key: string]: Json };
}

export interface SpecOptions<N extends string = string> {
  /** Bare module specifiers the generated code may import. */
  readonly allowedImports: readonly string[];
  /** The export the sandbox calls with the input. Default "default". */
  readonly entry?: string;
  readonly properties: readonly PropertyOptions<N>[];
}

/** A validated spec; `N` is the union of its property names (known when written in code). */
export interface Spec<N extends string = string> {
  readonly kind: "spec";
  readonly allowedImports: readonly string[];
  readonly entry: string;
  readonly properties: readonly MetamorphicProperty<N>[];
}

export const DEFAULT_TOLERANCE = 1e-9;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function unknownKeys(value: object, allowed: readonly string[], where: string, problems: string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      problems.push(`${where}: unknown key "${key}" (expected ${allowed.map((k) => `"${k}"`).join(", ")})`);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  return freezeJson(structuredClone(value));
}

/** A claim about data, deep-frozen. Throws ValidationError listing every problem. */
export function claim(options: ClaimOptions): Claim {
  const problems: string[] = [];
  if (!isRecord(options)) throw new ValidationError("claim", ["expected an object { id, text, metric?, direction?, threshold?, acceptance? }"]);
  unknownKeys(options, ["kind", "id", "text", "metric", "direction", "threshold", "acceptance"], "claim", problems);
  const o = options as unknown as Record<string, unknown>;
  if (o.kind !== undefined && o.kind !== "claim") problems.push(`kind must be "claim" when given, got ${JSON.stringify(o.kind)}`);
  if (typeof o.id !== "string" || !ID.test(o.id)) {
    problems.push(`id must be 1-128 letters, digits, ".", "_" or "-" (starting with a letter or digit), got ${JSON.stringify(o.id)}`);
  }
  if (typeof o.text !== "string" || o.text.trim() === "") problems.push("text must be a non-empty string");
  if (o.metric !== undefined && (typeof o.metric !== "string" || o.metric.trim() === "")) problems.push("metric must be a non-empty string");
  if (o.direction !== undefined && o.direction !== "increase" && o.direction !== "decrease") {
    problems.push(`direction must be "increase" or "decrease", got ${JSON.stringify(o.direction)}`);
  }
  if (o.direction !== undefined && o.metric === undefined) problems.push("direction needs a metric to apply to");
  if (o.threshold !== undefined && (typeof o.threshold !== "number" || !Number.isFinite(o.threshold) || o.threshold < 0)) {
    problems.push(`threshold must be a finite number >= 0 (a percentage), got ${JSON.stringify(o.threshold)}`);
  }
  if (o.acceptance !== undefined) {
    if (!isRecord(o.acceptance)) problems.push("acceptance must be a plain object of JSON values");
    else {
      const why = nonJsonReason(o.acceptance, "acceptance");
      if (why) problems.push(why);
    }
  }
  if (problems.length) throw new ValidationError(`claim ${typeof o.id === "string" ? `"${o.id}"` : ""}`.trim(), problems);
  const out: { -readonly [K in keyof Claim]: Claim[K] } = { kind: "claim", id: o.id as string, text: o.text as string };
  if (o.metric !== undefined) out.metric = o.metric as string;
  if (o.direction !== undefined) out.direction = o.direction as ClaimDirection;
  if (o.threshold !== undefined) out.threshold = o.threshold as number;
  if (o.acceptance !== undefined) out.acceptance = o.acceptance as Claim["acceptance"];
  return deepFreeze(out);
}

function checkProperty(p: unknown, i: number, problems: string[]): MetamorphicProperty | undefined {
  const where = `properties[${i}]`;
  if (!isRecord(p)) {
    problems.push(`${where} must be an object { name, transform, metric?, relation?, tolerance?, options? }`);
    return undefined;
  }
  unknownKeys(p, ["name", "transform", "metric", "relation", "tolerance", "options"], where, problems);
  const before = problems.length;
  if (typeof p.name !== "string" || !PROPERTY_NAME.test(p.name)) {
    problems.push(`${where}.name must be letters, digits and "_" (not starting with a digit), got ${JSON.stringify(p.name)}`);
  }
  if (typeof p.transform !== "string" || !IDENTIFIER.test(p.transform)) {
    problems.push(
      `${where}.transform must name a transform (built-in: ${BUILTIN_TRANSFORMS.join(", ")}), got ${JSON.stringify(p.transform)}`,
    );
  }
  if (p.metric !== undefined && (typeof p.metric !== "string" || p.metric === "")) problems.push(`${where}.metric must be a non-empty string`);
  if (p.relation !== undefined && !RELATIONS.includes(p.relation as Relation)) {
    problems.push(`${where}.relation must be one of ${RELATIONS.map((r) => `"${r}"`).join(", ")}, got ${JSON.stringify(p.relation)}`);
  }
  if (p.tolerance !== undefined && (typeof p.tolerance !== "number" || !Number.isFinite(p.tolerance) || p.tolerance < 0)) {
    problems.push(`${where}.tolerance must be a finite number >= 0, got ${JSON.stringify(p.tolerance)}`);
  }
  if (p.options !== undefined) {
    if (!isRecord(p.options)) problems.push(`${where}.options must be a plain object`);
    else {
      const why = nonJsonReason(p.options, `${where}.options`);
      if (why) problems.push(why);
    }
  }
  if (problems.length > before) return undefined;
  const out: { -readonly [K in keyof MetamorphicProperty]: MetamorphicProperty[K] } = {
    name: p.name as string,
    transform: p.transform as string,
    relation: (p.relation as Relation | undefined) ?? "invariant",
    tolerance: (p.tolerance as number | undefined) ?? DEFAULT_TOLERANCE,
    options: (p.options as MetamorphicProperty["options"] | undefined) ?? {},
  };
  if (p.metric !== undefined) out.metric = p.metric as string;
  return out;
}

/** A spec for generated code, deep-frozen. Throws ValidationError listing every problem. */
export function spec<const N extends string = string>(options: SpecOptions<N>): Spec<N> {
  const problems: string[] = [];
  if (!isRecord(options)) throw new ValidationError("spec", ["expected an object { allowedImports, entry?, properties }"]);
  unknownKeys(options, ["kind", "allowedImports", "entry", "properties"], "spec", problems);
  const o = options as unknown as Record<string, unknown>;
  if (o.kind !== undefined && o.kind !== "spec") problems.push(`kind must be "spec" when given, got ${JSON.stringify(o.kind)}`);
  const imports: string[] = [];
  if (!Array.isArray(o.allowedImports)) problems.push("allowedImports must be an array of bare module specifiers (may be empty)");
  else {
    o.allowedImports.forEach((m: unknown, i) => {
      if (typeof m !== "string" || m.trim() === "" || m !== m.trim()) problems.push(`allowedImports[${i}] must be a module specifier`);
      else if (m.startsWith(".") || m.startsWith("/") || /^[a-z]+:/i.test(m)) {
        problems.push(`allowedImports[${i}] "${m}" must be a bare package specifier`);
      } else imports.push(m);
    });
  }
  if (o.entry !== undefined && (typeof o.entry !== "string" || !(o.entry === "default" || IDENTIFIER.test(o.entry)))) {
    problems.push(`entry must be "default" or an export name, got ${JSON.stringify(o.entry)}`);
  }
  const properties: MetamorphicProperty[] = [];
  if (!Array.isArray(o.properties)) problems.push("properties must be an array (may be empty)");
  else {
    const names = new Set<string>();
    o.properties.forEach((p: unknown, i) => {
      const checked = checkProperty(p, i, problems);
      if (!checked) return;
      if (names.has(checked.name)) problems.push(`properties[${i}].name "${checked.name}" is used twice`);
      names.add(checked.name);
      properties.push(checked);
    });
  }
  if (problems.length) throw new ValidationError("spec", problems);
  return deepFreeze({
    kind: "spec",
    allowedImports: [...new Set(imports)].sort(),
    entry: (o.entry as string | undefined) ?? "default",
    properties: properties as MetamorphicProperty<N>[],
  });
}

/** Parses a spec from JSON text (a model's answer may wrap it in a ```json fence). */
export function parseSpec(text: string): Spec {
  return spec(parseJsonObject(text, "spec") as unknown as SpecOptions);
}

/** Parses a claim from JSON text. */
export function parseClaim(text: string): Claim {
  return claim(parseJsonObject(text, "claim") as unknown as ClaimOptions);
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/.exec(text);
  const body = (fenced?.[1] ?? text).trim();
  const start = body.indexOf("{");
  const end = body.lastIndexOf("}");
  if (start < 0 || end < start) throw new ValidationError(what, [`expected a JSON object, got: ${body.slice(0, 200)}`]);
  let value: unknown;
  try {
    value = JSON.parse(body.slice(start, end + 1));
  } catch (error) {
    throw new ValidationError(what, [`the JSON does not parse: ${(error as Error).message}`]);
  }
  if (!isRecord(value)) throw new ValidationError(what, ["expected a JSON object"]);
  return value;
}
