// CRY3xxx: cache soundness. A cacheable step is replayed from the cache whenever its structural
// hash, params and input match; code that reads the clock, an unseeded random source, the
// environment or mutable module state would be replayed with stale values.
import type { ImpurityKind } from "../hash.js";
import type { Rule } from "./rule.js";
import { impurityRule } from "./step-impurities.js";

// Cacheable steps only; the message says the step is cacheable and what it reads.
function cacheImpurityRule(code: string, name: string, kind: ImpurityKind, summary: string, fix: string, why: string): Rule {
  return impurityRule({
    code,
    name,
    kind,
    summary,
    fix,
    why,
    steps: (s) => s.cacheable === true,
    describe: (steps, detail) => {
      const which = steps.length === 1 ? `step "${steps[0]}" is` : `steps ${steps.map((s) => `"${s}"`).join(", ")} are`;
      return `${which} cacheable but ${detail.startsWith("module-level") ? `closes over ${detail}` : `reads ${detail}`}`;
    },
  });
}

export const cacheRules: Rule[] = [
  cacheImpurityRule(
    "CRY3001",
    "cacheable-reads-clock",
    "date",
    "A cacheable step reads the clock (new Date(), Date.now()).",
    "Pass the time in as a param or input, or set cacheable: false.",
    "so a cache hit would replay a stale time",
  ),
  cacheImpurityRule(
    "CRY3002",
    "cacheable-math-random",
    "math-random",
    "A cacheable step calls Math.random(), which is not seeded.",
    "Use ctx.random() (seeded per replicate and step, and part of the cache key), or set cacheable: false.",
    "so replicates are not reproducible and a cache hit would replay another draw",
  ),
  cacheImpurityRule(
    "CRY3003",
    "cacheable-reads-env",
    "env",
    "A cacheable step reads process.env.",
    "Pass the setting in as a param (params are part of the cache key), or set cacheable: false.",
    "which is not part of the cache key",
  ),
  cacheImpurityRule(
    "CRY3004",
    "cacheable-mutable-state",
    "mutable-state",
    "A cacheable step closes over mutable module state (a module-level let or var, or a const container, class static field or function property the project mutates).",
    "Make it a const that nothing mutates (build it in its initializer), pass the value in as a param or input, or set cacheable: false.",
    "which is not part of the cache key",
  ),
];
