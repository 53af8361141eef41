// One instance of each resource per process or worker thread, created on first use and closed
// when the run (or the worker) ends.
import type { Resource } from "../dsl/resource.js";
import type { ResourcePool } from "./context.js";

export class Resources implements ResourcePool {
  private readonly instances = new Map<Resource<unknown>, unknown>();

  use<T>(resource: Resource<T>): T {
    if (this.instances.has(resource as Resource<unknown>)) return this.instances.get(resource as Resource<unknown>) as T;
    const instance = resource.create();
    this.instances.set(resource as Resource<unknown>, instance);
    return instance;
  }

  /** Closes every instance (in creation order); returns the errors of closers that threw. */
  async close(): Promise<unknown[]> {
    const errors: unknown[] = [];
    for (const [res, instance] of this.instances) {
      try {
        await res.close?.(instance);
      } catch (e) {
        errors.push(e);
      }
    }
    this.instances.clear();
    return errors;
  }
}
