/**
 * Helpers for the ts-patch plugin tests: fixture projects copied to a temporary folder (with
 * `node_modules/diagnose` linked to this repository, so `"transform": "diagnose/transformer"`
 * resolves as it does for users), built with the real `tspc` and `tsc` binaries.
 *
 * The TypeScript and ts-patch used come from `DIAGNOSE_TS_DIR` (a folder whose node_modules has
 * both; default: this repository), so CI runs the same tests with TypeScript 6 + ts-patch 4:
 *
 *   npm install --prefix .tmp/ts6 typescript@6.0.3 ts-patch@4.0.1
 *   DIAGNOSE_TS_DIR=.tmp/ts6 npx -y -p node@24 node --test dist/test/tsc/*.test.js
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { makeTempFolder, removeTempFolder } from "../helpers/temp.js";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { INSTRUMENTED_MARKER, type ModuleTable } from "../../abi/index.js";

/** The repository root (this file runs from dist/test/tsc/). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const FIXTURES = join(REPO_ROOT, "test", "fixtures", "tsc");
export const TS_DIR = resolve(REPO_ROOT, process.env["DIAGNOSE_TS_DIR"] ?? ".");
export const TSPC = join(TS_DIR, "node_modules", "ts-patch", "bin", "tspc.js");
export const TSC = join(TS_DIR, "node_modules", "typescript", "bin", "tsc");
export const TS_VERSION = (
  JSON.parse(readFileSync(join(TS_DIR, "node_modules", "typescript", "package.json"), "utf8")) as { version: string }
).version;
export const TS_PATCH_VERSION = (
  JSON.parse(readFileSync(join(TS_DIR, "node_modules", "ts-patch", "package.json"), "utf8")) as { version: string }
).version;
/** The built runtime registry, for fixtures that switch sites on. */
export const REGISTRY_URL = new URL("../../runtime/registry/index.js", import.meta.url).href;

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node …args` in `cwd` with a clean Diagnose/Node environment. */
export function node(args: readonly string[], cwd: string): RunResult {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("DIAGNOSE_") || key === "NODE_OPTIONS") delete env[key];
  const r = spawnSync(process.execPath, args, {
    cwd,
    env: env as NodeJS.ProcessEnv,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Builds the project in `dir` with ts-patch's tspc (`tool: "tspc"`) or plain tsc. */
export function build(dir: string, tool: "tspc" | "tsc", extraArgs: readonly string[] = []): RunResult {
  return node([tool === "tspc" ? TSPC : TSC, "-p", dir, ...extraArgs], dir);
}

export interface Project {
  readonly dir: string;
  remove(): void;
}

/** Copies fixture `name` into a temporary folder and links `node_modules/diagnose` to the repository. */
export function project(name: string): Project {
  const dir = makeTempFolder(`tsc-${name}`);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(REPO_ROOT, join(dir, "node_modules", "diagnose"), "dir");
  return { dir, remove: () => removeTempFolder(dir) };
}

/** Rewrites the project's tsconfig.json through `edit` (which gets and returns the parsed JSON). */
export function editTsconfig(
  dir: string,
  edit: (config: { compilerOptions: Record<string, unknown> } & Record<string, unknown>) => unknown,
): void {
  const file = join(dir, "tsconfig.json");
  writeFileSync(file, JSON.stringify(edit(JSON.parse(readFileSync(file, "utf8"))), null, 2) + "\n");
}

/** Every file below `dir` (relative paths, "/" separators), sorted. */
export function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string): void => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk("");
  return out.sort();
}

/**
 * The table literal registered by a module's header, evaluated (the SWC path and tsc print the same
 * object literal differently: quotes, spacing).
 */
export function registeredTable(code: string): ModuleTable {
  const start = code.indexOf(".register({");
  assert.ok(start >= 0, "the module registers a table");
  const from = start + ".register(".length;
  let depth = 0;
  for (let i = from; i < code.length; i++) {
    const c = code[i];
    if (c === '"' || c === "'") {
      for (i++; code[i] !== c; i++) if (code[i] === "\\") i++;
    } else if (c === "{" || c === "[") {
      depth++;
    } else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return new Function(`return (${code.slice(from, i + 1)});`)() as ModuleTable;
    }
  }
  assert.fail("unterminated table literal");
}

/** The qualified paths of a table's functions (`f` is a list, or its JSON text in the compact table). */
export function functionPaths(table: ModuleTable): string[] {
  const f = table.f as unknown;
  const entries = (typeof f === "string" ? JSON.parse(f) : f) as [string, ...unknown[]][];
  return entries.map((entry) => entry[0]);
}

/** Offset of the header statement (`const|var <handle> = …register(…)`). */
export function headerOffset(code: string): number {
  const register = code.indexOf(".register({");
  assert.ok(register >= 0, "the module registers a table");
  let start = -1;
  for (const m of code.slice(0, register).matchAll(/\b(?:const|let|var) \$dg/g)) start = m.index;
  assert.ok(start >= 0, "the header declares the module handle");
  return start;
}

/** The instrument() options a fixture's tsconfig plugin entry stands for (for comparing tables). */
export function pluginOptions(dir: string): { replaceArguments?: boolean } {
  const config = JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8")) as {
    compilerOptions: { plugins?: { replaceArguments?: boolean }[] };
  };
  const entry = config.compilerOptions.plugins?.[0] ?? {};
  return entry.replaceArguments === undefined ? {} : { replaceArguments: entry.replaceArguments };
}

/** How often each site's flag (`$dg_<hash>_<id>`) is read in `code`. */
function guardCounts(code: string, hash: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const m of code.matchAll(new RegExp(`\\$dg_${hash}_(\\d+)\\b`, "g")))
    counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
  return counts;
}

/**
 * Asserts that `code` (tsc output) guards the same sites as `expected` (instrument() output), each
 * once (a site the core folds into another, like a first line site served by the entry hook, has
 * no guard in either), and that no placeholder is left.
 */
export function assertGuards(code: string, table: ModuleTable, file: string, expected: string): void {
  const counts = guardCounts(code, table.h);
  assert.deepEqual(
    [...counts].sort((a, b) => a[0] - b[0]),
    [...guardCounts(expected, table.h)].sort((a, b) => a[0] - b[0]),
    `${file}: the same guards as instrument()`,
  );
  // Twice: a function defined inside an outlined one is in both bodies (the SWC harness checks which).
  for (const [id, n] of counts) {
    assert.ok(n === 1 || n === 2, `${file}: the guard of site ${id} appears once or twice`);
    assert.ok(id < table.n, `${file}: no guard without a site`);
  }
  // instrument() writes no placeholder: any `$dgP` in its output is the source's own text (tsc
  // drops comments, so its output may hold fewer).
  const placeholders = (text: string) => text.split("$dgP").length - 1;
  assert.ok(placeholders(code) <= placeholders(expected), `${file}: no placeholder left`);
}

/**
 * Before the header, CommonJS output may only hold what tsc writes there itself: the marker, the
 * "use strict" prologue, emit helpers (`var __decorate = …` and their bodies), temporaries
 * (`var _a;`), the `__esModule` flag and `exports.x = …` initialisations, but no require.
 */
export function assertCommonJsPreamble(preamble: string, source: string): void {
  assert.ok(preamble.startsWith(`${INSTRUMENTED_MARKER}\n"use strict";\n`), `${source}: marker, then "use strict"`);
  assert.ok(!preamble.includes("require("), `${source}: no require before the header`);
  let inHelper = false;
  for (const line of preamble.split("\n")) {
    if (line === "" || /^\s/.test(line)) continue;
    if (inHelper) {
      // A helper's definition ends with a line like `};`, `}));` or `})();` at column 0.
      inHelper = !/^}.*;$/.test(line);
      continue;
    }
    if (/^var __\w+ = \(this && this\.__\w+\) \|\|/.test(line)) {
      inHelper = !line.endsWith(";");
      continue;
    }
    assert.match(
      line,
      /^(\/\*diagnose:instrumented\*\/|"use strict";|var _[a-z](, _[a-z])*;|Object\.defineProperty\(exports, "__esModule"|exports\.)/,
      `${source}: only tsc's preamble before the header`,
    );
  }
}
