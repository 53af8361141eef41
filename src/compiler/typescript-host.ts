// The TypeScript API as the tsserver plugin sees it: the compiler's modules import `./typescript.js`,
// and the plugin's bundle (scripts/build.mjs) points that import here instead, so that the rules
// work on the editor's own TypeScript (its syntax kinds and its checker), not on a second copy.
import type * as TS from "typescript";

const ts = {} as typeof TS;

/** Makes the compiler's modules use `instance` (called once, by the plugin's init). */
export function useTypeScript(instance: typeof TS): void {
  Object.assign(ts, instance);
}

export default ts;
