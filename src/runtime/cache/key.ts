// The cache key of a step execution (DESIGN.md, "Cache key"): the sha256 over
//   (key schema version, step hash, canonical resolved params, input hash, random-stream seed?)
// Resolved params are in the key, so a treatment value or a changed default is a different
// entry: a treatment is never served the baseline's output.
import { UnhashableValueError, canonicalHash, createCanonicalHasher } from "../canonical-hash.js";
import type { StepCacheRequest } from "../services.js";

/** Bump when the key's composition or the canonical encoding changes: every old entry misses. */
export const CACHE_KEY_SCHEMA = "crystallize.cache-key/2";

export interface CacheKey {
  /** 64 hex digits. */
  readonly key: string;
  /** The canonical hash of the step's input (recorded in provenance). */
  readonly inputHash: string;
}

function hashPart<T>(what: string, request: StepCacheRequest, compute: () => T): T {
  try {
    return compute();
  } catch (e) {
    if (e instanceof UnhashableValueError) {
      throw new UnhashableValueError(
        e.path,
        `${e.reason}; a cacheable step's ${what} must be plain data (or set cacheable: false)`,
        `the ${what} of cacheable step "${request.step}"`,
      );
    }
    throw e;
  }
}

export function cacheKey(request: StepCacheRequest): CacheKey {
  const inputHash = hashPart("input", request, () => canonicalHash(request.input));
  const hasher = createCanonicalHasher().update(CACHE_KEY_SCHEMA).update(request.stepHash);
  hashPart("params", request, () => hasher.update(request.params));
  hasher.update(inputHash).update(request.randomSeed ?? null);
  return { key: hasher.digest(), inputHash };
}

/**
 * The key of an entry for a step that read its context (ctx.get/has, ctx.condition, ctx.replicate,
 * ctx.seed): the step's key plus each read's name and the canonical hash of the value seen. The
 * reads are only known once the step ran, so the step's key holds an index entry naming them.
 */
export function readsKey(key: string, reads: ReadonlyArray<readonly [string, string]>): string {
  return createCanonicalHasher().update("crystallize.cache-reads/1").update(key).update(reads.map(([n, h]) => [n, h])).digest();
}
