// Makes step records writable as JSON artifacts: NaN and infinities become strings ("NaN",
// "Infinity"), bigints become strings, typed arrays arrays, Dates ISO strings, undefined is dropped.
export function toJsonSafe(value: unknown, depth = 0): unknown {
  if (depth > 200) return "[too deep]";
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return `${value}n`;
    case "string":
    case "boolean":
      return value;
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      break;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => toJsonSafe(v, depth + 1));
  }
  if (Array.isArray(value)) return value.map((v) => toJsonSafe(v, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const safe = toJsonSafe(v, depth + 1);
    if (safe !== undefined) out[k] = safe;
  }
  return out;
}
