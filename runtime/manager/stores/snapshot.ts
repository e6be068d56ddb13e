/**
 * A last-known-good snapshot around any store: every live read that changed the specs is saved to
 * a local file; when the store cannot be reached before this process ever read it (a service
 * starting during an outage), `list()` answers from that file, so the service starts with the
 * probes it last had. Reports written while on the snapshot, and for `staleLabelMs` (default ten
 * minutes) after the store returned, carry the label `diagnose.stale` = `<since>/<until>` (ISO 8601
 * interval; `<since>/` while still stale), so `diagnose status` shows which processes ran on it;
 * the status of every spec the snapshot held carries the same interval as `fromSnapshot`, so the
 * spec's own row says it ran from the snapshot.
 */
import { promises as fsp } from "node:fs";
import { describeError } from "../../../errors/index.js";
import type { SpecDocument } from "../spec.js";
import type { AppliedStatus } from "../spec.js";
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
import { defineData, isPlainRecord, reviveSpecDates } from "./documents.js";
import { StoreUnavailableError } from "./errors.js";
import { writeAtomic } from "./file-io.js";

/** The label a report carries after this process ran on the snapshot. */
export const STALE_LABEL = "diagnose.stale";

export interface SnapshotStore extends SpecStore {
  /** The wrapped store. */
  readonly store: SpecStore;
  /** Since when this process runs on the snapshot file (null: on live reads, or never started). */
  readonly staleSince: Date | null;
  readonly lastError: Error | null;
}

/** Wraps `store` so its last good snapshot is kept in `file` and used when the store is down at start. */
export function withSnapshot(store: SpecStore, file: string, options: { staleLabelMs?: number } = {}): SnapshotStore {
  return new Snapshotting(store, file, options.staleLabelMs ?? 600_000);
}

const FORMAT = 1;

class Snapshotting implements SnapshotStore {
  readonly description: string;
  staleSince: Date | null = null;
  #lastFailure: Error | null = null;
  #staleInterval: string | undefined;
  #staleUntil = 0;
  /** The ids of the specs served from the snapshot file: their status says so while the label does. */
  #servedIds = new Set<string>();
  #saved: string | undefined;
  #everLive = false;
  #saving: Promise<void> = Promise.resolve();

  constructor(
    readonly store: SpecStore,
    private readonly file: string,
    private readonly staleLabelMs: number,
  ) {
    this.description = store.description;
  }

  get lastError(): Error | null {
    if (this.staleSince !== null && this.#lastFailure !== null) {
      return new StoreUnavailableError(
        this.description,
        `running on the last-known-good snapshot ${this.file} since ${this.staleSince.toISOString()}: ${describeError(this.#lastFailure)}`,
      );
    }
    try {
      return (this.store.lastError as Error | null | undefined) ?? null;
    } catch {
      return null;
    }
  }

  list(): Promise<SpecSnapshot> {
    return this.#list(false);
  }

  listSpecs(): Promise<SpecSnapshot> {
    return this.#list(true);
  }

  async #list(specsOnly: boolean): Promise<SpecSnapshot> {
    let snapshot: SpecSnapshot;
    try {
      const inner = this.store;
      snapshot = await (specsOnly && typeof inner.listSpecs === "function" ? inner.listSpecs() : inner.list());
    } catch (e) {
      this.#lastFailure = e instanceof Error ? e : new Error(describeError(e));
      if (this.#everLive) throw e;
      const saved = await this.#read();
      if (saved === undefined) throw e;
      this.staleSince ??= new Date();
      for (const s of saved.specs) this.#servedIds.add(s.id);
      return saved;
    }
    this.#everLive = true;
    if (this.staleSince !== null) {
      this.#staleInterval = `${this.staleSince.toISOString()}/${new Date().toISOString()}`;
      this.#staleUntil = Date.now() + this.staleLabelMs;
      this.staleSince = null;
    }
    if (snapshot.revision !== this.#saved) this.#save(snapshot);
    return snapshot;
  }

  put(id: string, doc: SpecDocument, options?: PutOptions): Promise<string> {
    return this.store.put(id, doc, options);
  }

  remove(id: string, options?: RemoveOptions): Promise<boolean> {
    return this.store.remove(id, options);
  }

  async reportStatus(report: ProcessReport): Promise<void> {
    if (this.#staleInterval !== undefined && Date.now() > this.#staleUntil) {
      this.#staleInterval = undefined;
      this.#servedIds.clear();
    }
    const interval = this.staleSince !== null ? `${this.staleSince.toISOString()}/` : this.#staleInterval;
    if (interval === undefined || !isPlainRecord(report) || !isPlainRecord(report.labels))
      return this.store.reportStatus(report);
    await this.store.reportStatus({
      ...report,
      labels: { ...report.labels, [STALE_LABEL]: interval },
      specs: this.#markServed(report.specs, interval),
    });
  }

  /** The statuses, those of the specs served from the snapshot with `fromSnapshot` added. */
  #markServed(specs: unknown, interval: string): Record<string, AppliedStatus> {
    if (!isPlainRecord(specs)) return specs as Record<string, AppliedStatus>;
    const out: Record<string, AppliedStatus> = {};
    for (const id of Object.keys(specs)) {
      const status = specs[id];
      const served = this.#servedIds.has(id) && isPlainRecord(status);
      defineData(out, id, served ? { ...status, fromSnapshot: interval } : status);
    }
    return out;
  }

  listStatus(): Promise<ProcessReport[]> {
    return this.store.listStatus();
  }

  watch(listener: (change: StoreChange) => void): StoreSubscription {
    if (typeof this.store.watch !== "function") return { close: () => {} };
    return this.store.watch(listener);
  }

  async close(): Promise<void> {
    await this.#saving;
    await this.store.close();
  }

  #save(snapshot: SpecSnapshot): void {
    const revision = snapshot.revision;
    this.#saved = revision;
    const specs = snapshot.specs.map((s) => {
      const doc: Record<string, unknown> = {};
      for (const key of Object.keys(s.doc)) if (key !== "applied") defineData(doc, key, s.doc[key]);
      return { id: s.id, version: s.version, doc };
    });
    let text: string;
    try {
      text = `${JSON.stringify({ version: FORMAT, revision, savedAt: new Date(), specs })}\n`;
    } catch {
      return;
    }
    this.#saving = this.#saving
      .then(() => writeAtomic(this.file, text, false))
      .catch(() => {
        // A snapshot that cannot be written is only a lost fallback; forget it was saved.
        if (this.#saved === revision) this.#saved = undefined;
      });
  }

  async #read(): Promise<SpecSnapshot | undefined> {
    try {
      const parsed = JSON.parse(await fsp.readFile(this.file, "utf8")) as unknown;
      if (!isPlainRecord(parsed) || parsed["version"] !== FORMAT || !Array.isArray(parsed["specs"])) return undefined;
      const specs: StoredSpec[] = [];
      for (const s of parsed["specs"] as unknown[]) {
        if (!isPlainRecord(s) || typeof s["id"] !== "string" || !isPlainRecord(s["doc"])) continue;
        reviveSpecDates(s["doc"]);
        defineData(s["doc"], "applied", {});
        specs.push({ id: s["id"], doc: s["doc"] as SpecDocument, version: String(s["version"]) });
      }
      return { specs, revision: `snapshot:${String(parsed["revision"])}` };
    } catch {
      return undefined;
    }
  }
}
