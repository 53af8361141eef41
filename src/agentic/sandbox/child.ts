// The sandbox child's plain ES-module entry (used when the faster CommonJS bundle cannot be built,
// see child-bundle.ts). SES comes from its CommonJS build through V8's code cache.
import { startChild } from "./child-main.js";
import { loadSes } from "./ses-loader.js";

startChild((config) => loadSes(config.cacheDir));
