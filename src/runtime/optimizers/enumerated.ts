// An optimizer that proposes a fixed number of candidates in order (candidate i named
// `<prefix>_<i>`, zero-padded so names sort) and keeps the best observed: the shape shared by
// gridSearch and randomSearch, which differ only in how candidate i's values are made.
import type { Params } from "../../dsl/json.js";
import type { Optimizer } from "../../dsl/optimizer.js";
import { treatment } from "../../dsl/treatment.js";
import { BestSoFar } from "./best.js";

export function enumeratedOptimizer<V extends object>(
  name: string,
  prefix: string,
  size: number,
  valuesAt: (index: number) => Params,
): Optimizer<V> {
  const width = String(Math.max(0, size - 1)).length;
  const tracker = new BestSoFar<V>();
  let next = 0;
  return Object.freeze({
    kind: "optimizer" as const,
    name,
    size,
    ask(count: number) {
      const out = [];
      while (out.length < count && next < size) {
        out.push(treatment(`${prefix}_${String(next).padStart(width, "0")}`, valuesAt(next)));
        next++;
      }
      return out as unknown as ReturnType<Optimizer<V>["ask"]>;
    },
    tell(observations) {
      tracker.observe(observations);
    },
    best() {
      return tracker.best;
    },
  } satisfies Optimizer<V>);
}
