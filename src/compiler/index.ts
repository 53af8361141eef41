// crystallize/compiler: the programmatic compiler (analyse, verify, hash, emit, bundle).
export { compile, analyze, typeScriptDiagnostics, defaultOutDir, type CompileOptions, type CompileResult, type Analysis } from "./compile.js";
export { loadProject, resolveTsconfig, hostOf, projectFiles, type ProjectOptions, type LoadedProject, type LoadResult } from "./project.js";
export { discover, isProjectFile, knownSteps, type Discovery, type ExperimentInfo, type GraphInfo, type StepInfo, type AnalysisHost } from "./discover.js";
export { rules, runRules, projectCodes, type Rule, type RuleContext } from "./rules/index.js";
export { HASH_SCHEMA_VERSION, type StepHash } from "./hash.js";
export { MANIFEST_VERSION, buildManifest, serializeManifest, stepHashesOf, type Manifest, type ManifestExperiment, type ManifestStep, type ManifestGraph, type ManifestEdge } from "./manifest.js";
export { runnerSource, templatesDir } from "./emit.js";
export { formatDiagnostic, toJSON as diagnosticToJSON, sortDiagnostics, hasErrors, type Diagnostic, type DiagnosticJSON, type Severity } from "./diagnostics.js";
export { closest, didYouMean } from "./suggest.js";
export { crystallizeDiagnostics, withCrystallizeRules, editorPlugin } from "./editor.js";
export { Watcher, type WatchResult, type WatchOptions } from "./watch.js";
export { bundle, BUNDLE_BANNER, type BundleOptions, type BundleResult } from "./bundle.js";
export { findExperiment, type Lookup } from "./lookup.js";
