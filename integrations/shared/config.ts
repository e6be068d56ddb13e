/**
 * Project configuration shared by every integration (Node loader, CLI, bundler plugins): where a
 * file's project root is, which files are instrumented, where the site manifest goes.
 *
 * Sources, later ones win: the `"diagnose"` key of the project's package.json, then the
 * environment (`DIAGNOSE_INCLUDE`, `DIAGNOSE_EXCLUDE`: comma-separated globs; `DIAGNOSE_MANIFEST`:
 * a path). Globs are matched against the file path relative to the project root, `/` separated.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { DiagnoseError } from "../../errors/index.js";
import { matchesAny } from "../../transformer/glob.js";

/** The `"diagnose"` key of package.json. */
export interface DiagnosePackageOptions {
  /** Globs of files to instrument. Default: every TypeScript file of the project. */
  include?: string[];
  /** Globs of files never to instrument (they are still compiled). */
  exclude?: string[];
  /** Where the loader writes the site manifest; relative to the project root. */
  manifest?: string;
  /** The spec store the loader starts the default manager on, e.g. "file:./diagnose-specs.json". */
  store?: string;
  /** This process's labels, matched against specs' selectors. */
  labels?: Record<string, string>;
  /**
   * Public keys (a file or a folder, relative to package.json) that specs must be signed with;
   * the loader's manager refuses every other spec. See docs/manager.md, "Signed specs".
   */
  verifyKeys?: string;
}

/** Resolved configuration of one project. */
export interface DiagnoseConfig {
  /** Absolute path of the project root: the folder of the nearest package.json. */
  readonly root: string;
  /** Package name from that package.json ("" if none). */
  readonly packageName: string;
  /** Include globs given by the user, or undefined for the default (TypeScript files only). */
  readonly include: readonly string[] | undefined;
  readonly exclude: readonly string[];
  /** Absolute path of the manifest to write, if any. */
  readonly manifest: string | undefined;
}

/** A configuration value that cannot be used; the message says which and how to fix it. */
export class DiagnoseConfigError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_CONFIG";

  constructor(message: string) {
    super(DiagnoseConfigError.CODE, message);
  }
}

export const TS_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts"] as const;
export const JS_EXTENSIONS = [".js", ".jsx", ".mjs", ".cjs"] as const;

interface PackageJsonInfo {
  readonly dir: string;
  readonly json: Record<string, unknown>;
}

const packageJsonByDir = new Map<string, PackageJsonInfo | null>();
const configByRoot = new Map<string, DiagnoseConfig>();

/** The nearest package.json at or above `dir` (cached), or undefined. */
export function findPackageJson(dir: string): PackageJsonInfo | undefined {
  const seen: string[] = [];
  let current = dir;
  let found: PackageJsonInfo | null = null;
  for (;;) {
    const cached = packageJsonByDir.get(current);
    if (cached !== undefined) {
      found = cached;
      break;
    }
    seen.push(current);
    const json = readJson(join(current, "package.json"));
    if (json !== undefined) {
      found = { dir: current, json };
      break;
    }
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of seen) packageJsonByDir.set(d, found);
  return found ?? undefined;
}

/** `"module"` or `"commonjs"`: the nearest package.json's `"type"`, as Node decides for `.js`/`.ts`. */
export function packageTypeOf(file: string): "module" | "commonjs" {
  return findPackageJson(dirname(file))?.json["type"] === "module" ? "module" : "commonjs";
}

/** The format Node gives a file: `.mts`/`.mjs` ESM, `.cts`/`.cjs` CommonJS, else the package.json `"type"`. */
export function moduleFormatOf(file: string): "module" | "commonjs" {
  if (file.endsWith(".mts") || file.endsWith(".mjs")) return "module";
  if (file.endsWith(".cts") || file.endsWith(".cjs")) return "commonjs";
  return packageTypeOf(file);
}

/** The project root of a file: the folder of its nearest package.json (else the working directory). */
export function projectRootOf(file: string): string {
  return findPackageJson(dirname(file))?.dir ?? process.cwd();
}

