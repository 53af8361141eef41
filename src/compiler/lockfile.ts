// Packages for the structural hash. A package the step's code reaches counts with everything it
// loads: from package-lock.json (v2/v3 `packages`), the package and its dependencies,
// transitively, each with its resolved version, `resolved` and `integrity`, found the way Node
// finds them (nested node_modules first, then up). A linked package (`file:` folder, workspace
// member: `link: true`, or a node_modules entry that is a symlink out of node_modules) also counts
// with the content of its files, since its version says nothing about its code. Without a lockfile
// entry, the installed package.json's version (and its own dependencies, the same way).
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

export interface PackageVersions {
  /** `name@version` for a package name ("lodash", "@scope/pkg"), for display (manifest `packages`). */
  versionOf(name: string): string;
  /** What the hash takes for a package: sha256 over its closure (versions, integrity, linked code). */
  fingerprintOf(name: string): string;
  /** Files outside the project's code that fingerprintOf(name) read: the lockfile, linked packages' files. */
  filesOf(name: string): readonly string[];
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

interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Lock {
  name?: string;
  version?: string;
  packages?: Record<string, LockEntry>;
  dependencies?: Record<string, { version?: string; resolved?: string; integrity?: string }>;
}

const sha256 = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");
const posix = (p: string) => p.split(sep).join("/");

/** Lock keys where `dep` may sit for a package at lock key `from` ("" is the lockfile's folder). */
function* lookupKeys(from: string, dep: string): Generator<string> {
  let p = from;
  for (;;) {
    yield p ? `${p}/node_modules/${dep}` : `node_modules/${dep}`;
    if (!p) return;
    const i = p.lastIndexOf("/node_modules/");
    p = i >= 0 ? p.slice(0, i) : p.startsWith("node_modules/") ? "" : p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
  }
}

/** Every file of a linked package's folder (not its node_modules or dot-folders), with a content hash. */
function folderContent(dir: string): { hash: string; files: string[] } {
  const files: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (n === "node_modules" || n.startsWith(".")) continue;
      const p = join(d, n);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) files.push(p);
    }
  };
  walk(dir);
  const lines = files.map((f) => {
    let h: string;
    try {
      h = sha256(readFileSync(f));
    } catch {
      h = "unreadable";
    }
    return `${posix(relative(dir, f))} ${h}`;
  });
  return { hash: sha256(lines.join("\n")), files };
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

const dependencyNames = (e: LockEntry): string[] =>
  [...new Set([...Object.keys(e.dependencies ?? {}), ...Object.keys(e.optionalDependencies ?? {}), ...Object.keys(e.peerDependencies ?? {})])].sort();

export function packageVersions(root: string): PackageVersions {
  const lockfile = findUp(root, "package-lock.json");
  const lock: Lock = (lockfile && readJson<Lock>(lockfile)) || {};
  const lockDir = lockfile ? dirname(lockfile) : root;
  // Lock keys are relative to the lockfile's folder; a workspace member resolves from its own.
  const base = lockfile ? posix(relative(lockDir, root)) : "";
  const packages = lock.packages ?? {};
  const display = new Map<string, string>();
  const closures = new Map<string, { fingerprint: string; files: string[] }>();
  const contents = new Map<string, { hash: string; files: string[] }>();
  const contentOf = (dir: string) => {
    let c = contents.get(dir);
    if (!c) contents.set(dir, (c = folderContent(dir)));
    return c;
  };

  const findKey = (from: string, name: string): string | undefined => {
    for (const k of lookupKeys(from, name)) if (packages[k]) return k;
    return undefined;
  };

  /** The lock closure of a package reached from the project: lines, and files read. */
  const lockClosure = (start: string): { lines: string[]; files: string[] } => {
    const lines: string[] = [];
    const files: string[] = [lockfile!];
    const seen = new Set<string>();
    const queue = [start];
    while (queue.length) {
      let key = queue.pop()!;
      if (seen.has(key)) continue;
      seen.add(key);
      let e = packages[key]!;
      if (e.link && e.resolved) {
        // A symlink to a folder (file: or workspace): its entry holds the version and the deps.
        const target = posix(e.resolved);
        const c = contentOf(join(lockDir, target));
        lines.push(`${key} -> ${target} content ${c.hash}`);
        files.push(...c.files);
        key = target;
        e = packages[target] ?? {};
      }
      lines.push(`${key} ${e.version ?? "?"} ${e.resolved ?? "-"} ${e.integrity ?? "-"}`);
      for (const dep of dependencyNames(e)) {
        const k = findKey(key, dep);
        if (k) queue.push(k);
        else lines.push(`${key} needs ${dep}: missing`);
      }
    }
    return { lines: lines.sort(), files };
  };

  /** Without a lock entry: the installed package.json (and linked code), then its dependencies. */
  const installedClosure = (name: string): { lines: string[]; files: string[] } => {
    const lines: string[] = [];
    const files: string[] = [];
    const seen = new Set<string>();
    const queue: { from: string; name: string }[] = [{ from: root, name }];
    while (queue.length) {
      const q = queue.pop()!;
      const pj = findUp(q.from, join("node_modules", q.name, "package.json"));
      if (!pj) {
        lines.push(`${q.name} missing`);
        continue;
      }
      let dir = dirname(pj);
      try {
        dir = realpathSync(dir);
      } catch {
        // keep the path as found
      }
      if (seen.has(dir)) continue;
      seen.add(dir);
      const meta = readJson<LockEntry>(pj) ?? {};
      files.push(pj);
      let line = `${q.name} ${meta.version ?? "?"}`;
      if (!/[\\/]node_modules[\\/]/.test(dir)) {
        const c = contentOf(dir);
        line += ` content ${c.hash}`;
        files.push(...c.files);
      }
      lines.push(line);
      for (const dep of dependencyNames(meta)) queue.push({ from: dir, name: dep });
    }
    return { lines: lines.sort(), files };
  };

  const closure = (name: string) => {
    let c = closures.get(name);
    if (c) return c;
    const key = findKey(base, name);
    let r: { lines: string[]; files: string[] };
    if (key) r = lockClosure(key);
    else {
      const legacy = lock.dependencies?.[name];
      r = legacy
        ? { lines: [`${name} ${legacy.version ?? "?"} ${legacy.resolved ?? "-"} ${legacy.integrity ?? "-"}`], files: [lockfile!] }
        : installedClosure(name);
    }
    c = { fingerprint: sha256(r.lines.join("\n")), files: [...new Set(r.files)].sort() };
    closures.set(name, c);
    return c;
  };

  const lookup = (name: string): string => {
    const key = findKey(base, name);
    if (key) {
      const e = packages[key]!;
      const v = e.link && e.resolved ? packages[posix(e.resolved)]?.version : e.version;
      if (v) return v;
    }
    const legacy = lock.dependencies?.[name]?.version;
    if (legacy) return legacy;
    if (packages[""]?.name === name || lock.name === name) return packages[""]?.version ?? lock.version ?? "unknown";
    const pj = findUp(root, join("node_modules", name, "package.json"));
    return (pj && readJson<{ version?: string }>(pj)?.version) || "unknown";
  };

  return {
    lockfile,
    versionOf(name: string): string {
      let v = display.get(name);
      if (v === undefined) display.set(name, (v = `${name}@${lookup(name)}`));
      return v;
    },
    fingerprintOf: (name) => closure(name).fingerprint,
    filesOf: (name) => closure(name).files,
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
