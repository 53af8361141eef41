// Built-in optimizers for experiment.optimize().
export { gridSearch } from "./grid-search.js";
export { randomSearch, type RandomSearchOptions } from "./random-search.js";
export type { GridSpace, RandomSpace, Range, GridValues, RandomValues } from "./search-space.js";
