/**
 * Where a relative `file:` store lives. The CLI and a service started through the loader must
 * meet at the same file without configuration, so both anchor a relative path the same way: a
 * path from `--store` or `DIAGNOSE_STORE` against the working directory, a path from package.json's
 * `"diagnose": { "store" }` against that package.json's folder (as `verifyKeys` is).
 */
import { isAbsolute, resolve } from "node:path";

/** `uri` with a relative `file:` path made absolute against `base`; any other URI as it is. */
export function anchorFileUri(uri: string, base: string): string {
  if (!uri.startsWith("file:") || uri.startsWith("file://")) return uri;
  const path = uri.slice("file:".length);
  return path === "" || isAbsolute(path) ? uri : `file:${resolve(base, path)}`;
}
