// Resources: things that must not be copied between workers (models, connections). A handle is
// a value; `ctx.use(handle)` creates one instance per process or worker thread on first use.
import { ValidationError } from "../errors.js";

export interface Resource<T> {
  readonly kind: "resource";
  readonly name: string;
  readonly create: () => T;
  /** Called once at the end of a run (or when the worker exits) for each instance created. */
  readonly close?: (instance: T) => void | Promise<void>;
}

export function resource<T>(
  name: string,
  factory: () => T,
  options?: { close?: (instance: T) => void | Promise<void> },
): Resource<T> {
  if (typeof name !== "string" || name.length === 0) {
    throw new ValidationError("resource()", ["the name must be a non-empty string"]);
  }
  if (typeof factory !== "function") {
    throw new ValidationError(`resource "${name}"`, ["the factory must be a function returning the instance"]);
  }
  const node: Resource<T> = options?.close
    ? { kind: "resource", name, create: factory, close: options.close }
    : { kind: "resource", name, create: factory };
  return Object.freeze(node);
}
