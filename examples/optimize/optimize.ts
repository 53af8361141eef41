// Tuning a learning rate: gradient descent fits a line to noisy points of y = 2x + 1, and the
// optimizer searches `lr` and `steps` for the lowest final loss. The baseline (the step's
// defaults) runs once; every proposed treatment is a trial of `replicates` replicates; the result
// holds the best trial and the full history. `direction` is honoured: the same search with
// "maximize" would return the worst setting.
import { experiment, gridSearch, pipeline, randomSearch, source, step } from "crystallize-ts";

interface Point {
  readonly x: number;
  readonly y: number;
}

const points = source("points", (ctx): Point[] =>
  Array.from({ length: 50 }, () => {
    const x = ctx.random() * 2;
    return { x, y: 2 * x + 1 + (ctx.random() - 0.5) * 0.2 };
  }),
);

// Plain gradient descent on mean squared error; records the final loss.
const descend = step("descend", { params: { lr: 0.01, steps: 20 }, metrics: ["loss"] }, (data: Point[], ctx) => {
  let slope = 0;
  let intercept = 0;
  const n = data.length;
  const lossOf = () => data.reduce((s, p) => s + (slope * p.x + intercept - p.y) ** 2, 0) / n;
  for (let i = 0; i < ctx.params.steps; i++) {
    let gs = 0;
    let gi = 0;
    for (const p of data) {
      const err = slope * p.x + intercept - p.y;
      gs += (2 * err * p.x) / n;
      gi += (2 * err) / n;
    }
    slope -= ctx.params.lr * gs;
    intercept -= ctx.params.lr * gi;
  }
  const loss = lossOf();
  ctx.record("loss", Number.isFinite(loss) ? loss : Number.MAX_VALUE);
  return { slope, intercept };
});

export const descent = experiment("descent", { source: points, pipeline: pipeline(descend), replicates: 4, seed: 11 });

/** Every combination of a small grid. */
export function tuneOnGrid() {
  return descent.optimize(gridSearch({ lr: [0.001, 0.01, 0.1, 0.3], steps: [20, 200] }), {
    objective: { metric: "loss", direction: "minimize" },
    cache: false,
  });
}

/** Twelve seeded random samples: the learning rate log-uniformly, the steps from a list. */
export function tuneAtRandom() {
  return descent.optimize(randomSearch({ lr: { min: 0.001, max: 0.3, log: true }, steps: [20, 200] }, { trials: 12, seed: 5 }), {
    objective: { metric: "loss", direction: "minimize" },
    cache: false,
  });
}
