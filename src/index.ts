// The `crystallize-ts` entry point: the DSL, the runtime (installed into the DSL here), the
// built-in plugins, the errors, and the statistics re-exported from `crystallize-ts/stats`.
import { installEngine } from "./dsl/engine.js";
import type { Logger } from "./dsl/context.js";
import { createEngine } from "./runtime/engine.js";
import { createFileCache } from "./runtime/cache/index.js";
import { logging } from "./plugins/logging.js";
import { seed } from "./plugins/seed.js";
import { serial } from "./plugins/execution/serial.js";
import { artifacts } from "./plugins/artifacts.js";

const quietLogger: Logger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: (m: string) => void process.stderr.write(`warn ${m}\n`),
  error: (m: string) => void process.stderr.write(`error ${m}\n`),
});

installEngine(
  createEngine({
    defaultPlugins: () => [seed(), logging(), artifacts()],
    defaultExecution: () => serial(),
    fallbackLogger: () => quietLogger,
    createCache: ({ root, onCorrupt, log }) => createFileCache({ root, onCorrupt, log }),
  }),
);

export * from "./dsl/index.js";
export * from "./plugins/index.js";
export * from "./errors.js";
export { replicateSeed, streamSeed, fallbackStepHash, formatResult, createFileCache, clearCache } from "./runtime/index.js";
export type { StepCache, StepCacheRequest, CachedStep, RunStorage, RunSummary, StoragePlugin, StoredTask } from "./runtime/index.js";
export { canonicalHash, createCanonicalHasher, canonicalValue, UnhashableValueError, type CanonicalHasher } from "./runtime/canonical-hash.js";
export { cancelOnSignals, exitCodeOf, type SignalCancel } from "./runtime/signals.js";
export { renderGraph, describeGraph, type GraphDescription, type GraphFormat } from "./runtime/graph-render.js";
export * from "./stats/index.js";
