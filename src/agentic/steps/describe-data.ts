// A short, model-readable description of a dataset: its shape, columns and types, and a sample.
const MAX_SAMPLE = 3;

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function columnTypes(rows: readonly Record<string, unknown>[]): Record<string, string> {
  const types: Record<string, Set<string>> = {};
  for (const r of rows) for (const [k, v] of Object.entries(r)) (types[k] ??= new Set()).add(typeOf(v));
  return Object.fromEntries(Object.entries(types).map(([k, s]) => [k, [...s].sort().join(" | ")]));
}

function sample(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
  return text === undefined ? String(value) : text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

export function describeData(data: unknown): string {
  if (Array.isArray(data)) {
    const objects = data.length > 0 && data.every((r) => typeof r === "object" && r !== null && !Array.isArray(r));
    if (objects) {
      const rows = data as Record<string, unknown>[];
      const cols = Object.entries(columnTypes(rows)).map(([k, t]) => `${k}: ${t}`).join(", ");
      return `An array of ${rows.length} row objects. Columns: ${cols}.\nFirst rows: ${sample(rows.slice(0, MAX_SAMPLE))}`;
    }
    const types = [...new Set(data.map(typeOf))].sort().join(" | ") || "nothing";
    return `An array of ${data.length} values (${types}). First values: ${sample(data.slice(0, 10))}`;
  }
  if (typeof data === "object" && data !== null) {
    const entries = Object.entries(data as Record<string, unknown>);
    const parts = entries.map(([k, v]) =>
      Array.isArray(v) ? `${k}: array of ${v.length} (${[...new Set(v.map(typeOf))].sort().join(" | ")})` : `${k}: ${typeOf(v)}`,
    );
    return `An object with fields ${parts.join("; ")}.\nSample: ${sample(
      Object.fromEntries(entries.map(([k, v]) => [k, Array.isArray(v) ? v.slice(0, MAX_SAMPLE) : v])),
    )}`;
  }
  return `A single ${typeOf(data)}: ${sample(data)}`;
}
