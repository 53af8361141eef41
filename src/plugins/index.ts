// Built-in plugins and execution strategies.
export { seed, type SeedOptions, type SeedPlugin } from "./seed.js";
export { logging, type LoggingOptions, type LoggingPlugin, type LogLevel } from "./logging.js";
export { serial } from "./execution/serial.js";
export { concurrent } from "./execution/concurrent.js";
export { parallel, registerErrorClass, type ParallelOptions } from "./execution/parallel.js";
export { queue, type QueueOptions, type QueueConnection } from "./execution/queue.js";
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions, type ExperimentSource } from "./execution/queue-worker.js";
export { arrayTask, collect, type ArrayTaskOptions, type CollectOptions } from "./execution/queue-index.js";
// Built-in optimizers for experiment.optimize() (implemented in src/runtime/optimizers/).
export { gridSearch, randomSearch, type RandomSearchOptions, type GridSpace, type RandomSpace, type Range } from "../runtime/optimizers/index.js";
export { artifacts, type ArtifactsOptions, type ArtifactsPlugin } from "./artifacts.js";
