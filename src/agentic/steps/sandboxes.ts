// The sandboxes the agentic steps share within a run: one pool per (whitelist, limits), created
// on first use through a resource (one per process or worker) and closed when the run ends.
import { resource } from "../../dsl/resource.js";
import { createSandbox, SANDBOX_DEFAULTS, type Sandbox } from "../sandbox/host.js";

export interface SandboxLimits {
  /** Wall-clock budget per job. Default 2000 ms. */
  readonly timeoutMs?: number;
  /** Heap budget of a sandbox process. Default 128 MB. */
  readonly memoryMb?: number;
  /** Cap on a job's result plus console output. Default 1 MiB. */
  readonly maxOutputBytes?: number;
}

export interface ResolvedLimits {
  readonly timeoutMs: number;
  readonly memoryMb: number;
  readonly maxOutputBytes: number;
}

export function resolveLimits(limits: SandboxLimits | undefined): ResolvedLimits {
  return {
    timeoutMs: limits?.timeoutMs ?? SANDBOX_DEFAULTS.timeoutMs,
    memoryMb: limits?.memoryMb ?? SANDBOX_DEFAULTS.memoryMb,
    maxOutputBytes: limits?.maxOutputBytes ?? SANDBOX_DEFAULTS.maxOutputBytes,
  };
}

export class SandboxRegistry {
  private readonly pools = new Map<string, Sandbox>();

  get(allowedImports: readonly string[], limits: ResolvedLimits): Sandbox {
    const key = JSON.stringify([[...allowedImports].sort(), limits.timeoutMs, limits.memoryMb, limits.maxOutputBytes]);
    let sandbox = this.pools.get(key);
    if (!sandbox) {
      sandbox = createSandbox({ allowedImports, ...limits });
      this.pools.set(key, sandbox);
    }
    return sandbox;
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}

export const agenticSandboxes = resource("crystallize.agentic.sandboxes", () => new SandboxRegistry(), {
  close: (registry) => registry.closeAll(),
});
