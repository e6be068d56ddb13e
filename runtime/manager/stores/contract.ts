/**
 * The store contract: where a fleet's specs live and where each process writes back what it did.
 * Every store — memory, file, MongoDB, Redis, PostgreSQL, or a third party's — implements
 * `SpecStore` and passes the conformance suite in `diagnose/testing` (storeConformance).
 *
 * Invariants every store keeps:
 * - `list()` returns a consistent snapshot: every spec at one moment, with an opaque `revision`
 *   that changes whenever any spec was put or removed (status reports may, but need not, change it).
 * - Documents are returned as stored, unvalidated (the manager validates them); a store only
 *   revives dates it stored (`lastmodified`, `applied.*.lm`, `applied.*.at`) as Date objects.
 * - `put` and `remove` are compare-and-set when given an expected version: two writers never
 *   overwrite each other silently (SpecConflictError).
 * - `reportStatus` of one process never loses or overwrites another process's report, however
 *   many processes write at once.
 * - Spec ids and process ids are non-empty strings of at most 1024 characters (any characters:
 *   `/`, `.`, `$`, `__proto__`); other ids are refused with StoreFormatError.
 * - A store never throws into a caller synchronously; failures are rejected promises of
 *   DiagnoseError subclasses (StoreUnavailableError when the backend cannot be reached).
 */
import type { AppliedStatus, SpecDocument } from "../spec.js";

/** One spec as stored, with the version a compare-and-set must name. */
export interface StoredSpec {
  readonly id: string;
  /** The document as stored (unvalidated). Its `applied` is assembled from the status reports. */
  readonly doc: SpecDocument;
  /**
   * Opaque; changes whenever the stored document (without `applied`) changes. A store may also
   * change it on a put of equal content; the memory and file stores derive it from the content.
   */
  readonly version: string;
}

/** Every spec at one moment. */
export interface SpecSnapshot {
  readonly specs: readonly StoredSpec[];
  /** Opaque; equal revisions mean equal spec sets (a reader may skip work on an equal revision). */
  readonly revision: string;
}

/** What one process reports: its status for every spec it considered. Replaces its previous report. */
export interface ProcessReport {
  readonly processId: string;
  readonly labels: Readonly<Record<string, string>>;
  /** When the process wrote this report (a process that stops reporting goes stale). */
  readonly at: Date;
  /** Status by spec id. */
  readonly specs: Readonly<Record<string, AppliedStatus>>;
}

export interface PutOptions {
  /**
   * Compare-and-set: the version the writer last read; `null`: the id must not exist yet;
   * absent: write unconditionally.
   */
  readonly expectedVersion?: string | null;
}

export interface RemoveOptions {
  /** Compare-and-set: the version the writer last read; absent: remove unconditionally. */
  readonly expectedVersion?: string;
}

/**
 * The doorbell of a push store: "something changed, re-read" or "I reconnected, re-read
 * everything". It never carries data; the manager always re-reads through `list()`.
 */
export type StoreChange =
  | { readonly kind: "changed" }
  | { readonly kind: "reconnected" }
  | { readonly kind: "error"; readonly error: Error };

export interface StoreSubscription {
  close(): void;
}

export interface SpecStore {
  /** Where the store is, for messages and status lines; never contains credentials. */
  readonly description: string;
  /**
   * The problem a store is hiding behind its last good snapshot (a malformed or deleted file, a
   * lost connection), as a readable error; null when healthy. Optional: a store without one
   * reports problems only by rejecting calls and through `watch`'s `{ kind: "error" }`.
   */
  readonly lastError?: Error | null;
  /** Every spec now. */
  list(): Promise<SpecSnapshot>;
  /**
   * Optional: like `list()` (same specs, versions and revision) but each document's `applied` may
   * be left empty. The manager reads through it when present: a fleet's status is most of what
   * `list()` would move, and a process never needs the others' status to apply its specs.
   */
  listSpecs?(): Promise<SpecSnapshot>;
  /** Writes a spec; resolves with its new version. Rejects with SpecConflictError on a failed compare-and-set. */
  put(id: string, doc: SpecDocument, options?: PutOptions): Promise<string>;
  /** Removes a spec; false when there was none. Rejects with SpecConflictError on a failed compare-and-set. */
  remove(id: string, options?: RemoveOptions): Promise<boolean>;
  /** Stores one process's report, replacing its previous one. */
  reportStatus(report: ProcessReport): Promise<void>;
  /** The latest report of every process (stale ones included; readers judge by `at`). */
  listStatus(): Promise<ProcessReport[]>;
  /**
   * Optional change feed. Without it, the manager polls `list()` with jitter. The listener is
   * called asynchronously and must not throw (the store guards it anyway).
   */
  watch?(listener: (change: StoreChange) => void): StoreSubscription;
  /** Releases files, timers and connections. Idempotent. */
  close(): Promise<void>;
}
