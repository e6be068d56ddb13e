/**
 * What the main thread knows of each module the loader compiled with deferred copies (site ABI 4):
 * the file it came from, by copy hash, and the text itself when the cache directory could not take
 * it. The file is what makes the cache a cache: when a probe first needs a module's copies and their
 * text is no longer in the directory (a temporary directory cleaned under a long-running service,
 * a read-only or full disk), the module is compiled again from its source, in this thread, and
 * the result is used only if it is the text the module's table names.
 */
import { createRequire } from "node:module";
import { copyStore } from "../../runtime/registry/copies.js";
import type { ModuleFormat } from "../shared/compile.js";
import { copiesDir, writeCopies } from "./copies-cache.js";
import type { CopiesReport } from "./sites-reporter.js";

/** Copy hash → format and file, as one string (`"m:/app/src/a.ts"`): one allocation per module. */
const origins = new Map<string, string>();

/** Records a report (posted by the hooks thread, or made in this thread). */
export function noteCopies(report: CopiesReport): void {
  origins.set(report.hash, `${report.format === "module" ? "m" : "c"}:${report.filename}`);
  if (report.text !== undefined) copyStore().texts.set(report.hash, report.text);
}

type TransformModule = typeof import("./transform.js");
let transformModule: TransformModule | undefined;

/**
 * The copy text of `hash` compiled again from its module's file, or undefined for a hash the
 * loader did not compile. Throws, saying why, when it cannot be made (the registry reports that
 * in the CopiesUnavailableError of the probe that needed it). Kept in the cache directory again
 * for the next process.
 */
export function regenerateCopies(hash: string): string | undefined {
  const origin = origins.get(hash);
  if (origin === undefined) return undefined;
  const format: ModuleFormat = origin.startsWith("m:") ? "module" : "commonjs";
  // Loaded only now: on Node 20 and 22 the compiler otherwise runs in the hooks thread only.
  transformModule ??= createRequire(import.meta.url)("./transform.js") as TransformModule;
  const text = transformModule.compileCopiesAgain(hash, origin.slice(2), format);
  const dir = copiesDir();
  // Replacing whatever stale file was there (it was asked before this and did not match).
  if (dir !== null) writeCopies(dir, hash, text, true);
  return text;
}
