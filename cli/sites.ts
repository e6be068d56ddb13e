/**
 * `diagnose sites [filter] [--json] [--root DIR] [--scan]`: list the functions and sites probes
 * can address, from the project's `diagnose-sites.json` or, without one, by analysing its sources.
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { rangesText } from "../abi/index.js";
import { manifestPath, readManifest } from "../abi/manifest.js";
import type { ManifestFunction, ModuleSites, SiteManifest } from "../abi/manifest-format.js";
import { MANIFEST_VERSION } from "../abi/manifest-format.js";
import { findPackageJson, loadConfig } from "../integrations/shared/config.js";
import { isGlob, matchesGlob } from "../transformer/glob.js";
import { scanProject } from "./scan.js";

/** Where the CLI writes; tests pass their own. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  cwd: string;
}

export const EXIT_OK = 0;
export const EXIT_NO_MATCH = 1;
export const EXIT_USAGE = 2;

export const SITES_USAGE = `Usage: diagnose sites [filter] [--json] [--root DIR] [--scan]

List the functions (and their hook sites) that probes can address, by qualified name
<module>:<path>, e.g. src/shop/cart.ts:Cart.total.

  filter        a substring of the qualified name, or a glob over it:
                  'src/shop/*:Cart.*'   '*:handler'   'Cart.*' (a glob without ':' is
                  matched against the module, the path and the whole name)
                  '*' does not cross '/', '**' does; a module part without '/'
                  matches the file in any folder ('cart.ts:*', '*:handler')
  --json        print the manifest entries ({ "version": 1, "modules": [...] })
  --root DIR    the project root (default: the nearest package.json's folder)
  --scan        analyse the sources even if diagnose-sites.json exists

Reads <root>/diagnose-sites.json when there is one (written by the loader with
DIAGNOSE_MANIFEST=path, or by a build); otherwise analyses every included source file.
Exit codes: 0 listed, 1 nothing matched, 2 usage error.
`;

/** Runs `diagnose sites` with the arguments after `sites`; returns the exit code. */
export function runSites(args: string[], io: CliIO): number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        root: { type: "string" },
        scan: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    io.stderr(`diagnose sites: ${(error as Error).message}\n\n${SITES_USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout(SITES_USAGE);
    return EXIT_OK;
  }
  if (positionals.length > 1) {
    io.stderr(
      `diagnose sites: expected at most one filter, got ${positionals.length}: ${positionals.join(" ")}\n\n${SITES_USAGE}`,
    );
    return EXIT_USAGE;
  }
  const filter = positionals[0];
  const root = values.root !== undefined ? resolve(io.cwd, values.root) : (findPackageJson(io.cwd)?.dir ?? io.cwd);

  let manifest: SiteManifest | undefined;
  if (values.scan !== true) {
    manifest = readManifest(loadConfig(root).manifest ?? manifestPath(root));
  }
  if (manifest === undefined) {
    const scan = scanProject(root);
    for (const problem of scan.problems) io.stderr(`diagnose sites: skipped ${problem}\n`);
    manifest = { version: MANIFEST_VERSION, modules: scan.modules };
  }

  const selected = select(manifest, filter);
  const count = selected.modules.reduce((n, m) => n + m.functions.length, 0);
  if (count === 0) {
    io.stderr(
      filter === undefined
        ? `diagnose sites: no instrumented functions found under ${root}\n`
        : `diagnose sites: no function matches '${filter}' (${countFunctions(manifest)} functions under ${root})\n`,
    );
    return EXIT_NO_MATCH;
  }
  io.stdout(values.json === true ? JSON.stringify(selected, null, 2) + "\n" : formatPlain(selected));
  return EXIT_OK;
}

/** The manifest reduced to the functions whose qualified name matches `filter`. */
export function select(manifest: SiteManifest, filter: string | undefined): SiteManifest {
  if (filter === undefined || filter === "") return manifest;
  const modules: ModuleSites[] = [];
  for (const m of manifest.modules) {
    const functions = m.functions.filter((f) => matchesFilter(m.module, f.path, filter));
    if (functions.length > 0) modules.push({ ...m, functions });
  }
  return { version: manifest.version, modules };
}

/** Whether `<module>:<path>` matches a filter (substring, or glob; see SITES_USAGE). */
export function matchesFilter(module: string, path: string, filter: string): boolean {
  const name = `${module}:${path}`;
  if (!isGlob(filter)) return name.includes(filter);
  const colon = filter.indexOf(":");
  if (colon !== -1) {
    // As with include/exclude globs, a module part without "/" matches the file in any folder.
    const modulePart = filter.slice(0, colon);
    return matchesGlob(name, modulePart.includes("/") ? filter : `**/${filter}`);
  }
  return matchesGlob(name, filter) || matchesGlob(module, filter) || matchesGlob(path, filter);
}

/** One function per line: `name  line  [kinds]  lines …`, names padded to one column. */
export function formatPlain(manifest: SiteManifest): string {
  const rows: [string, string, string, string][] = [];
  for (const m of manifest.modules) {
    for (const f of m.functions) {
      rows.push([`${m.module}:${f.path}`, String(f.line), `[${kindsOf(f).join(" ")}]`, linesOf(f)]);
    }
  }
  const w0 = Math.min(72, Math.max(...rows.map((r) => r[0].length)));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const w2 = Math.max(...rows.map((r) => r[2].length));
  return (
    rows
      .map(([name, line, kinds, lines]) =>
        `${name.padEnd(w0)}  ${line.padStart(w1)}  ${lines === "" ? kinds : `${kinds.padEnd(w2)}  ${lines}`}`.trimEnd(),
      )
      .join("\n") + "\n"
  );
}

function kindsOf(f: ManifestFunction): string[] {
  const kinds: string[] = [f.kind];
  if (f.async && !kinds.includes("async")) kinds.push("async");
  if (f.generator && !kinds.includes("generator")) kinds.push("generator");
  return kinds;
}

/** `lines 13-15,17` for the function's line sites, "" when it has none. */
function linesOf(f: ManifestFunction): string {
  const lines = [...new Set(f.sites.filter((s) => s.kind === "line").map((s) => s.line))].sort((a, b) => a - b);
  if (lines.length === 0) return "";
  return `lines ${rangesText(lines)}`;
}

function countFunctions(manifest: SiteManifest): number {
  return manifest.modules.reduce((n, m) => n + m.functions.length, 0);
}
