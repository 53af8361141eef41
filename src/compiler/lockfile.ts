// Versions of external packages for the structural hash: the version package-lock.json records
// (`packages["node_modules/<name>"].version`), else the installed package.json's, else "unknown".
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface PackageVersions {
  /** `name@version` for a package name ("lodash", "@scope/pkg"). */
  versionOf(name: string): string;
  /** The lockfile that was read, if any. */
  readonly lockfile: string | undefined;
}

function findUp(start: string, name: string): string | undefined {
  let dir = start;
  for (;;) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

interface Lock {
  name?: string;
  version?: string;
  packages?: Record<string, { version?: string; name?: string }>;
  dependencies?: Record<string, { version?: string }>;
}

export function packageVersions(root: string): PackageVersions {
  const lockfile = findUp(root, "package-lock.json");
  let lock: Lock = {};
  if (lockfile) {
    try {
      lock = JSON.parse(readFileSync(lockfile, "utf8")) as Lock;
    } catch {
      lock = {};
    }
  }
  const cache = new Map<string, string>();
  const lookup = (name: string): string => {
    const fromLock = lock.packages?.[`node_modules/${name}`]?.version ?? lock.dependencies?.[name]?.version;
    if (fromLock) return fromLock;
    if (lock.packages?.[""]?.name === name || lock.name === name) return lock.packages?.[""]?.version ?? lock.version ?? "unknown";
    const pj = findUp(root, join("node_modules", name, "package.json"));
    if (pj) {
      try {
        const v = (JSON.parse(readFileSync(pj, "utf8")) as { version?: string }).version;
        if (v) return v;
      } catch {
        // fall through
      }
    }
    return "unknown";
  };
  return {
    lockfile,
    versionOf(name: string): string {
      let v = cache.get(name);
      if (v === undefined) {
        v = `${name}@${lookup(name)}`;
        cache.set(name, v);
      }
      return v;
    },
  };
}

/** The package a bare import specifier names ("lodash/fp" → "lodash", "@a/b/c" → "@a/b"); undefined for relative paths. */
export function packageNameOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/") || /^[a-zA-Z]:[\\/]/.test(specifier)) return undefined;
  if (specifier.startsWith("node:")) return specifier;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The package a file inside node_modules belongs to, from its path. */
export function packageOfPath(file: string): string | undefined {
  // The last node_modules segment wins (nested installs).
  const all = [...file.matchAll(/[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/g)];
  const last = all[all.length - 1]?.[1];
  if (!last) return undefined;
  const name = last.replace(/\\/g, "/");
  if (name.startsWith("@types/")) {
    const inner = name.slice(7);
    return inner.includes("__") ? `@${inner.replace("__", "/")}` : inner;
  }
  return name;
}
