/**
 * The MongoDB store (driver: the official `mongodb`, an optional peer dependency loaded on first use).
 *
 * Specs are the original library's documents in a collection (default `diagnose_specs`), one per
 * spec, named by an id field (default `id`, as the original's `id_field`), plus `_dv`, the version
 * a compare-and-set names (a document written without it, e.g. by the Python library, gets a
 * version derived from its content). Status goes to a separate collection (default
 * `<collection>_status`), one document per process with a TTL index on `seen`: one upsert per report
 * instead of one `$set: {"applied.<processId>"}` per spec, and spec documents that do not grow with
 * the fleet; `applied` is assembled on read.
 *
 * Change feed: a change stream where the server supports one (replica sets); otherwise, or when
 * the stream fails, a poll of ids, versions and `lastmodified` every `pollInterval` (with jitter)
 * that rings when they changed — the fallback is automatic.
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
import { checkId, copyReport, defineData, isPlainRecord, reviveDate } from "./documents.js";
import { InvalidStoreUriError, SpecConflictError, StoreUnavailableError } from "./errors.js";
import { snapshotRevision, specVersion } from "./fingerprint.js";
import { redactUri } from "./uri.js";
import { Doorbell, asStoreError, docToJson, jsonToDoc, loadDriver, newVersion } from "./remote.js";
import { MadeOnFirstUse } from "./made-on-first-use.js";
import { attachApplied, storedReport } from "./stored-status.js";

type Doc = Record<string, unknown>;

interface Collections {
  readonly specs: MongoCollectionLike;
  readonly status: MongoCollectionLike;
  /** One counter document, bumped by every write of this library, so a poll sees a put undone by a remove. */
  readonly meta: MongoCollectionLike;
}

interface CursorLike {
  toArray(): Promise<Doc[]>;
}

interface ChangeStreamLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  close(): Promise<void>;
}

/** The few methods of a driver `Collection` this store uses. */
export interface MongoCollectionLike {
  find(filter: Doc, options?: Doc): CursorLike;
  findOne(filter: Doc, options?: Doc): Promise<Doc | null>;
  insertOne(doc: Doc): Promise<unknown>;
  replaceOne(filter: Doc, doc: Doc, options?: Doc): Promise<{ matchedCount: number; upsertedCount?: number }>;
  deleteOne(filter: Doc): Promise<{ deletedCount: number }>;
  updateOne(filter: Doc, update: Doc, options?: Doc): Promise<unknown>;
  createIndex(spec: Doc, options?: Doc): Promise<unknown>;
  watch(pipeline?: Doc[], options?: Doc): ChangeStreamLike;
}

interface MongoClientLike {
  db(name?: string): { collection(name: string): MongoCollectionLike };
  close(): Promise<void>;
}

export interface MongoStoreOptions {
  /** A `mongodb://` URL; its path names the database. Ignored when `client` is given. */
  url?: string;
  /** An existing `MongoClient`; the store does not close it. */
  client?: MongoClientLike;
  /** The database (default: the URL's path, else `diagnose`). */
  db?: string;
  /** The specs collection. Default `diagnose_specs`. */
  collection?: string;
  /** The status collection. Default `<collection>_status`. */
  statusCollection?: string;
  /** The field that holds a spec's id. Default `id`. */
  idField?: string;
  /** Seconds a process's status lives without a new report (TTL index). Default 600. */
  statusTtl?: number;
  /** Milliseconds between polls when change streams are not available (±20% jitter). Default 5,000. */
  pollInterval?: number;
  /** Try change streams (default true); false always polls. */
  changeStreams?: boolean;
  /** Milliseconds to find a server before a call fails. Default 3,000. */
  serverSelectionTimeout?: number;
  /** Largest spec document, in bytes of JSON. Default 1 MiB. */
  maxDocumentBytes?: number;
}

export interface MongoStore extends SpecStore {
  readonly lastError: Error | null;
  /** How the feed learns of changes now: "change-stream", "poll", or "idle" (nobody watches). */
  readonly feedMode: "change-stream" | "poll" | "idle";
  listSpecs(): Promise<SpecSnapshot>;
  watch(listener: (change: StoreChange) => void): StoreSubscription;
}

/** A store in MongoDB. The driver is loaded and the connection made on first use. */
export function mongodbStore(options: MongoStoreOptions = {}): MongoStore {
  return new MongoSpecStore(options);
}

const DRIVER_VERSION = "7.9.1";
const VERSION_FIELD = "_dv";
const POLL_JITTER = 0.2;

