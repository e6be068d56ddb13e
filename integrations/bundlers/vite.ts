/**
 * `diagnose/vite`: the Diagnose plugin for Vite (and so Vitest) (see docs/bundlers.md).
 *
 *     export default defineConfig({ plugins: [diagnose()] });   // vite.config.ts
 */
import type { Plugin } from "vite";
import type { DiagnosePluginOptions } from "../shared/plugin-options.js";
import { diagnoseUnplugin, unplugin } from "./core.js";

export type { DiagnosePluginOptions } from "../shared/plugin-options.js";
export { PluginOptionsError } from "../shared/plugin-options.js";

/** A Vite (and so Vitest) plugin that puts dormant Diagnose hook sites in the project's TypeScript. */
export default function diagnose(options?: DiagnosePluginOptions): Plugin {
  return unplugin().createVitePlugin(diagnoseUnplugin)(options) as Plugin;
}
