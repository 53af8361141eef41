// Child side: the timers one job (and the modules it imports) may use.
//
// Handles are plain numbers (never Node's Timeout objects, which are host objects), every timer is
// owned by its job, and dispose() at the job's end clears them all: no callback of a job runs after
// it settles, so nothing it scheduled can reach into the next job. A callback that throws is
// recorded as the job's failure instead of crashing the child.

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const MAX_LIVE_TIMERS = 1024;

export interface JobTimers {
  readonly setTimeout: (callback: unknown, ms?: unknown, ...args: unknown[]) => number;
  readonly clearTimeout: (id: unknown) => void;
  /** Clears every pending timer; later calls schedule nothing. */
  dispose(): void;
  /** The first error a callback threw, if any. */
  readonly thrown: { error: unknown } | undefined;
}

export function makeJobTimers(): JobTimers {
  const live = new Map<number, ReturnType<typeof realSetTimeout>>();
  let next = 1;
  let open = true;
  let thrown: { error: unknown } | undefined;
  return {
    setTimeout(callback: unknown, ms?: unknown, ...args: unknown[]): number {
      if (typeof callback !== "function") throw new TypeError("setTimeout: the callback must be a function");
      if (!open) return 0;
      if (live.size >= MAX_LIVE_TIMERS) throw new RangeError(`setTimeout: more than ${MAX_LIVE_TIMERS} pending timers`);
      const id = next++;
      const delay = typeof ms === "number" && Number.isFinite(ms) && ms > 0 ? Math.min(ms, 2 ** 31 - 1) : 0;
      const handle = realSetTimeout(() => {
        live.delete(id);
        if (!open) return;
        try {
          (callback as (...a: unknown[]) => unknown)(...args);
        } catch (error) {
          thrown ??= { error };
        }
      }, delay);
      live.set(id, handle);
      return id;
    },
    clearTimeout(id: unknown): void {
      if (typeof id !== "number") return;
      const handle = live.get(id);
      if (handle === undefined) return;
      realClearTimeout(handle);
      live.delete(id);
    },
    dispose(): void {
      open = false;
      for (const handle of live.values()) realClearTimeout(handle);
      live.clear();
    },
    get thrown() {
      return thrown;
    },
  };
}
