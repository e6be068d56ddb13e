/**
 * Helpers for the integration tests: where the repository and the built loader are, and running
 * real Node processes with the loader.
 */
import { spawnSync } from "node:child_process";
import { cpSync } from "node:fs";
import { childEnv } from "../helpers/child-env.js";
import { makeTempFolder, removeTempFolder } from "../helpers/temp.js";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root (this file runs from dist/test/integrations/). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const FIXTURES = join(REPO_ROOT, "test", "fixtures");
/** `--import` value for the built loader (an absolute file URL: fixtures need not resolve "diagnose"). */
export const REGISTER_URL = pathToFileURL(join(REPO_ROOT, "dist", "integrations", "node", "register.js")).href;
export const CLI = join(REPO_ROOT, "dist", "cli", "diagnose.js");

export const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
/** Loader APIs to exercise on this Node: the default, and on Node 24+ both explicitly. */
export const LOADER_MODES: readonly (string | undefined)[] =
  NODE_MAJOR >= 24 ? [undefined, "register", "registerHooks"] : [undefined];

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node …args` in `cwd`; the environment is cleaned of Diagnose variables first (childEnv). */
export function runNode(args: string[], cwd: string, env: Record<string, string | undefined> = {}): RunResult {
  const r = spawnSync(process.execPath, args, {
    cwd,
    env: childEnv(env),
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `node --import <loader> …args` in `cwd`. */
export function runWithLoader(args: string[], cwd: string, env: Record<string, string | undefined> = {}): RunResult {
  return runNode(["--import", REGISTER_URL, ...args], cwd, env);
}

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = makeTempFolder(prefix);
  return { dir, remove: () => removeTempFolder(dir) };
}

/** Copies a fixture project into a temporary folder (for tests that write into it). */
export function copyFixture(relative: string): { dir: string; remove(): void } {
  const t = tempDir(relative.replace(/[\\/]/g, "-"));
  cpSync(join(FIXTURES, relative), t.dir, { recursive: true });
  return t;
}

/** A failure message that shows what the child process printed. */
export function explain(r: RunResult): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
