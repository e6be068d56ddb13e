/**
 * Opening a store from a URI (`--store`, `DIAGNOSE_STORE`, package.json's `"diagnose"` block).
 *
 * Schemes live in one table. A scheme whose store needs a driver (MongoDB, Redis, PostgreSQL)
 * imports its integration lazily inside `open`, so a process that uses the file store never loads
 * a database driver, and a missing driver is a clear error at open time.
 */
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import type { SpecStore } from "./contract.js";
import { InvalidStoreUriError } from "./errors.js";
import { fileStore } from "./file.js";
import { memoryStore } from "./memory.js";

interface Scheme {
  /** As users write it, for messages: "file:<path>". */
  readonly example: string;
  /** Opens the store; `uri` is the whole URI as given. */
  open(uri: string): Promise<SpecStore>;
}

/** Every scheme this installation can open, by scheme name (without the colon). */
const SCHEMES: ReadonlyMap<string, Scheme> = new Map<string, Scheme>([
  ["memory", { example: "memory:", open: async () => memoryStore() }],
  ["file", { example: "file:./diagnose-specs.json", open: async (uri) => fileStore(filePath(uri)) }],
]);

/** Opens the store a URI names: `memory:` or `file:<path>` (relative to the current directory). */
export function openStore(uri: string): Promise<SpecStore> {
  try {
    if (typeof uri !== "string" || uri.trim() === "")
      throw new InvalidStoreUriError(String(uri), `it is empty. ${known()}`);
    const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri);
    if (match === null) {
      throw new InvalidStoreUriError(redactUri(uri), `it has no scheme. ${known()} For a file, write "file:${uri}".`);
    }
    const name = (match[1] as string).toLowerCase();
    const scheme = SCHEMES.get(name);
    if (scheme === undefined)
      throw new InvalidStoreUriError(redactUri(uri), `no store for the scheme "${name}:". ${known()}`);
    return scheme.open(uri);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The schemes `openStore` accepts, e.g. `["file", "memory"]`. */
export function storeSchemes(): string[] {
  return [...SCHEMES.keys()].sort();
}

function known(): string {
  return `Known stores: ${[...SCHEMES.values()].map((s) => s.example).join(", ")}.`;
}

function filePath(uri: string): string {
  if (uri.startsWith("file://")) {
    try {
      return fileURLToPath(uri);
    } catch (e) {
      throw new InvalidStoreUriError(
        redactUri(uri),
        `${(e as Error).message}. Write "file:<path>", e.g. "file:./diagnose-specs.json".`,
      );
    }
  }
  const path = uri.slice("file:".length);
  if (path === "")
    throw new InvalidStoreUriError(uri, `it names no file. Write "file:<path>", e.g. "file:./diagnose-specs.json".`);
  return resolve(path);
}

/** The URI with the password (or a whole user-info part) replaced by `***`, for messages. */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/@?#]*)@/, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return `${scheme}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : "***"}@`;
  });
}
