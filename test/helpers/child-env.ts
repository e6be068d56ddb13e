/**
 * The environment of a child process a test starts. A developer's Diagnose settings and
 * NODE_OPTIONS must not change what a test sees, so they are dropped — except the build mode a
 * whole suite run asks for: `DIAGNOSE_DEFER_COPIES=1 npm test` builds every loader child with
 * deferred copies (and `DIAGNOSE_COPIES_DIR` says where their text goes), as it builds the
 * in-process modules of test/helpers/instrumented.ts. A test that depends on one mode sets the
 * variable itself (`undefined` removes it).
 */
export const SUITE_BUILD_MODE: readonly string[] = ["DIAGNOSE_DEFER_COPIES", "DIAGNOSE_COPIES_DIR"];

/** `process.env` without Diagnose's variables (but the suite's build mode) and NODE_OPTIONS, then `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) {
    if ((key.startsWith("DIAGNOSE_") && !SUITE_BUILD_MODE.includes(key)) || key === "NODE_OPTIONS") delete env[key];
  }
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}
