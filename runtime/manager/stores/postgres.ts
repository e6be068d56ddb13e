/**
 * The PostgreSQL store (driver: `pg`, an optional peer dependency loaded on first use).
 *
 * Tables in a schema (default `diagnose`), created on first use (idempotent, under an advisory
 * lock so several processes starting at once do not race):
 * - `specs(id text primary key, doc json, version text, updated_at timestamptz)`; `doc` is the
 *   document without `applied`, as JSON text (`json` keeps it exactly as written);
 * - `revision(rev bigint)`: one row, incremented by a statement trigger on `specs`, which also
 *   sends `NOTIFY "<schema>.changed"` (the doorbell) in the same transaction;
 * - `status(process_id text primary key, labels json, at timestamptz, specs json, seen timestamptz)`:
 *   one row per process, upserted; rows not written for `statusTtl` (by `seen`, the server's clock)
 *   are left out of reads and deleted as reports come in.
 * `list()` is one statement (one consistent snapshot of specs, revision and status).
 *
 * Connections: one per store by default. Queries and the LISTEN of the change feed share one
 * session, because with thousands of processes the server's connection count is the limit that
 * matters. `poolSize` > 1 adds an overflow pool for queries that arrive while the session is busy;
 * its connections close after a few idle seconds.
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
import { InvalidStoreUriError, SpecConflictError, StoreUnavailableError } from "./errors.js";
import { redactUri } from "./uri.js";
import { Backoff, Doorbell, asStoreError, docToJson, jsonToDoc, loadDriver, newVersion } from "./remote.js";
import { MadeOnFirstUse } from "./made-on-first-use.js";
import { attachApplied, storedReport, storedStatuses, type ProcessStatuses } from "./stored-status.js";

interface QueryResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}

/** The few methods of a `pg.Pool` this store uses (an existing pool may be passed). */
export interface PgPoolLike {
  query(text: string, values?: unknown[]): Promise<QueryResult>;
  on(event: "error", listener: (e: Error) => void): unknown;
  end(): Promise<void>;
}

interface PgClientLike {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<QueryResult>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  end(): Promise<void>;
}

interface PgModule {
  Pool: new (config: Record<string, unknown>) => PgPoolLike;
  Client: new (config: Record<string, unknown>) => PgClientLike;
}

export interface PostgresStoreOptions {
  /** A `postgres://` connection string; ignored for queries when `pool` is given (the feed still needs it or `PG*` variables). */
  url?: string;
  /** An existing `pg.Pool` for queries (the feed still opens its own LISTEN connection); the store does not end it. */
  pool?: PgPoolLike;
  /**
   * Connections this store opens at most. Default 1: queries and LISTEN share one session. More
   * add an overflow pool for concurrent queries, closed after a few idle seconds.
   */
  poolSize?: number;
  /** The schema of the store's tables. Default `diagnose`. */
  schema?: string;
  /** Seconds a process's status row lives without a new report. Default 600. */
  statusTtl?: number;
  /** Milliseconds one query may take before it fails. Default 5,000. */
  queryTimeout?: number;
  /** Largest spec document, in bytes of JSON. Default 1 MiB. */
  maxDocumentBytes?: number;
}

export interface PostgresStore extends SpecStore {
  readonly schema: string;
  readonly lastError: Error | null;
  listSpecs(): Promise<SpecSnapshot>;
  watch(listener: (change: StoreChange) => void): StoreSubscription;
}

/** A store in PostgreSQL. The driver is loaded, and the tables made, on first use. */
export function postgresStore(options: PostgresStoreOptions = {}): PostgresStore {
  return new PgSpecStore(options);
}

const DRIVER_VERSION = "8.23.1";

/**
 * Whether `e` is the driver's own `query_timeout` firing (no answer from the server in time), as
 * opposed to a server-side `statement_timeout`, which is a DatabaseError with SQLSTATE 57014 and
 * leaves the session usable. pg (8.x, both its JavaScript and native clients) raises it as a plain
 * `new Error("Query read timeout")` with no `code` or other property, so the message is the only
 * mark there is; the missing `code` keeps a server error that happens to say the same from
 * matching. Look again when the pinned driver version changes.
 */
