// JSON values: what params and treatment values may hold, so they hash and persist faithfully.

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** A params object: string keys, JSON values. */
export type Params = { readonly [key: string]: Json };

/**
 * Params as a step declares them: boolean literals widen to `boolean` (at any depth), so a
 * default `flag: false` accepts `true` in a treatment. Numbers and strings widen already when
 * inferred; a union written with `as` (`"euclidean" as Dist`) is kept.
 */
export type WidenParams<T> = T extends boolean ? boolean : T extends object ? { [K in keyof T]: WidenParams<T[K]> } : T;

/**
 * Returns why `value` is not plain JSON (naming the path), or undefined when it is.
 * NaN and infinities are refused: JSON cannot hold them, and they would not survive a round trip.
 */
export function nonJsonReason(value: unknown, path = "value", seen = new Set<object>()): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot represent`;
    case "object": {
      if (value === null) return undefined;
      if (seen.has(value)) return `${path} refers to itself (a cycle)`;
      seen.add(value);
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            const why = nonJsonReason(value[i], `${path}[${i}]`, seen);
            if (why) return why;
          }
          return undefined;
        }
        const proto = Object.getPrototypeOf(value) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          const ctor = (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
          return `${path} is a ${ctor}, not a plain object`;
        }
        for (const [k, v] of Object.entries(value)) {
          const why = nonJsonReason(v, `${path}.${k}`, seen);
          if (why) return why;
        }
        return undefined;
      } finally {
        seen.delete(value);
      }
    }
    default:
      return `${path} is a ${typeof value}, which JSON cannot represent`;
  }
}

/** Deep-freezes a JSON value in place (params and treatment values are immutable once declared). */
export function freezeJson<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) freezeJson(v);
  }
  return value;
}
