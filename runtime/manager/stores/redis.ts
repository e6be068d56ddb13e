/**
 * The Redis store (driver: `ioredis`, an optional peer dependency loaded on first use).
 *
 * Layout under a key prefix (default `diagnose:`):
 * - `<prefix>specs`    hash: spec id → the document as JSON (without `applied`);
 * - `<prefix>versions` hash: spec id → its version;
 * - `<prefix>rev`      counter, incremented by every put and remove (the snapshot revision);
 * - `<prefix>status:<processId>` one process's last report as JSON, expiring after `statusTtl`
 *   (a dead process ages out); `<prefix>procs` a sorted set of process ids by report time;
 * - channel `<prefix>changed`: the doorbell, published by every put and remove.
 * Writes are Lua scripts, so a compare-and-set is atomic and the doorbell rings in the same step.
 * The feed's own connection re-subscribes after every reconnect and then rings "reconnected"
 * (the manager re-reads everything).
 */
import { describeError } from "../../../errors/index.js";
import type { SpecDocument } from "../spec.js";
import type {
  ProcessReport,
  PutOptions,
  RemoveOptions,
  SpecSnapshot,
  SpecStore,
  StoredSpec,
  StoreChange,
  StoreSubscription,
} from "./contract.js";
import { checkId, copyReport, isPlainRecord } from "./documents.js";
import { SpecConflictError, StoreUnavailableError } from "./errors.js";
import { redactUri } from "./uri.js";
import { Backoff, Doorbell, asStoreError, docToJson, jsonToDoc, loadDriver, newVersion } from "./remote.js";
import { MadeOnFirstUse } from "./made-on-first-use.js";
import { attachApplied, storedReport } from "./stored-status.js";

/** The few methods of an ioredis client this store uses (an existing client may be passed). */
export interface RedisClientLike {
  readonly status: string;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  multi(): { exec(): Promise<[Error | null, unknown][] | null> } & Record<string, (...args: never[]) => unknown>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  zrangebyscore(key: string, min: string | number, max: string | number): Promise<string[]>;
  duplicate(options?: Record<string, unknown>): RedisClientLike;
  subscribe(channel: string): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

export interface RedisStoreOptions {
  /** A `redis://` URL (default `redis://127.0.0.1:6379`); ignored when `client` is given. */
  url?: string;
  /** An existing ioredis client; the store does not close it (it closes only its own feed connection). */
  client?: RedisClientLike;
  /** Prefix of every key and of the channel. Default `diagnose:`. */
  prefix?: string;
  /** Seconds a process's status lives without a new report. Default 600. */
  statusTtl?: number;
  /** Milliseconds one command may take before it fails (a slow server never holds the manager). Default 5,000. */
  commandTimeout?: number;
  /** Largest spec document, in bytes of JSON. Default 1 MiB. */
  maxDocumentBytes?: number;
}

export interface RedisStore extends SpecStore {
  readonly prefix: string;
  readonly lastError: Error | null;
  listSpecs(): Promise<SpecSnapshot>;
  watch(listener: (change: StoreChange) => void): StoreSubscription;
}

/** A store in Redis. The driver is loaded and the connection made on first use. */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisSpecStore(options);
}

const DRIVER_VERSION = "6.1.0";

const PUT = `
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if ARGV[2] == 'null' then
  if cur then return {0, cur} end
elseif ARGV[2] == 'v' then
  if cur ~= ARGV[3] then return {0, cur or false} end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
redis.call('INCR', KEYS[3])
redis.call('PUBLISH', KEYS[4], 'put')
return {1, ARGV[5]}
`;

const REMOVE = `
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if ARGV[2] == 'v' and cur ~= ARGV[3] then return {0, cur or false} end
if not cur then return {1, 0} end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('INCR', KEYS[3])
redis.call('PUBLISH', KEYS[4], 'remove')
return {1, 1}
`;

