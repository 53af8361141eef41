// The lockfile closure of a package (src/compiler/lockfile.ts): what the structural hash takes for
// a package. Its fingerprint changes with the version, `resolved` or `integrity` of anything it
// loads, transitively (found the way Node finds it: nested node_modules first), and with the
// content of a linked package's files; it does not change for packages it does not load.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { packageVersions } from "../../src/compiler/lockfile.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function projectWith(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), "cry-lock-"));
  dirs.push(dir);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

type Entry = { version?: string; resolved?: string; integrity?: string; link?: boolean; dependencies?: Record<string, string>; name?: string };
const lockText = (packages: Readonly<Record<string, Entry>>) => JSON.stringify({ name: "p", lockfileVersion: 3, packages: { "": { name: "p" }, ...packages } });

const base: Record<string, Entry> = {
  "node_modules/a": { version: "1.0.0", resolved: "https://r/a-1.0.0.tgz", integrity: "sha512-a", dependencies: { b: "^1" } },
  "node_modules/b": { version: "1.0.0", resolved: "https://r/b-1.0.0.tgz", integrity: "sha512-b", dependencies: { c: "^1" } },
  "node_modules/a/node_modules/c": { version: "2.0.0", integrity: "sha512-c2" },
  "node_modules/c": { version: "1.0.0", integrity: "sha512-c1" },
  "node_modules/other": { version: "1.0.0" },
};

const fingerprints = (packages: Readonly<Record<string, Entry>>) => {
  const v = packageVersions(projectWith({ "package-lock.json": lockText(packages) }));
  return { a: v.fingerprintOf("a"), other: v.fingerprintOf("other"), version: v.versionOf("a") };
};

describe("lockfile closure", () => {
  it("changes with any field of any package a package loads, transitively; not with unrelated packages", () => {
    const before = fingerprints(base);
    expect(before.version).toBe("a@1.0.0");
    const fields = ["version", "resolved", "integrity"] as const;
    // b is reached from a; c is reached from b, which resolves it from the top level (not a's nested copy).
    fc.assert(
      fc.property(fc.constantFrom("node_modules/a", "node_modules/b", "node_modules/c"), fc.constantFrom(...fields), (key, field) => {
        const after = fingerprints({ ...base, [key]: { ...base[key], [field]: `${base[key]![field] ?? "x"}-changed` } });
        expect(after.a).not.toBe(before.a);
        expect(after.other).toBe(before.other);
      }),
      { numRuns: 9, seed: 3 },
    );
  });

  it("follows Node's lookup: a nested copy the package does not load does not count", () => {
    const before = fingerprints(base);
    // a's own nested c is only loaded by a if a depends on c: it does not.
    const after = fingerprints({ ...base, "node_modules/a/node_modules/c": { version: "2.0.1", integrity: "sha512-c2b" } });
    expect(after.a).toBe(before.a);
    // When a depends on c, it loads its nested copy, and then that copy counts.
    const withC = { ...base, "node_modules/a": { ...base["node_modules/a"]!, dependencies: { b: "^1", c: "^2" } } };
    expect(fingerprints({ ...withC, "node_modules/a/node_modules/c": { version: "2.0.1" } }).a).not.toBe(fingerprints(withC).a);
  });

  it("a linked (file:) package counts with its files' content under the same version", () => {
    const files = {
      "package-lock.json": lockText({ "node_modules/local": { resolved: "libs/local", link: true }, "libs/local": { name: "local", version: "1.0.0" } }),
      "libs/local/package.json": JSON.stringify({ name: "local", version: "1.0.0" }),
      "libs/local/index.js": "export const k = 1;\n",
    };
    const one = packageVersions(projectWith(files));
    const two = packageVersions(projectWith({ ...files, "libs/local/index.js": "export const k = 2;\n" }));
    expect(one.versionOf("local")).toBe("local@1.0.0");
    expect(one.fingerprintOf("local")).not.toBe(two.fingerprintOf("local"));
    expect(one.filesOf("local").some((f) => f.endsWith("index.js"))).toBe(true);
  });

  it("without a lock entry, uses the installed package.json and its dependencies", () => {
    const files = {
      "node_modules/x/package.json": JSON.stringify({ name: "x", version: "3.0.0", dependencies: { y: "^1" } }),
      "node_modules/y/package.json": JSON.stringify({ name: "y", version: "1.0.0" }),
    };
    const one = packageVersions(projectWith(files));
    expect(one.versionOf("x")).toBe("x@3.0.0");
    const two = packageVersions(projectWith({ ...files, "node_modules/y/package.json": JSON.stringify({ name: "y", version: "1.0.1" }) }));
    expect(two.fingerprintOf("x")).not.toBe(one.fingerprintOf("x"));
  });
});
