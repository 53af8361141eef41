// Keeps the best observation: the lowest score, the earliest on a tie.
import type { Observation } from "../../dsl/optimizer.js";

export class BestSoFar<V extends object> {
  private current: Observation<V> | undefined;

  observe(observations: readonly Observation<V>[]): void {
    for (const o of observations) {
      if (o.score === Infinity || Number.isNaN(o.score)) continue;
      if (this.current === undefined || o.score < this.current.score) this.current = o;
    }
  }

  get best(): Observation<V> | undefined {
    return this.current;
  }
}
