/** Where the benchmark suite reads and writes. Everything generated lives under `.tmp/bench/`. */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs as dist/benchmarks/paths.js). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const WORK = join(REPO, ".tmp", "bench");
export const BUILDS = join(WORK, "builds");
export const WORKLOAD_SOURCES = join(REPO, "benchmarks", "workloads");
export const RESULTS_JSON = join(REPO, "benchmarks", "results.json");
export const DOC = join(REPO, "docs", "benchmarks.md");
export const DIST = join(REPO, "dist");

/**
 * The folder of an installed package (its package.json's folder), or undefined. `BENCH_<NAME>_DIR`
 * (e.g. BENCH_RXJS_DIR) overrides, for trying another copy.
 */
export function packageDir(name: string): string | undefined {
  const override = process.env[`BENCH_${name.toUpperCase().replace(/\W/g, "_")}_DIR`];
  if (override !== undefined && existsSync(join(override, "package.json"))) return resolve(override);
  try {
    return dirname(createRequire(join(REPO, "package.json")).resolve(`${name}/package.json`));
  } catch {
    // Packages whose "exports" map hides their package.json (@lezer/markdown): the folder itself.
    const dir = join(REPO, "node_modules", name);
    return existsSync(join(dir, "package.json")) ? dir : undefined;
  }
}

export const BUILD_KINDS = ["plain", "diagnose", "deferred", "istanbul", "shim", "dc"] as const;
export type BuildKind = (typeof BUILD_KINDS)[number];

/**
 * The deferred build's copy text, `<sha256>.js` (the Node loader's cache layout,
 * integrations/node/copies-cache.ts): outside the module tree, where only the registry's copy
 * source reads it, when a probe first needs a module's copies.
 */
export const DEFERRED_COPIES = join(BUILDS, "copies");

/** Path of a build's module, e.g. buildPath("plain", "bench/micro.ts"). */
export function buildPath(build: BuildKind, file: string): string {
  return join(BUILDS, build, file.replace(/\.ts$/, ".js"));
}
