// A script for what only the API does, run with `npx crystallize exec scripts/tune.ts`:
// search the `factor` param for the highest mean, then apply the best setting once.
import { gridSearch } from "crystallize-ts";
import { example } from "../src/experiment.js";

const search = await example.optimize(gridSearch({ factor: [0.5, 1, 2, 4] }), {
  objective: { metric: "mean", direction: "maximize" },
  replicates: 3,
});
const best = search.best;
if (!best) throw new Error("every trial failed");
console.log(`best factor: ${JSON.stringify(best.params)} (mean ${best.value})`);

const output = await example.apply(undefined, { treatment: "doubled" });
console.log(`apply() with "doubled": ${output.length} values`);
