/**
 * The in-process store, the default manager's: `specs` is a Map users write directly
 * (`manager.specs.set("instr-1", {...})`), so versions cannot come from put() alone — each spec's
 * version is a fingerprint of its content (fingerprint.ts) and the snapshot revision is derived
 * from all of them. Status reports are also written into the documents as `doc.applied[processId]`,
 * as the original library did.
 */
import type { AppliedStatus, SpecDocument } from "../spec.js";
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
import { checkId, copyReport, deleteApplied, isPlainRecord, ownData, setApplied } from "./documents.js";
import { SpecConflictError, StoreFormatError, StoreUnavailableError } from "./errors.js";
import { cachedSpecVersion, snapshotRevision } from "./fingerprint.js";

const DESCRIPTION = "memory:";

/** The in-process store. */
export interface MemoryStore extends SpecStore {
  /**
   * The specs by id, to read and write directly. `set`, `delete` and `clear` ring the change feed;
   * a document edited in place does not (call `manager.apply()` after such an edit).
   */
  readonly specs: Map<string, SpecDocument>;
  /** Always null: the memory store has no backend that can fail. */
  readonly lastError: Error | null;
  watch(listener: (change: StoreChange) => void): StoreSubscription;
}

/** The specs a memory store starts with: a Map, entries, or an object by id. */
export type MemorySpecs = Iterable<readonly [string, SpecDocument]> | Readonly<Record<string, SpecDocument>>;

/** A store that lives in this process. */
export function memoryStore(initial?: MemorySpecs): MemoryStore {
  return new InMemoryStore(initial);
}

/**
 * A snapshot whose revision is computed when first read: the manager never reads it, and for a
 * thousand new specs it is a sort and a hash of them all. A snapshot with the same (id, version)
 * list as the one before takes that one's revision if it was computed (equal lists give equal
 * revisions either way; no snapshot keeps another alive).
 */
class MemorySnapshot implements SpecSnapshot {
  #revision: string | undefined;

  constructor(
    readonly specs: StoredSpec[],
    same: MemorySnapshot | undefined,
  ) {
    this.#revision = same === undefined ? undefined : same.#revision;
    // An own enumerable property, as a plain snapshot object has (spreads and deep comparisons see it).
    Object.defineProperty(this, "revision", {
      enumerable: true,
      get: () => (this.#revision ??= snapshotRevision(this.specs)),
    });
  }

  declare readonly revision: string;
}

/** A Map whose writes ring the store's doorbell. */
class SpecMap extends Map<string, SpecDocument> {
  /** @internal */ onChange: (() => void) | undefined;
  override set(id: string, doc: SpecDocument): this {
    super.set(id, doc);
    this.onChange?.();
    return this;
  }
  override delete(id: string): boolean {
    const had = super.delete(id);
    if (had) this.onChange?.();
    return had;
  }
  override clear(): void {
    const had = this.size > 0;
    super.clear();
    if (had) this.onChange?.();
  }
}

class InMemoryStore implements MemoryStore {
  readonly description = DESCRIPTION;
  readonly specs: SpecMap = new SpecMap();
  readonly lastError = null;
  readonly #reports = new Map<string, ProcessReport>();
  readonly #listeners = new Set<(change: StoreChange) => void>();
  #ringing = false;
  #closed = false;
  #last: MemorySnapshot | undefined;

  constructor(initial?: MemorySpecs) {
    if (initial !== undefined) {
      const entries =
        Symbol.iterator in Object(initial)
          ? (initial as Iterable<readonly [string, SpecDocument]>)
          : Object.entries(initial as Record<string, SpecDocument>);
      for (const [id, doc] of entries) this.specs.set(id, doc);
    }
    this.specs.onChange = () => this.#ring();
  }