/** The configuration of the project at `root` (cached per root; the environment is read once). */
export function loadConfig(root: string, env: NodeJS.ProcessEnv = process.env): DiagnoseConfig {
  const absRoot = resolve(root);
  const cached = configByRoot.get(absRoot);
  if (cached !== undefined && env === process.env) return cached;
  const pkg = readJson(join(absRoot, "package.json"));
  const pkgPath = join(absRoot, "package.json");
  const raw = pkg?.["diagnose"];
  if (raw !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) {
    throw new DiagnoseConfigError(`${pkgPath}: "diagnose" must be an object like { "include": ["src/**"] }`);
  }
  const options = (raw ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (
      key !== "include" &&
      key !== "exclude" &&
      key !== "manifest" &&
      key !== "store" &&
      key !== "labels" &&
      key !== "verifyKeys"
    ) {
      throw new DiagnoseConfigError(
        `${pkgPath}: unknown option "diagnose.${key}" (known: include, exclude, manifest, store, labels, verifyKeys)`,
      );
    }
  }
  let include = globList(options["include"], `${pkgPath}: "diagnose.include"`);
  let exclude = globList(options["exclude"], `${pkgPath}: "diagnose.exclude"`) ?? [];
  const envInclude = env["DIAGNOSE_INCLUDE"];
  const envExclude = env["DIAGNOSE_EXCLUDE"];
  if (envInclude !== undefined && envInclude.trim() !== "") include = splitGlobs(envInclude);
  if (envExclude !== undefined && envExclude.trim() !== "") exclude = splitGlobs(envExclude);
  let manifest: string | undefined;
  const m = env["DIAGNOSE_MANIFEST"] ?? options["manifest"];
  if (m !== undefined && m !== "") {
    if (typeof m !== "string") {
      throw new DiagnoseConfigError(`${pkgPath}: "diagnose.manifest" must be a path string`);
    }
    manifest = isAbsolute(m) ? m : resolve(env["DIAGNOSE_MANIFEST"] !== undefined ? process.cwd() : absRoot, m);
  }
  const name = pkg?.["name"];
  const config: DiagnoseConfig = {
    root: absRoot,
    packageName: typeof name === "string" ? name : "",
    include,
    exclude,
    manifest,
  };
  if (env === process.env) configByRoot.set(absRoot, config);
  return config;
}

/** The path of `file` relative to the config's root, with `/` separators. */
export function relativeModulePath(config: DiagnoseConfig, file: string): string {
  const rel = relative(config.root, file);
  return sep === "/" ? rel : rel.split(sep).join("/");
}

/**
 * Whether a file is instrumented. Never under node_modules, never a declaration file, never when an
 * exclude glob matches. TypeScript files are included by default; JavaScript files only when a
 * user-given include glob matches them (most projects' .js files are build output).
 */
export function isIncluded(config: DiagnoseConfig, file: string): boolean {
  const rel = relativeModulePath(config, file);
  if (rel.startsWith("../") || isAbsolute(rel)) return false;
  if (/(^|\/)node_modules\//.test(rel) || /\.d\.[cm]?ts$/.test(rel)) return false;
  const isTs = hasExtension(rel, TS_EXTENSIONS);
  if (!isTs && !hasExtension(rel, JS_EXTENSIONS)) return false;
  if (matchesAny(rel, config.exclude)) return false;
  if (config.include === undefined) return isTs;
  return matchesAny(rel, config.include);
}

/** True for `.ts`, `.tsx`, `.mts`, `.cts` (declaration files included; callers filter those). */
export function isTypeScriptFile(file: string): boolean {
  return hasExtension(file, TS_EXTENSIONS);
}

function hasExtension(file: string, exts: readonly string[]): boolean {
  return exts.some((e) => file.endsWith(e));
}

function splitGlobs(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function globList(value: unknown, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  throw new DiagnoseConfigError(`${what} must be a glob or an array of globs, e.g. ["src/**"]`);
}

function readJson(path: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    if (!statSync(path).isFile()) return undefined;
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const json: unknown = JSON.parse(text);
    return typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
  } catch (error) {
    throw new DiagnoseConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}
