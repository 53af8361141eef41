// Finding an experiment by name for `run` and `bundle`, with readable messages when the name
// matches nothing (the closest names) or names an export that is not an experiment.
import { displayPath } from "./diagnostics.js";
import type { Analysis } from "./compile.js";
import type { ManifestExperiment } from "./manifest.js";
import { closest, quoteList } from "./suggest.js";

export type Lookup =
  | { readonly ok: true; readonly entry: ManifestExperiment; readonly moduleFile: string }
  | { readonly ok: false; readonly message: string };

export function findExperiment(a: Analysis, name: string, cwd: string = process.cwd()): Lookup {
  const entry = a.manifest.experiments.find((e) => e.name === name);
  if (entry) {
    const d = a.discovery.experiments.find((x) => x.info.name === name)!;
    return { ok: true, entry, moduleFile: d.addresses[0]!.file.fileName };
  }
  const names = a.manifest.experiments.map((e) => e.name);
  // An export of that name which is not an experiment?
  const other = a.discovery.otherExports.find((o) => o.exportName === name);
  if (other) {
    return {
      ok: false,
      message: `"${name}" in ${displayPath(other.file.fileName, cwd)} is exported but is not an experiment; export an experiment(...) or experiment.builder(...).build() under that name, or run one of: ${quoteList(names)}`,
    };
  }
  const opaque = a.discovery.opaque.find((o) => o.exportName === name);
  if (opaque) {
    return {
      ok: false,
      message: `"${name}" in ${displayPath(opaque.file.fileName, cwd)} is ${opaque.kind === "graph" ? "a graph" : "an experiment the compiler cannot follow (see CRY4003)"}; build it with experiment(...) directly in the exported const`,
    };
  }
  const byExport = a.manifest.experiments.find((e) => e.export === name);
  if (byExport) {
    return { ok: false, message: `no experiment is named "${name}", but export "${name}" of ${byExport.file} is experiment "${byExport.name}"; run it by its name: "${byExport.name}"` };
  }
  const near = closest(name, names);
  if (names.length === 0) return { ok: false, message: `no experiment named "${name}": the project exports no experiments (export one with \`export const x = experiment(...)\`)` };
  return {
    ok: false,
    message: `no experiment named "${name}"${near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(" or ")}?` : ""} (experiments: ${quoteList(names)})`,
  };
}