function isClientReadTimeout(e: unknown): boolean {
  return e instanceof Error && e.message === "Query read timeout" && (e as { code?: unknown }).code === undefined;
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

class PgSpecStore implements PostgresStore {
  readonly description: string;
  readonly schema: string;
  lastError: Error | null = null;
  readonly #options: PostgresStoreOptions;
  readonly #s: string;
  readonly #channel: string;
  readonly #statusTtlMs: number;
  readonly #maxBytes: number;
  readonly #bell = new Doorbell();
  readonly #poolSize: number;
  /** What the statements run on: the session, or the overflow pool while the session is busy. */
  readonly #queries: PgPoolLike;
  readonly #driver = new MadeOnFirstUse(() =>
    loadDriver<{ default?: PgModule } & PgModule>("PostgreSQL", "pg", DRIVER_VERSION).then((m) => m.default ?? m),
  );
  /** The tables, made once; retried on the next call when it failed. */
  readonly #ready = new MadeOnFirstUse(() => this.#prepare());
  /** The one connection: queries, and LISTEN while someone watches. */
  #session: PgClientLike | undefined;
  #opening: Promise<PgClientLike> | undefined;
  #sessionBusy = 0;
  /** The session's last statement: pg runs one at a time and deprecates queueing on a client. */
  #tail: Promise<unknown> = Promise.resolve();
  #overflow: PgPoolLike | undefined;
  #listeningOn: PgClientLike | undefined;
  #listening: Promise<void> | undefined;
  #feedTimer: NodeJS.Timeout | undefined;
  #feedBackoff = new Backoff(200, 30_000, 60_000);
  #feedUp = false;
  #closed = false;

  constructor(options: PostgresStoreOptions) {
    this.#options = options;
    this.schema = typeof options.schema === "string" && options.schema !== "" ? options.schema : "diagnose";
    if (this.schema.length > 40)
      throw new InvalidStoreUriError(this.schema, "a schema name has at most 40 characters.");
    this.#s = ident(this.schema);
    this.#channel = `${this.schema}.changed`;
    this.#statusTtlMs = Math.max(1, options.statusTtl ?? 600) * 1000;
    this.#maxBytes = options.maxDocumentBytes ?? 1024 * 1024;
    const size = options.poolSize ?? 1;
    if (!Number.isInteger(size) || size < 1 || size > 100)
      throw new InvalidStoreUriError(String(size), "poolSize must be a whole number from 1 to 100.");
    this.#poolSize = size;
    this.#queries = {
      query: (text, values) => this.#query(text, values),
      on: () => undefined,
      end: async () => {},
    };
    const where =
      options.pool !== undefined && options.url === undefined
        ? "postgres:(pool)"
        : redactUri(options.url ?? "postgres://127.0.0.1:5432").replace(/\?.*$/, "");
    this.description = `${where} schema ${JSON.stringify(this.schema)}`;
  }

  list(): Promise<SpecSnapshot> {
    return this.#list(true);
  }

  listSpecs(): Promise<SpecSnapshot> {
    return this.#list(false);
  }

  #list(withStatus: boolean): Promise<SpecSnapshot> {
    return this.#run(async (pool) => {
      const s = this.#s;
      const { rows } = await pool.query(
        `SELECT (SELECT rev FROM ${s}.revision LIMIT 1)::text AS rev,
                (SELECT coalesce(json_agg(json_build_array(id, version, doc)), '[]'::json) FROM ${s}.specs) AS specs,
                ${withStatus ? `(SELECT coalesce(json_agg(json_build_array(process_id, specs)), '[]'::json) FROM ${s}.status WHERE seen > now() - $1::bigint * interval '1 millisecond')` : "($1::bigint * 0)::text"} AS status`,
        [this.#statusTtlMs],
      );
      const row = rows[0] ?? {};
      const reports: ProcessStatuses[] = [];
      for (const [processId, byId] of (withStatus ? (row["status"] ?? []) : []) as [string, unknown][]) {
        const statuses = storedStatuses(byId);
        if (statuses !== undefined) reports.push({ processId, specs: statuses });
      }
      const specs: StoredSpec[] = [];
      for (const [id, version, raw] of (row["specs"] ?? []) as [string, string, unknown][]) {
        const doc = jsonToDoc(raw);
        attachApplied(doc, id, reports);
        specs.push({ id, doc, version });
      }
      return { specs, revision: `r${String(row["rev"] ?? "0")}` };
    });
  }

  put(id: string, doc: SpecDocument, options?: PutOptions): Promise<string> {
    return this.#run(async (pool) => {
      checkId(this.description, "spec id", id);
      const text = docToJson(this.description, id, doc, this.#maxBytes);
      const expected = options?.expectedVersion;
      const version = newVersion();
      const s = this.#s;
      let res: QueryResult;
      if (expected === undefined) {
        res = await pool.query(
          `INSERT INTO ${s}.specs (id, doc, version, updated_at) VALUES ($1, $2::json, $3, now())
           ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, version = EXCLUDED.version, updated_at = now() RETURNING version`,
          [id, text, version],
        );
      } else if (expected === null) {
        res = await pool.query(
          `INSERT INTO ${s}.specs (id, doc, version, updated_at) VALUES ($1, $2::json, $3, now()) ON CONFLICT (id) DO NOTHING RETURNING version`,
          [id, text, version],
        );
      } else {
        res = await pool.query(
          `UPDATE ${s}.specs SET doc = $2::json, version = $3, updated_at = now() WHERE id = $1 AND version = $4 RETURNING version`,
          [id, text, version, expected],
        );
      }
      if (res.rows.length === 1) return version;
      throw new SpecConflictError(id, expected ?? null, await this.#versionOf(pool, id));
    });
  }

  remove(id: string, options?: RemoveOptions): Promise<boolean> {
    return this.#run(async (pool) => {
      checkId(this.description, "spec id", id);
      const expected = options?.expectedVersion;
      const s = this.#s;
      const res =
        expected === undefined
          ? await pool.query(`DELETE FROM ${s}.specs WHERE id = $1 RETURNING id`, [id])
          : await pool.query(`DELETE FROM ${s}.specs WHERE id = $1 AND version = $2 RETURNING id`, [id, expected]);
      if (res.rows.length === 1) return true;
      if (expected === undefined) return false;
      throw new SpecConflictError(id, expected, await this.#versionOf(pool, id));
    });
  }

  reportStatus(report: ProcessReport): Promise<void> {
    return this.#run(async (pool) => {
      const copy = copyReport(this.description, report);
      const s = this.#s;
      await pool.query(
        `WITH up AS (
           INSERT INTO ${s}.status (process_id, labels, at, specs, seen) VALUES ($1, $2::json, $3, $4::json, now())
           ON CONFLICT (process_id) DO UPDATE SET labels = EXCLUDED.labels, at = EXCLUDED.at, specs = EXCLUDED.specs, seen = now())
         DELETE FROM ${s}.status WHERE seen < now() - $5::bigint * interval '1 millisecond' AND process_id <> $1`,
        [copy.processId, JSON.stringify(copy.labels), copy.at, JSON.stringify(copy.specs), this.#statusTtlMs],
      );
    });
  }

  listStatus(): Promise<ProcessReport[]> {
    return this.#run(async (pool) => {
      const { rows } = await pool.query(
        `SELECT process_id, labels, at, specs FROM ${this.#s}.status WHERE seen > now() - $1::bigint * interval '1 millisecond'`,
        [this.#statusTtlMs],
      );
      const reports: ProcessReport[] = [];
      for (const r of rows) {
        // The specs column is NOT NULL and written from a checked report; `{}` stands in for a hand-edited row.
        const report = storedReport(r["process_id"], r["labels"], r["at"], isPlainRecord(r["specs"]) ? r["specs"] : {});
        if (report !== undefined) reports.push(report);
      }
      return reports;
    });
  }

  watch(listener: (change: StoreChange) => void): StoreSubscription {
    const sub = this.#bell.add(listener, this.#closed);
    if (!this.#closed && this.#feedTimer === undefined) void this.#listen();
    return sub;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bell.clear();
    if (this.#feedTimer !== undefined) clearTimeout(this.#feedTimer);
    const session = this.#session;
    this.#session = undefined;
    const opening = this.#opening;
    await session?.end().catch(() => {});
    // A session still connecting is ended by #open once it connects (ending it mid-connect can leave it connected).
    await opening?.catch(() => {});
    await this.#overflow?.end().catch(() => {});
  }

  async #versionOf(pool: PgPoolLike, id: string): Promise<string | null> {
    const { rows } = await pool.query(`SELECT version FROM ${this.#s}.specs WHERE id = $1`, [id]);
    return (rows[0]?.["version"] as string | undefined) ?? null;
  }

  #loadDriver(): Promise<PgModule> {
    return this.#driver.get();
  }

  #connConfig(): Record<string, unknown> {
    const timeout = this.#options.queryTimeout ?? 5_000;
    return {
      ...(this.#options.url !== undefined ? { connectionString: this.#options.url } : {}),
      connectionTimeoutMillis: 5_000,
      query_timeout: timeout,
      // The server gives up too, so a statement that timed out does not hold the session.
      statement_timeout: timeout,
      application_name: "diagnose",
    };
  }

  /** A statement on the user's pool, else on the session, else (busy, poolSize > 1) on the overflow pool. */
  async #query(text: string, values?: unknown[]): Promise<QueryResult> {
    if (this.#options.pool !== undefined) return this.#options.pool.query(text, values);
    const session = await this.#connected();
    if (this.#sessionBusy > 0 && this.#poolSize > 1) return (await this.#overflowPool()).query(text, values);
    this.#sessionBusy++;
    try {
      return await this.#onSession(session, text, values);
    } catch (e) {
      // A timed-out statement may still hold the connection: replace it rather than queue behind it.
      if (isClientReadTimeout(e)) this.#lost(session, e as Error);
      throw e;
    } finally {
      this.#sessionBusy--;
    }
  }

  /** A statement on the session after the ones before it. */
  #onSession(session: PgClientLike, text: string, values?: unknown[]): Promise<QueryResult> {
    const run = this.#tail.then(() => session.query(text, values));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #overflowPool(): Promise<PgPoolLike> {
    if (this.#overflow === undefined) {
      const pg = await this.#loadDriver();
      if (this.#overflow === undefined) {
        this.#overflow = new pg.Pool({ ...this.#connConfig(), max: this.#poolSize - 1, idleTimeoutMillis: 5_000 });
        // An idle client's error (the server went away) is an event; unhandled, it would end the process.
        this.#overflow.on("error", (e) => {
          this.lastError = e;
        });
      }
    }
    return this.#overflow;
  }

  /** The session, connected (one attempt at a time; a lost one is replaced on the next call). */
  #connected(): Promise<PgClientLike> {
    if (this.#session !== undefined) return Promise.resolve(this.#session);
    if (this.#opening === undefined) {
      this.#opening = this.#open().finally(() => (this.#opening = undefined));
    }
    return this.#opening;
  }

  async #open(): Promise<PgClientLike> {
    const pg = await this.#loadDriver();
    const client = new pg.Client(this.#connConfig());
    client.on("error", ((e: Error) => this.#lost(client, e)) as (...args: never[]) => void);
    client.on("end", (() => this.#lost(client)) as (...args: never[]) => void);
    client.on("notification", (() => this.#bell.ring({ kind: "changed" })) as (...args: never[]) => void);
    try {
      await client.connect();
    } catch (e) {
      client.end().catch(() => {});
      throw e;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      throw new StoreUnavailableError(this.description, "the store was closed.");
    }
    this.#session = client;
    this.#tail = Promise.resolve();
    // Someone watches: LISTEN on the new session at once (a query reconnected it before the feed's backoff did).
    if (this.#bell.size > 0) {
      if (this.#feedTimer !== undefined) clearTimeout(this.#feedTimer);
      void this.#listen();
    }
    return client;
  }

  /** The session failed or ended: forget it; a watched store reconnects with backoff. */
  #lost(client: PgClientLike, e?: unknown): void {
    if (this.#session === client) this.#session = undefined;
    const wasListening = this.#listeningOn === client;
    if (wasListening) this.#listeningOn = undefined;
    client.end().catch(() => {});
    if (this.#closed || !wasListening) return;
    this.lastError = e instanceof Error ? e : new Error(e === undefined ? "the connection ended" : describeError(e));
    if (this.#feedUp) this.#bell.ring({ kind: "error", error: this.lastError });
    this.#feedUp = false;
    this.#retryFeed();
  }

  #prepared(): Promise<void> {
    return this.#ready.get();
  }

  async #prepare(): Promise<void> {
    const s = this.#s;
    const lock = `hashtext(${quote(`diagnose:${this.schema}`)})`;
    await this.#queries.query(`
      BEGIN;
      SELECT pg_advisory_xact_lock(${lock});
      CREATE SCHEMA IF NOT EXISTS ${s};
      CREATE TABLE IF NOT EXISTS ${s}.specs (id text PRIMARY KEY, doc json NOT NULL, version text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE IF NOT EXISTS ${s}.revision (rev bigint NOT NULL);
      INSERT INTO ${s}.revision (rev) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ${s}.revision);
      CREATE TABLE IF NOT EXISTS ${s}.status (process_id text PRIMARY KEY, labels json NOT NULL, at timestamptz NOT NULL, specs json NOT NULL, seen timestamptz NOT NULL DEFAULT now());
      CREATE OR REPLACE FUNCTION ${s}.specs_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
          UPDATE ${s}.revision SET rev = rev + 1;
          PERFORM pg_notify(${quote(this.#channel)}, TG_OP);
          RETURN NULL;
        END $fn$;
      CREATE OR REPLACE TRIGGER specs_changed AFTER INSERT OR UPDATE OR DELETE ON ${s}.specs
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.specs_changed();
      COMMIT;`);
  }

  /** LISTEN on the session (one attempt at a time); on failure, retried with backoff. */
  #listen(): Promise<void> {
    this.#feedTimer = undefined;
    if (this.#listening === undefined)
      this.#listening = this.#listenOnce().finally(() => (this.#listening = undefined));
    return this.#listening;
  }

  async #listenOnce(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#prepared();
      const client = await this.#connected();
      if (this.#listeningOn === client || this.#closed) return;
      await this.#onSession(client, `LISTEN ${ident(this.#channel)}`);
      if (this.#session !== client || this.#closed) throw new Error("the connection ended");
      this.#listeningOn = client;
      this.#feedBackoff.connected();
      this.lastError = null;
      this.#feedUp = true;
      // Also on the first LISTEN: a change made between watch() and now was not announced.
      this.#bell.ring({ kind: "reconnected" });
    } catch (e) {
      if (this.#closed) return;
      this.lastError = asStoreError(this.description, e);
      this.#retryFeed();
    }
  }

  #retryFeed(): void {
    if (this.#closed || this.#feedTimer !== undefined || this.#bell.size === 0) return;
    this.#feedTimer = setTimeout(() => void this.#listen(), this.#feedBackoff.delay());
    this.#feedTimer.unref();
  }

  #run<T>(work: (pool: PgPoolLike) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError(this.description, "the store was closed."));
    return (async () => {
      await this.#prepared();
      return work(this.#queries);
    })().catch((e: unknown) => {
      throw asStoreError(this.description, e);
    });
  }
}

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