const REPORT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
return 1
`;

class RedisSpecStore implements RedisStore {
  readonly description: string;
  readonly prefix: string;
  lastError: Error | null = null;
  readonly #options: RedisStoreOptions;
  readonly #statusTtlMs: number;
  readonly #maxBytes: number;
  readonly #bell = new Doorbell();
  /** The command connection, made on first use; a failed first load (a missing driver) is retried on the next call. */
  readonly #client = new MadeOnFirstUse(() => this.#connect());
  #ownsClient = false;
  #feed: RedisClientLike | undefined;
  #closed = false;

  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.prefix = typeof options.prefix === "string" && options.prefix !== "" ? options.prefix : "diagnose:";
    this.#statusTtlMs = Math.max(1, options.statusTtl ?? 600) * 1000;
    this.#maxBytes = options.maxDocumentBytes ?? 1024 * 1024;
    const where =
      options.client !== undefined
        ? "(client)"
        : redactUri(options.url ?? "redis://127.0.0.1:6379").replace(/\?.*$/, "");
    this.description = `${where.startsWith("redis") ? where : `redis:${where}`} prefix ${JSON.stringify(this.prefix)}`;
  }

  list(): Promise<SpecSnapshot> {
    return this.#list(true);
  }

  listSpecs(): Promise<SpecSnapshot> {
    return this.#list(false);
  }

  #list(withStatus: boolean): Promise<SpecSnapshot> {
    return this.#run(async (c) => {
      const p = this.prefix;
      const m = c.multi() as unknown as Record<string, (...a: unknown[]) => unknown> & {
        exec(): Promise<[Error | null, unknown][] | null>;
      };
      m["hgetall"]?.(`${p}specs`);
      m["hgetall"]?.(`${p}versions`);
      m["get"]?.(`${p}rev`);
      if (withStatus) m["zrangebyscore"]?.(`${p}procs`, Date.now() - this.#statusTtlMs, "+inf");
      const res = await m.exec();
      if (res === null) throw new StoreUnavailableError(this.description, "the read transaction was aborted.");
      for (const [err] of res) if (err) throw err;
      const docs = (res[0]?.[1] ?? {}) as Record<string, string>;
      const versions = (res[1]?.[1] ?? {}) as Record<string, string>;
      const rev = (res[2]?.[1] ?? "0") as string | null;
      const pids = (res[3]?.[1] ?? []) as string[];
      const reports = withStatus ? await this.#reports(c, pids) : [];
      const specs: StoredSpec[] = [];
      for (const id of Object.keys(docs)) {
        const doc = jsonToDoc(docs[id]);
        attachApplied(doc, id, reports);
        specs.push({ id, doc, version: versions[id] ?? "" });
      }
      return { specs, revision: `r${rev ?? "0"}` };
    });
  }

  put(id: string, doc: SpecDocument, options?: PutOptions): Promise<string> {
    return this.#run(async (c) => {
      checkId(this.description, "spec id", id);
      const text = docToJson(this.description, id, doc, this.#maxBytes);
      const expected = options?.expectedVersion;
      const mode = expected === undefined ? "any" : expected === null ? "null" : "v";
      const version = newVersion();
      const [ok, actual] = (await c.eval(PUT, 4, ...this.#keys(), id, mode, expected ?? "", text, version)) as [
        number,
        string | null,
      ];
      if (ok !== 1) throw new SpecConflictError(id, expected ?? null, actual || null);
      return version;
    });
  }

  remove(id: string, options?: RemoveOptions): Promise<boolean> {
    return this.#run(async (c) => {
      checkId(this.description, "spec id", id);
      const expected = options?.expectedVersion;
      const [ok, value] = (await c.eval(
        REMOVE,
        4,
        ...this.#keys(),
        id,
        expected === undefined ? "any" : "v",
        expected ?? "",
      )) as [number, string | number | null];
      if (ok !== 1) throw new SpecConflictError(id, expected ?? null, (value as string) || null);
      return value === 1;
    });
  }

  reportStatus(report: ProcessReport): Promise<void> {
    return this.#run(async (c) => {
      const copy = copyReport(this.description, report);
      const now = Date.now();
      await c.eval(
        REPORT,
        2,
        `${this.prefix}status:${copy.processId}`,
        `${this.prefix}procs`,
        JSON.stringify(copy),
        this.#statusTtlMs,
        now,
        copy.processId,
        now - this.#statusTtlMs,
      );
    });
  }

  listStatus(): Promise<ProcessReport[]> {
    return this.#run(async (c) => {
      const pids = await c.zrangebyscore(`${this.prefix}procs`, Date.now() - this.#statusTtlMs, "+inf");
      return this.#reports(c, pids);
    });
  }

  watch(listener: (change: StoreChange) => void): StoreSubscription {
    const sub = this.#bell.add(listener, this.#closed);
    if (!this.#closed && this.#feed === undefined) void this.#startFeed();
    return sub;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bell.clear();
    const feed = this.#feed;
    this.#feed = undefined;
    if (feed !== undefined) feed.disconnect();
    const client = this.#client.current;
    if (client !== undefined && this.#ownsClient) {
      try {
        (await client).disconnect();
      } catch {
        // It never connected.
      }
    }
  }

  #keys(): string[] {
    const p = this.prefix;
    return [`${p}specs`, `${p}versions`, `${p}rev`, `${p}changed`];
  }

  async #reports(c: RedisClientLike, pids: string[]): Promise<ProcessReport[]> {
    if (pids.length === 0) return [];
    const texts = await c.mget(...pids.map((pid) => `${this.prefix}status:${pid}`));
    const out: ProcessReport[] = [];
    for (const text of texts) {
      if (text === null) continue;
      try {
        const r = JSON.parse(text) as unknown;
        if (!isPlainRecord(r)) continue;
        const report = storedReport(r["processId"], r["labels"], r["at"], r["specs"]);
        if (report !== undefined) out.push(report);
      } catch {
        // A foreign value under our prefix: not a report.
      }
    }
    return out;
  }

  /** The command connection, made on first use; fails fast while the server is down. */
  #connection(): Promise<RedisClientLike> {
    return this.#client.get();
  }

  async #connect(): Promise<RedisClientLike> {
    if (this.#options.client !== undefined) return this.#options.client;
    const mod = await loadDriver<{ Redis: new (url: string, options: Record<string, unknown>) => RedisClientLike }>(
      "Redis",
      "ioredis",
      DRIVER_VERSION,
    );
    const backoff = new Backoff(200, 30_000, 60_000);
    const client = new mod.Redis(this.#options.url ?? "redis://127.0.0.1:6379", this.#driverOptions(backoff));
    this.#ownsClient = true;
    client.on("ready", () => backoff.connected());
    client.on("error", (e) => {
      this.lastError = e instanceof Error ? e : new Error(describeError(e));
    });
    client.on("ready", () => {
      this.lastError = null;
    });
    return client;
  }

  #driverOptions(backoff: Backoff): Record<string, unknown> {
    return {
      lazyConnect: false,
      // Commands fail at once while disconnected instead of queueing without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.#options.commandTimeout ?? 5_000,
      connectTimeout: 5_000,
      retryStrategy: () => (this.#closed ? null : backoff.delay()),
    };
  }

  async #startFeed(): Promise<void> {
    try {
      const c = await this.#connection();
      if (this.#closed || this.#feed !== undefined) return;
      const backoff = new Backoff(200, 30_000, 60_000);
      const feed = c.duplicate({
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        commandTimeout: undefined,
        retryStrategy: () => (this.#closed ? null : backoff.delay()),
      });
      this.#feed = feed;
      let first = true;
      feed.on("error", (e) => {
        this.lastError = e instanceof Error ? e : new Error(describeError(e));
      });
      feed.on("close", () => {
        if (!this.#closed && !first)
          this.#bell.ring({ kind: "error", error: this.lastError ?? new Error("connection closed") });
      });
      feed.on("message", () => this.#bell.ring({ kind: "changed" }));
      feed.on("ready", () => {
        backoff.connected();
        // ioredis re-subscribes by itself after a reconnect; the first ready is not a reconnect.
        if (!first) this.#bell.ring({ kind: "reconnected" });
        first = false;
      });
      await feed.subscribe(`${this.prefix}changed`);
      // A change made between watch() and the subscription was not announced.
      this.#bell.ring({ kind: "reconnected" });
    } catch (e) {
      this.lastError = asStoreError(this.description, e);
      if (!this.#closed) this.#bell.ring({ kind: "error", error: this.lastError });
    }
  }

  #run<T>(work: (c: RedisClientLike) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError(this.description, "the store was closed."));
    const run = async (): Promise<T> => {
      const c = await this.#connection();
      if (c.status !== "ready") await this.#ready(c);
      return work(c);
    };
    return run().catch((e: unknown) => {
      throw asStoreError(this.description, e);
    });
  }

  /** Waits briefly for a connection being made (at start); a server that is down fails the call. */
  #ready(c: RedisClientLike): Promise<void> {
    if (c.status === "wait")
      return Promise.reject(new StoreUnavailableError(this.description, "the client is not connected (lazyConnect?)."));
    return new Promise<void>((resolve, reject) => {
      const done = (e?: Error): void => {
        clearTimeout(timer);
        c.removeListener("ready", onReady);
        c.removeListener("error", onError);
        if (e === undefined) resolve();
        else reject(e);
      };
      const onReady = (): void => done();
      const onError = (e: unknown): void => done(new StoreUnavailableError(this.description, describeError(e)));
      const timer = setTimeout(() => done(new StoreUnavailableError(this.description, "not connected.")), 2_000);
      timer.unref();
      c.once("ready", onReady);
      c.once("error", onError);
    });
  }
}
