// gridSearch(space): every combination of the listed values, once each, in a fixed order (the
// first param varies slowest, the last fastest). Proposals are named grid_<i>.
import type { Optimizer } from "../../dsl/optimizer.js";
import type { Params } from "../../dsl/json.js";
import { ValidationError } from "../../errors.js";
import { enumeratedOptimizer } from "./enumerated.js";
import { spaceProblems, type GridSpace, type GridValues } from "./search-space.js";

export function gridSearch<const S extends GridSpace>(space: S): Optimizer<GridValues<S>> {
  const problems = spaceProblems(space, false);
  if (problems.length) throw new ValidationError("gridSearch()", problems);
  const keys = Object.keys(space);
  const lists = keys.map((k) => space[k]!);
  const size = lists.reduce((n, l) => n * l.length, 1);

  const valuesAt = (index: number): Params => {
    const picks: unknown[] = new Array(keys.length);
    let i = index;
    for (let k = keys.length - 1; k >= 0; k--) {
      const list = lists[k]!;
      picks[k] = list[i % list.length];
      i = Math.floor(i / list.length);
    }
    const values: Record<string, unknown> = {};
    keys.forEach((key, k) => Object.defineProperty(values, key, { value: picks[k], enumerable: true, writable: true, configurable: true }));
    return values as Params;
  };

  return enumeratedOptimizer<GridValues<S>>("gridSearch", "grid", size, valuesAt);
}
