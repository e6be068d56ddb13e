/**
 * Option validation and defaults. Bad options fail loudly with TransformOptionsError rather
 * than instrumenting with a surprising root or format.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { TransformOptionsError } from "./errors.js";
import type { InstrumentOptions, ModuleFormat, SourceMapV3 } from "./types.js";

export interface ResolvedOptions {
  root: string;
  packageName: string;
  /** `undefined`: decide from the syntax after parsing. */
  module: ModuleFormat | undefined;
  sourceMap: boolean;
  inputSourceMap: SourceMapV3 | null;
  include: readonly string[];
  exclude: readonly string[];
  jsx: boolean | undefined;
  /** Entry code applies replaced arguments (table field `r`). */
  replaceArguments: boolean;
  /** Small module-level functions get an instrumented copy (outline.ts). */
  outline: boolean;
  /** TypeScript input gets typed output (typed.ts). */
  types: boolean;
  /** The outlined functions' copies go into separate copy text (site ABI 4, InstrumentResult.copies). */
  deferCopies: boolean;
  /** Path of the file relative to root, "/" separators. */
  modulePath: string;
}

const KNOWN = new Set([
  "root",
  "packageName",
  "module",
  "sourceMap",
  "inputSourceMap",
  "include",
  "exclude",
  "jsx",
  "replaceArguments",
  "outline",
  "types",
  "deferCopies",
]);
const FORMATS = new Set(["esm", "cjs", "script"]);

/** package.json lookups per folder; a build instruments many files of few packages. */
const packageCache = new Map<string, { root: string; name: string } | null>();

function nearestPackage(folder: string): { root: string; name: string } | null {
  const cached = packageCache.get(folder);
  if (cached !== undefined) return cached;
  let found: { root: string; name: string } | null = null;
  const file = join(folder, "package.json");
  if (existsSync(file)) {
    let name = "";
    try {
      const json = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown };
      if (typeof json.name === "string") name = json.name;
    } catch {
      // An unreadable package.json still marks the root; the package name stays "".
    }
    found = { root: folder, name };
  } else {
    const parent = dirname(folder);
    found = parent === folder ? null : nearestPackage(parent);
  }
  packageCache.set(folder, found);
  return found;
}

function stringList(option: string, value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new TransformOptionsError(option, `expected an array of glob strings, got ${JSON.stringify(value)}`);
  }
  return value as string[];
}

function parseInputMap(value: unknown): SourceMapV3 | null {
  if (value === undefined || value === null) return null;
  let map: unknown = value;
  if (typeof value === "string") {
    try {
      map = JSON.parse(value);
    } catch {
      throw new TransformOptionsError("inputSourceMap", "a string must be the JSON text of a source map");
    }
  }
  const m = map as Partial<SourceMapV3> | null;
  if (typeof m !== "object" || m === null || typeof m.mappings !== "string" || !Array.isArray(m.sources)) {
    throw new TransformOptionsError("inputSourceMap", "expected a version 3 source map with `sources` and `mappings`");
  }
  return m as SourceMapV3;
}

export function resolveOptions(filename: string, options: InstrumentOptions | undefined): ResolvedOptions {
  if (typeof filename !== "string" || filename === "") {
    throw new TransformOptionsError(
      "filename",
      "instrument(code, filename) needs the file name (it decides the language and the module path)",
    );
  }
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== "object") throw new TransformOptionsError("options", "expected an object");
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key))
      throw new TransformOptionsError(key, `unknown option; known options are ${[...KNOWN].join(", ")}`);
  }
  for (const key of ["root", "packageName"]) {
    if (o[key] !== undefined && typeof o[key] !== "string")
      throw new TransformOptionsError(key, `expected a string, got ${typeof o[key]}`);
  }
  for (const key of ["sourceMap", "jsx", "replaceArguments", "outline", "types", "deferCopies"]) {
    if (o[key] !== undefined && typeof o[key] !== "boolean")
      throw new TransformOptionsError(key, `expected true or false, got ${JSON.stringify(o[key])}`);
  }
  if (o["deferCopies"] === true && o["types"] === true) {
    throw new TransformOptionsError(
      "deferCopies",
      "the deferred copy text is evaluated as JavaScript; it cannot be combined with types: true",
    );
  }
  if (o["module"] !== undefined && !FORMATS.has(o["module"] as string)) {
    throw new TransformOptionsError("module", `expected "esm", "cjs" or "script", got ${JSON.stringify(o["module"])}`);
  }

  const file = resolve(filename);
  const found = o["root"] === undefined || o["packageName"] === undefined ? nearestPackage(dirname(file)) : null;
  const root = o["root"] !== undefined ? resolve(o["root"] as string) : (found?.root ?? dirname(file));
  const rel = relative(root, file);
  const modulePath = (isAbsolute(rel) ? file : rel).split(sep).join("/");

  return {
    root,
    packageName: (o["packageName"] as string | undefined) ?? found?.name ?? "",
    module: o["module"] as ModuleFormat | undefined,
    sourceMap: (o["sourceMap"] as boolean | undefined) ?? true,
    inputSourceMap: parseInputMap(o["inputSourceMap"]),
    include: stringList("include", o["include"]),
    exclude: stringList("exclude", o["exclude"]),
    jsx: o["jsx"] as boolean | undefined,
    replaceArguments: (o["replaceArguments"] as boolean | undefined) ?? false,
    outline: (o["outline"] as boolean | undefined) ?? true,
    types: (o["types"] as boolean | undefined) ?? false,
    deferCopies: (o["deferCopies"] as boolean | undefined) ?? false,
    modulePath,
  };
}
