/**
 * `diagnose/rolldown`: the Diagnose plugin for Rolldown (see docs/bundlers.md).
 *
 *     export default { input: "src/main.ts", plugins: [diagnose()] };   // rolldown.config.mjs
 */
import type { Plugin } from "rolldown";
import type { DiagnosePluginOptions } from "../shared/plugin-options.js";
import { diagnoseUnplugin, unplugin } from "./core.js";

export type { DiagnosePluginOptions } from "../shared/plugin-options.js";
export { PluginOptionsError } from "../shared/plugin-options.js";

/** A Rolldown plugin that puts dormant Diagnose hook sites in the project's TypeScript. */
export default function diagnose(options?: DiagnosePluginOptions): Plugin {
  return unplugin().createRolldownPlugin(diagnoseUnplugin)(options) as Plugin;
}
