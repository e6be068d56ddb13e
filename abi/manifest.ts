/**
 * Reading, merging and writing `diagnose-sites.json`. Every integration that instruments (the Node
 * loader, bundler plugins, tsc) writes through `writeManifest`, which merges with what is already
 * on disk, so several builds or processes can fill one manifest.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DiagnoseError } from "../errors/index.js";
import { MANIFEST_FILE, MANIFEST_VERSION, type ModuleSites, type SiteManifest } from "./manifest-format.js";

export type { ManifestFunction, ManifestSite, ModuleSites, SiteManifest } from "./manifest-format.js";
export { MANIFEST_FILE, MANIFEST_VERSION } from "./manifest-format.js";

/** A manifest file that exists but cannot be used; the message names the file and the problem. */
export class ManifestError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_MANIFEST";

  constructor(message: string, options?: { cause?: unknown }) {
    super(ManifestError.CODE, message, options);
  }
}

/** The manifest path for `target`: a `.json` file path as is, a folder → `folder/diagnose-sites.json`. */
export function manifestPath(target: string): string {
  if (target.endsWith(".json")) return target;
  try {
    if (statSync(target).isFile()) return target;
  } catch {
    // Not there yet: a folder unless it names a .json file.
  }
  return join(target, MANIFEST_FILE);
}

/** Reads a manifest; undefined when the file does not exist. Throws ManifestError when it is broken. */
export function readManifest(target: string): SiteManifest | undefined {
  const path = manifestPath(target);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`${path} is not valid JSON (${(error as Error).message}); delete it and rebuild`);
  }
  const m = json as Partial<SiteManifest> | null;
  if (m === null || typeof m !== "object" || !Array.isArray(m.modules)) {
    throw new ManifestError(`${path} is not a Diagnose site manifest (no "modules" array)`);
  }
  if (m.version !== MANIFEST_VERSION) {
    throw new ManifestError(
      `${path} has manifest version ${String(m.version)}; this Diagnose reads version ${MANIFEST_VERSION}. Rebuild it.`,
    );
  }
  return m as SiteManifest;
}

/**
 * `base` with `entries` merged in: an entry replaces the one of the same package and module.
 * Modules are sorted by path (then package), so the file diffs well.
 */
export function mergeManifest(base: SiteManifest | undefined, entries: Iterable<ModuleSites>): SiteManifest {
  const byKey = new Map<string, ModuleSites>();
  for (const m of base?.modules ?? []) byKey.set(keyOf(m), m);
  for (const m of entries) byKey.set(keyOf(m), m);
  const modules = [...byKey.values()].sort((a, b) => compare(a.module, b.module) || compare(a.package, b.package));
  return { version: MANIFEST_VERSION, modules };
}

/**
 * Merges `entries` into the manifest at `target` (a folder, usually the project root, or a .json
 * path) and writes it atomically. Returns the file's path.
 */
export function writeManifest(target: string, entries: Iterable<ModuleSites>): string {
  const path = manifestPath(target);
  let base: SiteManifest | undefined;
  try {
    base = readManifest(path);
  } catch (error) {
    // A broken or outdated manifest is rebuilt rather than blocking the program that writes it.
    if (!(error instanceof ManifestError)) throw error;
  }
  const merged = mergeManifest(base, entries);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, JSON.stringify(merged, null, 2) + "\n");
  renameSync(tmp, path);
  return path;
}

function keyOf(m: ModuleSites): string {
  return `${m.package}\0${m.module}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
