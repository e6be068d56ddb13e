/**
 * Which files the loader takes over and in which module format, decided without loading the
 * compiler (this runs for every `require()` of a `.js` file).
 */
import { isIncluded, isTypeScriptFile, loadConfig, moduleFormatOf, projectRootOf } from "../shared/config.js";
import type { ModuleFormat } from "../shared/compile.js";

/** The format Node would give the file: `.mts` ESM, `.cts` CJS, else the package.json `"type"`. */
export function formatOf(filename: string): ModuleFormat {
  return moduleFormatOf(filename);
}

/** True when the loader must handle the file: TypeScript (not .d.ts), or included JavaScript. */
export function handles(filename: string): boolean {
  if (isTypeScriptFile(filename)) return !/\.d\.[cm]?ts$/.test(filename);
  if (!/\.(?:js|jsx|mjs|cjs)$/.test(filename) || /[\\/]node_modules[\\/]/.test(filename)) return false;
  return isIncluded(loadConfig(projectRootOf(filename)), filename);
}
