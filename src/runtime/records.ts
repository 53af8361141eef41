// The record types are declared with the DSL's public types; the runtime re-exports them here.
export * from "../dsl/records.js";
