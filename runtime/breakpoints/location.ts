/**
 * Where this folder's files are, in both builds of the package. The ESM build could read
 * `import.meta.url`, but the same source is also compiled to CommonJS (for `require` and Jest's
 * CommonJS sandbox), where `import.meta` is a syntax error. V8's structured call sites give the
 * file of a function in either module system.
 */
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The URL of this folder (with a trailing slash). */
export const HERE: URL = folderOf(ownFile());

function ownFile(): string {
  const prepare = Error.prepareStackTrace;
  let file: string | null | undefined;
  try {
    Error.prepareStackTrace = (_error, sites) => sites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, ownFile);
    const sites = holder.stack as NodeJS.CallSite[] | undefined;
    // sites[0] is the caller of ownFile: this module's top level.
    file = sites?.[0]?.getFileName();
  } finally {
    Error.prepareStackTrace = prepare;
  }
  if (typeof file !== "string") throw new Error("diagnose: cannot locate runtime/breakpoints (no V8 call sites)");
  return file.startsWith("file:") ? fileURLToPath(file) : file;
}

function folderOf(file: string): URL {
  return pathToFileURL(dirname(file) + "/");
}
