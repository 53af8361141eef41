// Names become directory names (artifacts, cache) and keys in results, so they must be plain,
// portable path segments.
import { unsafeSegmentReason } from "./artifact.js";

export function nameProblem(what: string, name: unknown): string | undefined {
  if (typeof name !== "string") return `the ${what} name must be a string, got ${typeof name}`;
  const why = unsafeSegmentReason(name);
  if (why) return `the ${what} name "${name}" cannot be used as a folder name: ${why}; use letters, digits, "-" or "_"`;
  if (name !== name.trim()) return `the ${what} name "${name}" has leading or trailing spaces`;
  return undefined;
}
