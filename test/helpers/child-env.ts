/**
 * The environment of a child process a test starts. A developer's Diagnose settings and
 * NODE_OPTIONS must not change what a test sees, so they are dropped — except the build mode a
 * whole suite run asks for: `DIAGNOSE_DEFER_COPIES=0 npm test` builds every loader child with
 * inline copies instead of the default deferred ones (and `DIAGNOSE_COPIES_DIR` says where their
 * text goes), as it builds the in-process modules of test/helpers/instrumented.ts. A test that
 * depends on one mode sets the variable itself (`undefined` removes it).
 */
import { makeTempFolder } from "./temp.js";
export const SUITE_BUILD_MODE: readonly string[] = ["DIAGNOSE_DEFER_COPIES", "DIAGNOSE_COPIES_DIR"];

/** `process.env` without Diagnose's variables (but the suite's build mode) and NODE_OPTIONS, then `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) {
    if ((key.startsWith("DIAGNOSE_") && !SUITE_BUILD_MODE.includes(key)) || key === "NODE_OPTIONS") delete env[key];
  }
  // The loader's default cache directory would collect every child's copy text in the user's
  // temporary directory: children write to this test file's own, removed when it exits.
  env["DIAGNOSE_COPIES_DIR"] ??= copiesDir ??= makeTempFolder("copies");
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}

let copiesDir: string | undefined;