class MongoSpecStore implements MongoStore {
  readonly description: string;
  lastError: Error | null = null;
  feedMode: "change-stream" | "poll" | "idle" = "idle";
  readonly #options: MongoStoreOptions;
  readonly #idField: string;
  readonly #dbName: string;
  readonly #collection: string;
  readonly #statusCollection: string;
  readonly #statusTtlMs: number;
  readonly #maxBytes: number;
  readonly #bell = new Doorbell();
  #client: MongoClientLike | undefined;
  #ownsClient = false;
  readonly #ready = new MadeOnFirstUse(() => this.#prepare());
  #stream: ChangeStreamLike | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #pollRevision: string | undefined;
  #pollFailing = false;
  #announce = false;
  #streamsFailed = false;
  #closed = false;

  constructor(options: MongoStoreOptions) {
    this.#options = options;
    this.#idField = options.idField ?? "id";
    if (
      this.#idField === "" ||
      this.#idField.startsWith("$") ||
      this.#idField.includes(".") ||
      this.#idField === "_id" ||
      this.#idField === VERSION_FIELD
    ) {
      throw new InvalidStoreUriError(
        this.#idField,
        `the id field must be a plain top-level field name (not "_id", "${VERSION_FIELD}", nor dotted).`,
      );
    }
    let dbFromUrl: string | undefined;
    if (options.url !== undefined) {
      const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(options.url);
      if (m?.[1] !== undefined) dbFromUrl = decodeURIComponent(m[1]);
    }
    this.#dbName = options.db ?? dbFromUrl ?? "diagnose";
    this.#collection = options.collection ?? "diagnose_specs";
    this.#statusCollection = options.statusCollection ?? `${this.#collection}_status`;
    this.#statusTtlMs = Math.max(1, options.statusTtl ?? 600) * 1000;
    this.#maxBytes = options.maxDocumentBytes ?? 1024 * 1024;
    const where =
      options.client !== undefined && options.url === undefined
        ? "mongodb:(client)"
        : redactUri(options.url ?? "mongodb://127.0.0.1:27017");
    this.description = `${where.replace(/\?.*$/, "")} collection ${JSON.stringify(`${this.#dbName}.${this.#collection}`)}`;
  }

  list(): Promise<SpecSnapshot> {
    return this.#list(true);
  }

  listSpecs(): Promise<SpecSnapshot> {
    return this.#list(false);
  }

  #list(withStatus: boolean): Promise<SpecSnapshot> {
    return this.#run(async ({ specs: coll, status }) => {
      const [docs, reports] = await Promise.all([coll.find({}).toArray(), withStatus ? this.#reports(status) : []]);
      const specs: StoredSpec[] = [];
      for (const raw of docs) {
        const id = raw[this.#idField];
        if (typeof id !== "string") continue;
        const { doc, version } = this.#fromStored(raw);
        attachApplied(doc, id, reports);
        specs.push({ id, doc, version });
      }
      return { specs, revision: snapshotRevision(specs) };
    });
  }

  put(id: string, doc: SpecDocument, options?: PutOptions): Promise<string> {
    return this.#run(async ({ specs: coll, meta }) => {
      checkId(this.description, "spec id", id);
      const stored = this.#toStored(id, doc);
      const version = stored[VERSION_FIELD] as string;
      const expected = options?.expectedVersion;
      if (expected === undefined) {
        await coll.replaceOne({ [this.#idField]: id }, stored, { upsert: true });
        await this.#bump(meta);
        return version;
      }
      if (expected === null) {
        let inserted = false;
        try {
          const res = (await coll.updateOne({ [this.#idField]: id }, { $setOnInsert: stored }, { upsert: true })) as {
            upsertedCount?: number;
          };
          inserted = res.upsertedCount === 1;
        } catch (e) {
          if ((e as { code?: unknown }).code !== 11000) throw e;
        }
        if (!inserted) throw new SpecConflictError(id, null, await this.#versionOf(coll, id));
        await this.#bump(meta);
        return version;
      }
      const filter = await this.#casFilter(coll, id, expected);
      const res = filter === null ? { matchedCount: 0 } : await coll.replaceOne(filter, stored);
      if (res.matchedCount === 1) {
        await this.#bump(meta);
        return version;
      }
      throw new SpecConflictError(id, expected, await this.#versionOf(coll, id));
    });
  }

  remove(id: string, options?: RemoveOptions): Promise<boolean> {
    return this.#run(async ({ specs: coll, meta }) => {
      checkId(this.description, "spec id", id);
      const expected = options?.expectedVersion;
      if (expected === undefined) {
        const removed = (await coll.deleteOne({ [this.#idField]: id })).deletedCount === 1;
        if (removed) await this.#bump(meta);
        return removed;
      }
      const filter = await this.#casFilter(coll, id, expected);
      if (filter !== null && (await coll.deleteOne(filter)).deletedCount === 1) {
        await this.#bump(meta);
        return true;
      }
      throw new SpecConflictError(id, expected, await this.#versionOf(coll, id));
    });
  }

  reportStatus(report: ProcessReport): Promise<void> {
    return this.#run(async ({ status }) => {
      const copy = copyReport(this.description, report);
      // Spec ids may hold dots and dollars, so the map is stored as a list of pairs.
      const specs = Object.keys(copy.specs).map((id) => ({ id, status: copy.specs[id] }));
      await status.replaceOne(
        { _id: copy.processId },
        { _id: copy.processId, labels: copy.labels, at: copy.at, seen: new Date(), specs },
        { upsert: true },
      );
    });
  }

  listStatus(): Promise<ProcessReport[]> {
    return this.#run(({ status }) => this.#reports(status));
  }

  watch(listener: (change: StoreChange) => void): StoreSubscription {
    const sub = this.#bell.add(listener, this.#closed);
    if (!this.#closed && this.feedMode === "idle") this.#startFeed();
    return sub;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bell.clear();
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    const stream = this.#stream;
    this.#stream = undefined;
    await stream?.close().catch(() => {});
    if (this.#client !== undefined && this.#ownsClient) await this.#client.close().catch(() => {});
  }

  #toStored(id: string, doc: SpecDocument): Doc {
    const stored = JSON.parse(docToJson(this.description, id, doc, this.#maxBytes)) as Doc;
    // The original library filters on `lastmodified` as a date: keep it a BSON date.
    if (Object.hasOwn(stored, "lastmodified")) defineData(stored, "lastmodified", reviveDate(stored["lastmodified"]));
    for (const reserved of ["_id", VERSION_FIELD, this.#idField]) delete stored[reserved];
    defineData(stored, this.#idField, id);
    // "v…" here, "c…" for content-derived versions: #casFilter tells them apart by the first letter.
    defineData(stored, VERSION_FIELD, `v${newVersion()}`);
    return stored;
  }

  #fromStored(raw: Doc): { doc: SpecDocument; version: string } {
    const copy: Doc = {};
    for (const key of Object.keys(raw))
      if (key !== "_id" && key !== VERSION_FIELD && key !== this.#idField) defineData(copy, key, raw[key]);
    const dv = raw[VERSION_FIELD];
    const version = typeof dv === "string" ? dv : `c${specVersion(copy)}`;
    // Through JSON, as the other stores: BSON types (ObjectId, Long) become plain values.
    const doc = jsonToDoc(JSON.stringify(copy));
    return { doc, version };
  }

  async #versionOf(coll: MongoCollectionLike, id: string): Promise<string | null> {
    const raw = await coll.findOne({ [this.#idField]: id });
    return raw === null ? null : this.#fromStored(raw).version;
  }

  /** The filter that matches the spec only at the expected version; null when it is not at it now. */
  async #casFilter(coll: MongoCollectionLike, id: string, expected: string): Promise<Doc | null> {
    if (!expected.startsWith("c")) return { [this.#idField]: id, [VERSION_FIELD]: expected };
    // A document written without a version (by another library): compare its content now, then
    // replace only that document while it still has no version.
    const raw = await coll.findOne({ [this.#idField]: id });
    if (raw === null || this.#fromStored(raw).version !== expected) return null;
    return { _id: raw["_id"], [VERSION_FIELD]: { $exists: false } };
  }

  async #reports(status: MongoCollectionLike): Promise<ProcessReport[]> {
    const docs = await status.find({ seen: { $gt: new Date(Date.now() - this.#statusTtlMs) } }).toArray();
    const out: ProcessReport[] = [];
    for (const d of docs) {
      if (!Array.isArray(d["specs"])) continue;
      // Stored as [{ id, status }]: a spec id is any string, and not every one is a field name here.
      const specs: Record<string, unknown> = {};
      for (const pair of d["specs"] as unknown[]) {
        if (isPlainRecord(pair) && typeof pair["id"] === "string") defineData(specs, pair["id"], pair["status"]);
      }
      const report = storedReport(d["_id"], d["labels"], d["at"], specs);
      if (report !== undefined) out.push(report);
    }
    return out;
  }

  #collections(): Promise<Collections> {
    return this.#ready.get();
  }

  async #prepare(): Promise<Collections> {
    if (this.#client === undefined) {
      if (this.#options.client !== undefined) this.#client = this.#options.client;
      else {
        const mod = await loadDriver<{ MongoClient: new (url: string, options: Doc) => MongoClientLike }>(
          "MongoDB",
          "mongodb",
          DRIVER_VERSION,
        );
        const url = this.#options.url ?? "mongodb://127.0.0.1:27017";
        this.#client = new mod.MongoClient(url, {
          serverSelectionTimeoutMS: this.#options.serverSelectionTimeout ?? 3_000,
          connectTimeoutMS: 3_000,
          socketTimeoutMS: 10_000,
          maxPoolSize: 4,
          appName: "diagnose",
          // Idle cost (measured, docs/stores.md): the server monitor's check every 10 s, the driver's
          // default, is part of an idle process's CPU; after a failed operation the driver checks at
          // once anyway. A `heartbeatFrequencyMS` in the URL wins.
          ...(/[?&]heartbeatFrequencyMS=/i.test(url) ? {} : { heartbeatFrequencyMS: 60_000 }),
        });
        this.#ownsClient = true;
      }
    }
    const db = this.#client.db(this.#dbName);
    const specs = db.collection(this.#collection);
    const status = db.collection(this.#statusCollection);
    const meta = db.collection(`${this.#collection}_meta`);
    await specs.createIndex({ [this.#idField]: 1 }, { unique: true, name: `diagnose_${this.#idField}` });
    try {
      await status.createIndex(
        { seen: 1 },
        { expireAfterSeconds: Math.ceil(this.#statusTtlMs / 1000), name: "diagnose_seen_ttl" },
      );
    } catch {
      // A server without TTL indexes: reads skip old reports by `seen` anyway.
    }
    return { specs, status, meta };
  }

  async #bump(meta: MongoCollectionLike): Promise<void> {
    await meta.updateOne({ _id: "revision" }, { $inc: { rev: 1 } }, { upsert: true });
  }

  #startFeed(): void {
    if (this.#options.changeStreams === false || this.#streamsFailed) {
      this.#startPolling();
      return;
    }
    this.feedMode = "change-stream";
    void this.#collections().then(
      ({ specs }) => {
        if (this.#closed) return;
        let stream: ChangeStreamLike;
        try {
          stream = specs.watch([], { maxAwaitTimeMS: 1_000 });
        } catch (e) {
          this.#streamFailed(e);
          return;
        }
        this.#stream = stream;
        stream.on("change", () => this.#bell.ring({ kind: "changed" }));
        stream.on("error", (e) => this.#streamFailed(e));
      },
      (e: unknown) => {
        // The server is not reachable yet: poll, which also notices when it comes back.
        this.lastError = asStoreError(this.description, e);
        this.#announce = true;
        this.#startPolling();
      },
    );
  }

  #streamFailed(e: unknown): void {
    if (this.#closed) return;
    const stream = this.#stream;
    this.#stream = undefined;
    void stream?.close().catch(() => {});
    this.#streamsFailed = true;
    this.lastError = new StoreUnavailableError(
      this.description,
      `change streams are not available (${describeError(e)}); polling instead.`,
    );
    // A change made while the stream was failing must not be missed: the first poll rings
    // "reconnected" once it has read the state it compares against.
    this.#announce = true;
    this.#startPolling();
  }

  #startPolling(): void {
    this.feedMode = "poll";
    if (this.#pollTimer === undefined && !this.#closed) this.#schedulePoll(0);
  }

  #schedulePoll(delay: number): void {
    this.#pollTimer = setTimeout(() => void this.#poll(), delay);
    this.#pollTimer.unref();
  }

  /**
   * One cheap read (the write counter, and ids, versions and `lastmodified` for writers that do
   * not bump the counter); rings when either changed.
   */
  async #poll(): Promise<void> {
    this.#pollTimer = undefined;
    if (this.#closed) return;
    try {
      const { specs, meta } = await this.#collections();
      const [docs, counter] = await Promise.all([
        specs.find({}, { projection: { _id: 0, [this.#idField]: 1, [VERSION_FIELD]: 1, lastmodified: 1 } }).toArray(),
        meta.findOne({ _id: "revision" }),
      ]);
      const parts = docs.map((d) => ({
        id: String(d[this.#idField]),
        version: `${String(d[VERSION_FIELD])}@${String(d["lastmodified"])}`,
      }));
      const revision = `${String(counter?.["rev"] ?? 0)}/${snapshotRevision(parts)}`;
      if (this.#pollFailing || this.#announce) {
        this.#pollFailing = false;
        this.#announce = false;
        this.lastError = null;
        this.#bell.ring({ kind: "reconnected" });
      } else if (this.#pollRevision !== undefined && revision !== this.#pollRevision)
        this.#bell.ring({ kind: "changed" });
      this.#pollRevision = revision;
    } catch (e) {
      this.lastError = asStoreError(this.description, e);
      if (!this.#pollFailing) this.#bell.ring({ kind: "error", error: this.lastError });
      this.#pollFailing = true;
    }
    if (this.#closed) return;
    const period = this.#options.pollInterval ?? 5_000;
    this.#schedulePoll(period * (1 - POLL_JITTER + Math.random() * 2 * POLL_JITTER));
  }

  #run<T>(work: (c: Collections) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError(this.description, "the store was closed."));
    return (async () => work(await this.#collections()))().catch((e: unknown) => {
      throw asStoreError(this.description, e);
    });
  }
}
