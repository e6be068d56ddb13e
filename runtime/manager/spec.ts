/**
 * Specs: what a store tells a process to probe. The field names are the original library's, so
 * documents written by the Python `diagnose` read as they are.
 *
 * A spec that comes from a store was written by someone else: every field is hostile input until
 * the manager has validated it (see validateSpec in this folder). These types describe a spec
 * that passed validation; stores hand the manager raw `SpecDocument`s.
 */

/** A spec document as stored: unvalidated, any shape. */
export type SpecDocument = Record<string, unknown>;

/** The instrument part of a spec. */
export interface InstrumentSpec {
  /** A key of `manager.instrumentClasses`: "log", "hist", "incr", "test", or one the user added. */
  type: string;
  /** Used in output (log lines, metric names). */
  name: string;
  /** The value expression. */
  value: string;
  /** "call", "return" (default), "end" or "line:N". */
  event?: string;
  /** `tags` and `condition` expressions; anything else is for the instrument class. */
  custom?: Record<string, unknown>;
}

/** What one process did with one spec: `spec.applied[processId]`. */
export interface AppliedStatus {
  /** The `lastmodified` of the spec version this process applied (null: none applied yet). */
  lm: Date | null;
  /** Why the spec is not (or no longer) working, as one clear sentence; null when it is fine. */
  err: string | null;
  /**
   * - "pending": accepted, waiting for the target's module to load;
   * - "applied": the instrument is attached and live;
   * - "emitting": applied, and it has fired at least once;
   * - "error": refused (bad spec) or failed at run time (see `err`);
   * - "expired": past `lastmodified + lifespan`, removed;
   * - "throttled": switched off by the process's CPU budget (`err` gives the figures) until the
   *   spec changes.
   */
  state: "pending" | "applied" | "emitting" | "error" | "expired" | "throttled";
  /** How many times the instrument fired in this process. */
  hits: number;
  /** When this status was written. */
  at: Date;
  /**
   * A caveat about a spec that is applied, as one clear sentence: its signature was verified but
   * its replay check could not be made (the replay ledger was unreadable at start). Absent when
   * there is none.
   */
  warning?: string;
  /**
   * Only in the reports of a process that applied this spec from its last-known-good snapshot
   * (`withSnapshot`: the store could not be reached when the process started): the ISO 8601
   * interval `<since>/<until>` it ran the spec from that file (`<since>/` while it still does),
   * kept for ten minutes after the store returned, like the process label `diagnose.stale`.
   */
  fromSnapshot?: string;
}

/** A validated spec. */
export interface Spec {
  /** A qualified name, e.g. "src/shop/cart.ts:Cart.total". */
  target: string;
  instrument: InstrumentSpec;
  /** Minutes from `lastmodified` until the spec expires; null or absent: the manager's default. */
  lifespan?: number | null;
  lastmodified: Date;
  /** Status per process id, written back by each process. */
  applied: Record<string, AppliedStatus>;
  /** Labels a process must carry (all of them, equal values) to apply the spec. Absent: every process. */
  selector?: Record<string, string>;
  /** Unknown fields are kept as they are (and warned about). */
  [field: string]: unknown;
}
