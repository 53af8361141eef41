// The run registry: an SQLite index of the stored versions (see registry.ts), and what it
// records of each (summary.ts).
export { Registry, recordVersion, versionDirs, REGISTRY_FILE, REGISTRY_SCHEMA, type RunFilter, type RunRow } from "./registry.js";
export { summarizeVersion, summarize, readStoredResult, readTimings, storedValues, type RunRecord, type MetricSummary, type HypothesisOutcome, type RunErrorSummary, type StepTiming } from "./summary.js";
export { gitState, commandLine, type GitState } from "./git.js";
