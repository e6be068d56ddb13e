/**
 * `diagnose/rollup`: the Diagnose plugin for Rollup (see docs/bundlers.md).
 *
 *     export default { input: "src/main.ts", plugins: [diagnose(), swc()] };   // rollup.config.mjs, before the type stripper
 */
import type { Plugin } from "rollup";
import type { DiagnosePluginOptions } from "../shared/plugin-options.js";
import { diagnoseUnplugin, unplugin } from "./core.js";

export type { DiagnosePluginOptions } from "../shared/plugin-options.js";
export { PluginOptionsError } from "../shared/plugin-options.js";

/** A Rollup plugin that puts dormant Diagnose hook sites in the project's TypeScript. */
export default function diagnose(options?: DiagnosePluginOptions): Plugin {
  return unplugin().createRollupPlugin(diagnoseUnplugin)(options) as Plugin;
}
