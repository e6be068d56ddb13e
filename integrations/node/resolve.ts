/**
 * How TypeScript users write imports, mapped to files: `import "./cart.js"` means `cart.ts` when
 * there is no `cart.js` (TypeScript's NodeNext convention), `./x.mjs` → `x.mts`, `./x.cjs` →
 * `x.cts`, and extensionless `./cart` / `./shop` → `cart.ts` / `shop/index.ts` (the "bundler"
 * convention). Only tried after Node's own resolution failed, so an existing `.js` file wins.
 */
import { statSync } from "node:fs";
import { posix } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const SUBSTITUTES: Record<string, readonly string[]> = {
  ".js": [".ts", ".tsx"],
  ".jsx": [".tsx"],
  ".mjs": [".mts"],
  ".cjs": [".cts"],
};
const EXTENSIONLESS = [".ts", ".tsx", ".mts", ".cts"];

/** True for specifiers that name a file: relative, absolute or `file:` URLs. */
export function isPathSpecifier(specifier: string): boolean {
  return (
    specifier.startsWith("./") ||
    specifier.startsWith("../") ||
    specifier === "." ||
    specifier === ".." ||
    specifier.startsWith("/") ||
    specifier.startsWith("file:")
  );
}

/** The paths to try for a path specifier that did not resolve as written, in order. */
export function typeScriptCandidates(path: string): string[] {
  const m = /\.(?:js|jsx|mjs|cjs)$/.exec(path);
  if (m !== null) {
    const stem = path.slice(0, m.index);
    return SUBSTITUTES[m[0]]!.map((ext) => stem + ext);
  }
  if (/\.[cm]?tsx?$/.test(path)) return [];
  const trimmed = path.endsWith("/") ? path.slice(0, -1) : path;
  return [...EXTENSIONLESS.map((ext) => trimmed + ext), ...EXTENSIONLESS.map((ext) => `${trimmed}/index${ext}`)];
}

/**
 * The file URL a path specifier means under the TypeScript conventions, or undefined.
 * `parentURL` is the importing module's URL.
 */
export function resolveTypeScriptSpecifier(specifier: string, parentURL: string | undefined): string | undefined {
  if (!isPathSpecifier(specifier)) return undefined;
  let url: URL;
  try {
    url = new URL(specifier, parentURL ?? pathToFileURL(process.cwd() + "/").href);
  } catch {
    return undefined;
  }
  if (url.protocol !== "file:") return undefined;
  const path = fileURLToPath(url);
  for (const candidate of typeScriptCandidates(path)) {
    if (isFile(candidate)) {
      const found = pathToFileURL(candidate);
      found.search = url.search;
      found.hash = url.hash;
      return found.href;
    }
  }
  return undefined;
}

/**
 * `url` (a file URL found by resolveTypeScriptSpecifier) written as a specifier that both the ESM
 * resolver and the CommonJS resolver (which `registerHooks` chains to for `require`) accept: the
 * original form when it was a `file:` URL, else a path relative to the importing module.
 */
export function asSpecifier(url: string, original: string, parentURL: string | undefined): string {
  if (original.startsWith("file:") || parentURL === undefined || !parentURL.startsWith("file:")) return url;
  const target = new URL(url);
  const rel = posix.relative(posix.dirname(new URL(parentURL).pathname), target.pathname);
  return (rel.startsWith("../") ? rel : "./" + rel) + target.search + target.hash;
}

/** For CommonJS `require()`: the file a relative request means, or undefined. */
export function resolveTypeScriptRequest(request: string, parentDir: string): string | undefined {
  const url = resolveTypeScriptSpecifier(request, pathToFileURL(parentDir + "/").href);
  return url === undefined ? undefined : fileURLToPath(url);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
