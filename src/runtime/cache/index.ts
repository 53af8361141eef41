// The step cache: keys, the on-disk store, and the fallback step hash.
export { CACHE_KEY_SCHEMA, cacheKey, readsKey, type CacheKey } from "./key.js";
export { clearCache, createFileCache, type CacheLog, type FileCache, type FileCacheOptions } from "./file-cache.js";
export { FALLBACK_HASH_SCHEMA, fallbackStepHash, normaliseSource } from "./fallback-step-hash.js";