  list(): Promise<SpecSnapshot> {
    return this.#guard(() => {
      // Entries and the revision of the last list() are reused where nothing changed: an apply
      // with nothing new then allocates almost nothing.
      const last = this.#last;
      const specs: StoredSpec[] = [];
      let sameRevision = last !== undefined && last.specs.length === this.specs.size;
      let i = 0;
      for (const [id, doc] of this.specs) {
        const version = cachedSpecVersion(doc);
        const before = last?.specs[i++];
        if (before !== undefined && before.id === id && before.version === version) {
          specs.push(before.doc === doc ? before : { id, doc, version });
        } else {
          sameRevision = false;
          specs.push({ id, doc, version });
        }
      }
      const snapshot = new MemorySnapshot(specs, sameRevision ? last : undefined);
      this.#last = snapshot;
      return snapshot;
    });
  }

  put(id: string, doc: SpecDocument, options?: PutOptions): Promise<string> {
    return this.#guard(() => {
      checkId(DESCRIPTION, "spec id", id);
      this.#checkVersion(id, options?.expectedVersion);
      if (!isPlainRecord(doc))
        throw new StoreFormatError(DESCRIPTION, `spec ${JSON.stringify(id)} must be a plain object.`);
      let copy: SpecDocument;
      try {
        // Detached from the caller's object, as a store on another machine would be.
        copy = structuredClone(doc);
      } catch (e) {
        throw new StoreFormatError(
          DESCRIPTION,
          `spec ${JSON.stringify(id)} cannot be copied (a function, a symbol or an unreadable value?).`,
          {
            cause: e,
          },
        );
      }
      if (!isPlainRecord(ownData(copy, "applied"))) copy["applied"] = {};
      for (const report of this.#reports.values()) {
        const status = ownData(report.specs, id);
        if (status !== undefined) setApplied(copy, report.processId, status as AppliedStatus);
      }
      this.specs.set(id, copy);
      return cachedSpecVersion(copy);
    });
  }

  remove(id: string, options?: RemoveOptions): Promise<boolean> {
    return this.#guard(() => {
      checkId(DESCRIPTION, "spec id", id);
      if (options?.expectedVersion !== undefined) this.#checkVersion(id, options.expectedVersion);
      return this.specs.delete(id);
    });
  }

  reportStatus(report: ProcessReport): Promise<void> {
    return this.#guard(() => {
      const copy = copyReport(DESCRIPTION, report);
      const pid = copy.processId;
      const previous = this.#reports.get(pid);
      this.#reports.set(pid, copy);
      // One copy: the documents hold the statuses of the report kept for listStatus() (which
      // hands out clones), as put() does; the documents are this store's data. The copy is a
      // structured clone (plain data: no getters, no Proxies), so it is read directly.
      const statuses = copy.specs as Record<string, AppliedStatus>;
      const before = previous?.specs as Record<string, AppliedStatus> | undefined;
      for (const [id, doc] of this.specs) {
        const status = Object.hasOwn(statuses, id) ? statuses[id] : undefined;
        if (status !== undefined) setApplied(doc, pid, status);
        else if (before !== undefined && Object.hasOwn(before, id) && before[id] !== undefined) deleteApplied(doc, pid);
      }
    });
  }

  listStatus(): Promise<ProcessReport[]> {
    return this.#guard(() => [...this.#reports.values()].map((r) => structuredClone(r)));
  }

  watch(listener: (change: StoreChange) => void): StoreSubscription {
    if (!this.#closed) this.#listeners.add(listener);
    return { close: () => void this.#listeners.delete(listener) };
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    return Promise.resolve();
  }

  #checkVersion(id: string, expected: string | null | undefined): void {
    if (expected === undefined) return;
    const current = this.specs.has(id) ? cachedSpecVersion(this.specs.get(id)) : null;
    if (current !== expected) throw new SpecConflictError(id, expected, current);
  }

  /** Rings once per turn of the event loop, however many writes there were. */
  #ring(): void {
    if (this.#ringing || this.#listeners.size === 0) return;
    this.#ringing = true;
    setImmediate(() => {
      this.#ringing = false;
      for (const listener of [...this.#listeners]) {
        try {
          listener({ kind: "changed" });
        } catch {
          // A listener's failure is its own; the feed keeps ringing for the others.
        }
      }
    });
  }

  #guard<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError(DESCRIPTION, "the store was closed."));
    try {
      return Promise.resolve(work());
    } catch (e) {
      return Promise.reject(e);
    }
  }
}
