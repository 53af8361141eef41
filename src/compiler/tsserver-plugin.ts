// The tsserver plugin: adds the crystallize rules' diagnostics (CRYnnnn) to the editor's, in the
// file being edited. Built as dist/tsserver-plugin.cjs (tsserver loads plugins with require());
// enable it in the project's tsconfig.json:
//   { "compilerOptions": { "plugins": [{ "name": "crystallize-ts/tsserver-plugin" }] } }
// (editors run plugins only with the workspace's TypeScript version).
import type * as TS from "typescript";
import { editorPlugin, type EditorPluginInfo } from "./editor.js";
import { useTypeScript } from "./typescript-host.js";

export interface PluginModule {
  create(info: EditorPluginInfo): TS.LanguageService;
}

/** tsserver calls the module itself with its own `typescript`. */
export default function init(modules: { readonly typescript: typeof TS }): PluginModule {
  useTypeScript(modules.typescript);
  return editorPlugin();
}
