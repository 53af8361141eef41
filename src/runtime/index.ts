// The runtime: context, task and experiment runners, results, seeds.
export { createEngine } from "./engine.js";
export type { RuntimeDefaults } from "./experiment-runner.js";
export { replicateSeed, streamSeed, createRandom } from "./seeds.js";
export { fallbackStepHash, createFileCache, clearCache, type FileCache, type FileCacheOptions } from "./cache/index.js";
export type { StepCache, StepCacheRequest, CachedStep, RunStorage, RunSummary, StoragePlugin, StoredTask } from "./services.js";
export { isStoragePlugin } from "./services.js";
export { formatResult } from "./summary.js";
