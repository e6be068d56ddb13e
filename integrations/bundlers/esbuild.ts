/**
 * `diagnose/esbuild`: the Diagnose plugin for esbuild (see docs/bundlers.md).
 *
 *     await esbuild.build({ entryPoints: ["src/main.ts"], bundle: true, plugins: [diagnose()] });
 */
import type { Plugin } from "esbuild";
import type { DiagnosePluginOptions } from "../shared/plugin-options.js";
import { diagnoseUnplugin, unplugin } from "./core.js";

export type { DiagnosePluginOptions } from "../shared/plugin-options.js";
export { PluginOptionsError } from "../shared/plugin-options.js";

/** A esbuild plugin that puts dormant Diagnose hook sites in the project's TypeScript. */
export default function diagnose(options?: DiagnosePluginOptions): Plugin {
  return unplugin().createEsbuildPlugin(diagnoseUnplugin)(options) as Plugin;
}
