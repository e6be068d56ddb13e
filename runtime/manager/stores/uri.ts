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
import type { MongoStoreOptions } from "./mongodb.js";
import type { PostgresStoreOptions } from "./postgres.js";
import type { RedisStoreOptions } from "./redis.js";

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
  ["mongodb", { example: "mongodb://host/db?collection=diagnose_specs", open: async (uri) => openMongo(uri) }],
  ["mongodb+srv", { example: "mongodb+srv://host/db?collection=diagnose_specs", open: async (uri) => openMongo(uri) }],
  ["redis", { example: "redis://host:6379?prefix=diagnose:", open: async (uri) => openRedis(uri) }],
  ["rediss", { example: "rediss://host:6380?prefix=diagnose:", open: async (uri) => openRedis(uri) }],
  ["postgres", { example: "postgres://user@host/db?schema=diagnose", open: async (uri) => openPostgres(uri) }],
  ["postgresql", { example: "postgresql://user@host/db?schema=diagnose", open: async (uri) => openPostgres(uri) }],
]);

/**
 * The URI without the store's own query parameters (a driver would refuse or misread them), and
 * those parameters. Works on multi-host MongoDB URIs, which `URL` cannot parse.
 */
function takeParams(uri: string, names: readonly string[]): { url: string; params: Map<string, string> } {
  const q = uri.indexOf("?");
  if (q < 0) return { url: uri, params: new Map() };
  const hash = uri.indexOf("#", q);
  const query = new URLSearchParams(uri.slice(q + 1, hash < 0 ? undefined : hash));
  const params = new Map<string, string>();
  for (const name of names) {
    const value = query.get(name);
    if (value !== null) params.set(name, value);
    query.delete(name);
  }
  const rest = query.toString();
  return { url: `${uri.slice(0, q)}${rest === "" ? "" : `?${rest}`}`, params };
}

function seconds(uri: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidStoreUriError(
      redactUri(uri),
      `"${name}" must be a positive number, got ${JSON.stringify(value)}.`,
    );
  return n;
}

/** `?snapshot=<path>`: the last-known-good snapshot file (relative to the current directory). */
async function snapshotted(store: SpecStore, params: Map<string, string>): Promise<SpecStore> {
  const file = params.get("snapshot");
  if (file === undefined || file === "") return store;
  const { withSnapshot } = await import("./snapshot.js");
  return withSnapshot(store, resolve(file));
}

async function openMongo(uri: string): Promise<SpecStore> {
  const { url, params } = takeParams(uri, [
    "collection",
    "statusCollection",
    "idField",
    "pollInterval",
    "statusTtl",
    "snapshot",
  ]);
  const { mongodbStore } = await import("./mongodb.js");
  const options: MongoStoreOptions = { url };
  const collection = params.get("collection");
  const statusCollection = params.get("statusCollection");
  const idField = params.get("idField");
  const pollInterval = seconds(uri, "pollInterval", params.get("pollInterval"));
  const statusTtl = seconds(uri, "statusTtl", params.get("statusTtl"));
  if (collection !== undefined) options.collection = collection;
  if (statusCollection !== undefined) options.statusCollection = statusCollection;
  if (idField !== undefined) options.idField = idField;
  if (pollInterval !== undefined) options.pollInterval = pollInterval;
  if (statusTtl !== undefined) options.statusTtl = statusTtl;
  return snapshotted(mongodbStore(options), params);
}

async function openRedis(uri: string): Promise<SpecStore> {
  const { url, params } = takeParams(uri, ["prefix", "statusTtl", "snapshot"]);
  const { redisStore } = await import("./redis.js");
  const options: RedisStoreOptions = { url };
  const prefix = params.get("prefix");
  const statusTtl = seconds(uri, "statusTtl", params.get("statusTtl"));
  if (prefix !== undefined) options.prefix = prefix;
  if (statusTtl !== undefined) options.statusTtl = statusTtl;
  return snapshotted(redisStore(options), params);
}

async function openPostgres(uri: string): Promise<SpecStore> {
  const { url, params } = takeParams(uri, ["schema", "statusTtl", "poolSize", "snapshot"]);
  const { postgresStore } = await import("./postgres.js");
  const options: PostgresStoreOptions = { url };
  const schema = params.get("schema");
  const statusTtl = seconds(uri, "statusTtl", params.get("statusTtl"));
  const poolSize = params.get("poolSize");
  if (schema !== undefined) options.schema = schema;
  if (statusTtl !== undefined) options.statusTtl = statusTtl;
  if (poolSize !== undefined) {
    const n = Number(poolSize);
    if (!/^[0-9]+$/.test(poolSize) || n < 1 || n > 100)
      throw new InvalidStoreUriError(
        redactUri(uri),
        `"poolSize" must be a whole number from 1 to 100, got ${JSON.stringify(poolSize)}.`,
      );
    options.poolSize = n;
  }
  return snapshotted(postgresStore(options), params);
}

/**
 * Opens the store a URI names: `memory:`, `file:<path>` (relative to the current directory),
 * `mongodb://…/db?collection=`, `redis://…?prefix=`, `postgres://…?schema=`. A database store
 * connects on first use, so a server that is down does not fail the open.
 */
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
