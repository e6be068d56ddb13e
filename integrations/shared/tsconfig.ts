/**
 * The few tsconfig.json compiler options that change how type-stripped output behaves
 * (decorators, class fields, JSX, whether imports without `type` are kept). Read without loading TypeScript: the loader must start fast.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";

export interface TsCompilerOptions {
  experimentalDecorators?: boolean;
  emitDecoratorMetadata?: boolean;
  useDefineForClassFields?: boolean;
  /** Imports and exports without `type` are values and stay in the output (strip-in-place.ts). */
  verbatimModuleSyntax?: boolean;
  jsx?: string;
  jsxFactory?: string;
  jsxFragmentFactory?: string;
  jsxImportSource?: string;
}

const byDir = new Map<string, TsCompilerOptions>();

/** Compiler options of the nearest tsconfig.json at or above `dir`, with `extends` followed. */
export function compilerOptionsFor(dir: string): TsCompilerOptions {
  const cached = byDir.get(dir);
  if (cached !== undefined) return cached;
  let options: TsCompilerOptions;
  const file = join(dir, "tsconfig.json");
  const own = readConfig(file, 0);
  if (own !== undefined) {
    options = own;
  } else {
    const parent = dirname(dir);
    options = parent === dir || dir.endsWith("/node_modules") ? {} : compilerOptionsFor(parent);
  }
  byDir.set(dir, options);
  return options;
}

function readConfig(file: string, depth: number): TsCompilerOptions | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  let json: { extends?: unknown; compilerOptions?: Record<string, unknown> };
  try {
    json = JSON.parse(stripJsonComments(text)) as typeof json;
  } catch {
    // tsc reports a broken tsconfig; the loader falls back to defaults rather than refusing to run.
    return {};
  }
  let base: TsCompilerOptions = {};
  const ext = json.extends;
  const parents = typeof ext === "string" ? [ext] : Array.isArray(ext) ? ext.filter((e) => typeof e === "string") : [];
  if (depth < 10) {
    for (const p of parents as string[]) {
      const parentFile = resolveExtends(p, dirname(file));
      if (parentFile !== undefined) base = { ...base, ...readConfig(parentFile, depth + 1) };
    }
  }
  const co = json.compilerOptions ?? {};
  const picked: TsCompilerOptions = { ...base };
  for (const key of [
    "experimentalDecorators",
    "emitDecoratorMetadata",
    "useDefineForClassFields",
    "verbatimModuleSyntax",
  ] as const) {
    if (typeof co[key] === "boolean") picked[key] = co[key];
  }
  for (const key of ["jsx", "jsxFactory", "jsxFragmentFactory", "jsxImportSource"] as const) {
    if (typeof co[key] === "string") picked[key] = co[key];
  }
  return picked;
}

function resolveExtends(spec: string, dir: string): string | undefined {
  if (spec.startsWith(".") || isAbsolute(spec)) {
    const p = resolve(dir, spec);
    return p.endsWith(".json") ? p : p + ".json";
  }
  try {
    return createRequire(join(dir, "noop.js")).resolve(spec);
  } catch {
    try {
      return createRequire(join(dir, "noop.js")).resolve(spec + "/tsconfig.json");
    } catch {
      return undefined;
    }
  }
}

/** Removes `//` and block comments and trailing commas outside strings (tsconfig is JSONC). */
export function stripJsonComments(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end === -1 ? text.length : end + 1;
    } else {
      out += c;
    }
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}
