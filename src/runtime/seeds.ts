// Seeds are pure functions of their inputs: the seed of replicate r depends only on the master
// seed and r (the same for every condition: common random numbers make treatment comparisons
// paired), and each step, source or treatment function draws from its own stream derived from
// the replicate seed and its name. Nothing depends on scheduling, threads or process state, so
// serial, concurrent and parallel runs agree bit for bit.
import seedrandom from "seedrandom";

/** A 32-bit avalanche mix of (master, replicate); `perReplicate: false` reuses the master seed. */
export function replicateSeed(master: number, replicate: number, perReplicate = true): number {
  if (!perReplicate) return master >>> 0;
  let h = (master ^ Math.imul(replicate + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The seed string of a named stream within a replicate, e.g. "1234/step:scale". */
export function streamSeed(replicateSeedValue: number, stream: string): string {
  return `${replicateSeedValue}/${stream}`;
}

/** A fast seeded generator of floats in [0, 1) (Alea). */
export function createRandom(seed: string): () => number {
  return seedrandom.alea(seed);
}
