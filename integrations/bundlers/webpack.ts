/**
 * `diagnose/webpack`: the Diagnose plugin for webpack (see docs/bundlers.md).
 *
 *     export default { plugins: [diagnose()], … };   // webpack.config.mjs
 */
import type { WebpackPluginInstance } from "webpack";
import type { DiagnosePluginOptions } from "../shared/plugin-options.js";
import { diagnoseUnplugin, unplugin } from "./core.js";

export type { DiagnosePluginOptions } from "../shared/plugin-options.js";
export { PluginOptionsError } from "../shared/plugin-options.js";

/** A webpack plugin that puts dormant Diagnose hook sites in the project's TypeScript. */
export default function diagnose(options?: DiagnosePluginOptions): WebpackPluginInstance {
  return unplugin().createWebpackPlugin(diagnoseUnplugin)(options) as WebpackPluginInstance;
}
