/**
 * The file store: one JSON file that any number of processes on one host read and write.
 *
 * - Specs live in the file; writes (the CLI's put/remove) are read-modify-write under a lock file
 *   with compare-and-set, written through tmp + rename (file-io.ts, file-lock.ts).
 * - Each process writes its status to its own file in `<file>.status/`, so status writes need no
 *   lock and never lose another process's report; reads assemble them into `applied`.
 * - `watch()` watches the folder (an atomic rename detaches a watch on the file itself), debounced,
 *   with a slow unref'd stat poll as a safety net for file systems where fs.watch is unreliable.
 * - A malformed, huge or deleted file never takes the specs away: list() keeps returning the last
 *   good snapshot, `lastError` says what is wrong, and `watch` delivers `{ kind: "error" }`.
 */
import { promises as fsp } from "node:fs";
import { join, resolve } from "node:path";
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
import { checkId, copyReport, defineData, isPlainRecord, ownData, setApplied } from "./documents.js";
import { DiagnoseError } from "../../../errors/index.js";
import { SpecConflictError, StoreFormatError, StoreUnavailableError } from "./errors.js";
import {
  cleanStrays,
  parseReport,
  parseSpecFile,
  readBounded,
  serializeReport,
  serializeSpecFile,
  statusFileName,
  writeAtomic,
  type SpecFile,
} from "./file-io.js";
import { withLock } from "./file-lock.js";
import { FolderWatch } from "./file-watch.js";
import { snapshotRevision, specVersion } from "./fingerprint.js";

export interface FileStoreOptions {
  /** Quiet time after a change on disk before `watch` rings, in ms (default 50). */
  readonly debounceMs?: number;
  /** The safety-net stat poll of `watch`, in ms (default 2000). */
  readonly pollMs?: number;
  /** Largest spec file (and status file) read or written, in bytes (default 16 MiB). */
  readonly maxFileBytes?: number;
  /** How long a write waits for the lock before it fails, in ms (default 5000). */
  readonly lockTimeoutMs?: number;
  /** A lock older than this is stale whoever holds it, in ms (default 10000). */
  readonly lockStaleMs?: number;
  /** fsync spec writes before the rename (default true). */
  readonly fsync?: boolean;
  /**
   * Status files not rewritten for this long belong to processes that are gone and are deleted
   * by the next process that reports, in ms (default 7 days).
   */
  readonly statusRetentionMs?: number;
}

/** The file store. */
export interface FileStore extends SpecStore {
  /** The absolute path of the spec file. */
  readonly path: string;
  /**
   * What is wrong with the file while the store keeps serving its last good snapshot (malformed,
   * too large, deleted, unreadable); null when the last read was good.
   */
  readonly lastError: Error | null;
  watch(listener: (change: StoreChange) => void): StoreSubscription;
}

/** A store in the JSON file at `path` (relative to the current directory). */
export function fileStore(path: string, options: FileStoreOptions = {}): FileStore {
  return new JsonFileStore(resolve(path), options);
}

/** How a read of the spec file went. */
type FileRead = { readonly kind: "ok"; readonly file: SpecFile } | { readonly kind: "missing" };

class JsonFileStore implements FileStore {
  readonly path: string;
  readonly description: string;
  readonly #statusDir: string;
  readonly #lockPath: string;
  readonly #debounceMs: number;
  readonly #pollMs: number;
  readonly #maxBytes: number;
  readonly #lockTimeoutMs: number;
  readonly #lockStaleMs: number;
  readonly #fsync: boolean;
  readonly #statusRetentionMs: number;
  #lastPrune = 0;

  #lastError: Error | null = null;
  /** The text of the last good spec file (re-parsed for every snapshot: callers get fresh objects). */
  #lastGood: string | null = null;
  #closed = false;
  /** Spec writes of this instance run one after another (the lock orders them across processes). */
  #writes: Promise<unknown> = Promise.resolve();
  /** Status writes of this instance, in order, so a late write never replaces a newer report. */
  #statusWrites: Promise<unknown> = Promise.resolve();

  readonly #listeners = new Set<(change: StoreChange) => void>();
  #folderWatch: FolderWatch | null = null;
  #rungRevision: string | null = null;
  #rungError: string | null = null;
  #checking = false;
  #recheck = false;

  constructor(path: string, options: FileStoreOptions) {
    this.path = path;
    this.description = `file:${path}`;
    this.#statusDir = `${path}.status`;
    this.#lockPath = `${path}.lock`;
    this.#debounceMs = options.debounceMs ?? 50;
    this.#pollMs = options.pollMs ?? 2000;
    this.#maxBytes = options.maxFileBytes ?? 16 * 1024 * 1024;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    this.#lockStaleMs = options.lockStaleMs ?? 10_000;
    this.#fsync = options.fsync ?? true;
    this.#statusRetentionMs = options.statusRetentionMs ?? 7 * 24 * 3600 * 1000;
  }

  get lastError(): Error | null {
    return this.#lastError;
  }

  list(): Promise<SpecSnapshot> {
    return this.#guard(async () => {
      const text = await this.#readCurrent();
      const reports = await this.#readReports();
      return this.#snapshot(text, reports);
    });
  }

  put(id: string, doc: SpecDocument, options?: PutOptions): Promise<string> {
    return this.#guard(() => {
      checkId(this.description, "spec id", id);
      const normalized = this.#normalize(id, doc);
      return this.#write(async (file) => {
        this.#checkVersion(file, id, options?.expectedVersion);
        defineData(file.specs, id, normalized);
        return specVersion(normalized);
      });
    });
  }

  remove(id: string, options?: RemoveOptions): Promise<boolean> {
    return this.#guard(() => {
      checkId(this.description, "spec id", id);
      return this.#write(async (file) => {
        if (options?.expectedVersion !== undefined) this.#checkVersion(file, id, options.expectedVersion);
        if (!Object.hasOwn(file.specs, id)) return false;
        delete file.specs[id];
        return true;
      });
    });
  }

  reportStatus(report: ProcessReport): Promise<void> {
    return this.#guard(() => {
      const copy = copyReport(this.description, report);
      const text = serializeReport(copy);
      if (Buffer.byteLength(text) > this.#maxBytes) {
        throw new StoreFormatError(
          this.description,
          `the status report of ${JSON.stringify(copy.processId)} is larger than ${this.#maxBytes} bytes.`,
        );
      }
      const target = join(this.#statusDir, statusFileName(copy.processId));
      const next = this.#statusWrites.then(async () => {
        try {
          await fsp.mkdir(this.#statusDir, { recursive: true });
          await writeAtomic(target, text, false);
        } catch (e) {
          throw this.#unavailable(`cannot write the status file ${target}`, e);
        }
        await this.#pruneStatus(target);
      });
      this.#statusWrites = next.catch(() => {});
      return next;
    });
  }

  listStatus(): Promise<ProcessReport[]> {
    return this.#guard(() => this.#readReports());
  }

  watch(listener: (change: StoreChange) => void): StoreSubscription {
    if (this.#closed) return { close() {} };
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) {
      this.#folderWatch = new FolderWatch(this.path, { debounceMs: this.#debounceMs, pollMs: this.#pollMs }, () =>
        this.#check(),
      );
    }
    return {
      close: () => {
        if (this.#listeners.delete(listener) && this.#listeners.size === 0) this.#stopWatching();
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#stopWatching();
    // Let writes in flight finish, so a closed store never leaves a tmp file behind.
    await Promise.allSettled([this.#writes, this.#statusWrites]);
  }

  // ---- reading ----

  /** Reads the file, updating the last good copy and `lastError`; the text a snapshot is built from. */
  async #readCurrent(): Promise<string | null> {
    let read: FileRead;
    let text: string | null;
    try {
      text = await readBounded(this.path, this.#maxBytes, this.description);
      read =
        text === null ? { kind: "missing" } : { kind: "ok", file: parseSpecFile(text, this.path, this.description) };
    } catch (e) {
      const error = e instanceof DiagnoseError ? e : this.#unavailable(`cannot read ${this.path}`, e);
      if (this.#lastGood === null) throw error;
      this.#lastError = error;
      return this.#lastGood;
    }
    if (read.kind === "missing") {
      if (this.#lastGood === null) {
        this.#lastError = null;
        return null; // not created yet: no specs
      }
      this.#lastError = new StoreUnavailableError(
        this.description,
        `${this.path} was deleted; the last good specs stay applied. Restore the file, or remove the specs with the CLI to clear them.`,
      );
      return this.#lastGood;
    }
    this.#lastGood = text;
    this.#lastError = null;
    return text;
  }

  #snapshot(text: string | null, reports: readonly ProcessReport[]): SpecSnapshot {
    const specs: StoredSpec[] = [];
    if (text !== null) {
      const file = parseSpecFile(text, this.path, this.description);
      for (const id of Object.keys(file.specs)) {
        const doc = file.specs[id] as SpecDocument;
        const version = specVersion(doc);
        if (isPlainRecord(doc)) {
          if (!isPlainRecord(ownData(doc, "applied"))) defineData(doc, "applied", {});
          for (const report of reports) {
            const status = ownData(report.specs, id);
            if (status !== undefined) setApplied(doc, report.processId, status as AppliedStatus);
          }
        }
        specs.push({ id, doc, version });
      }
    }
    return { specs, revision: snapshotRevision(specs) };
  }

  async #readReports(): Promise<ProcessReport[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.#statusDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw this.#unavailable(`cannot list ${this.#statusDir}`, e);
    }
    const reports: ProcessReport[] = [];
    await Promise.all(
      names
        .filter((n) => n.endsWith(".json"))
        .map(async (name) => {
          // A status file is advisory: one that is gone, too large or malformed is skipped.
          const text = await readBounded(join(this.#statusDir, name), this.#maxBytes, this.description).catch(
            () => null,
          );
          const report = text === null ? null : parseReport(text);
          if (report !== null) reports.push(report);
        }),
    );
    reports.sort((a, b) => (a.processId < b.processId ? -1 : a.processId > b.processId ? 1 : 0));
    return reports;
  }

  // ---- writing ----

  /** A detached JSON copy of a document, dates revived as a reader will see them; `applied` dropped. */
  #normalize(id: string, doc: SpecDocument): SpecDocument {
    if (!isPlainRecord(doc))
      throw new StoreFormatError(this.description, `spec ${JSON.stringify(id)} must be a plain object.`);
    let text: string;
    try {
      text = JSON.stringify(doc);
    } catch (e) {
      throw new StoreFormatError(
        this.description,
        `spec ${JSON.stringify(id)} cannot be written as JSON (a cycle, a BigInt, a throwing getter?).`,
        {
          cause: e,
        },
      );
    }
    if (Buffer.byteLength(text) > this.#maxBytes) {
      throw new StoreFormatError(
        this.description,
        `spec ${JSON.stringify(id)} is larger than the file limit of ${this.#maxBytes} bytes.`,
      );
    }
    const wrapped = parseSpecFile(`{"specs":{"x":${text}}}`, this.path, this.description);
    const normalized = wrapped.specs["x"] as SpecDocument;
    delete normalized["applied"]; // status lives in the status files
    return normalized;
  }

  #checkVersion(file: SpecFile, id: string, expected: string | null | undefined): void {
    if (expected === undefined) return;
    const current = Object.hasOwn(file.specs, id) ? specVersion(file.specs[id]) : null;
    if (current !== expected) throw new SpecConflictError(id, expected, current);
  }

  /** Read-modify-write of the spec file under the lock. */
  #write<T>(change: (file: SpecFile) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> =>
      withLock(
        this.#lockPath,
        { timeoutMs: this.#lockTimeoutMs, staleMs: this.#lockStaleMs, store: this.description },
        async (lock) => {
          await cleanStrays(this.path);
          let text: string | null;
          try {
            text = await readBounded(this.path, this.#maxBytes, this.description);
          } catch (e) {
            throw e instanceof DiagnoseError ? e : this.#unavailable(`cannot read ${this.path}`, e);
          }
          // A malformed file is refused, not overwritten: its specs may be someone's unsaved work.
          const file = text === null ? { top: {}, specs: {} } : parseSpecFile(text, this.path, this.description);
          const result = await change(file);
          const out = serializeSpecFile(file);
          if (Buffer.byteLength(out) > this.#maxBytes) {
            throw new StoreFormatError(
              this.description,
              `the write would make ${this.path} larger than ${this.#maxBytes} bytes; nothing was written.`,
            );
          }
          try {
            await writeAtomic(this.path, out, this.#fsync, () => lock.check());
          } catch (e) {
            throw e instanceof DiagnoseError ? e : this.#unavailable(`cannot write ${this.path}`, e);
          }
          this.#lastGood = out;
          return result;
        },
      );
    const next = this.#writes.then(run, run);
    this.#writes = next.catch(() => {});
    return next;
  }

  /**
   * Deletes the status files of processes gone longer than the retention, and tmp files of status
   * writers killed mid-write; at most once per hour per store, best effort.
   */
  async #pruneStatus(own: string): Promise<void> {
    const now = Date.now();
    if (now - this.#lastPrune < Math.min(3600_000, this.#statusRetentionMs)) return;
    this.#lastPrune = now;
    const names = await fsp.readdir(this.#statusDir).catch(() => [] as string[]);
    for (const name of names) {
      const file = join(this.#statusDir, name);
      if (file === own) continue;
      const limit = name.endsWith(".tmp") ? 60_000 : this.#statusRetentionMs;
      const s = await fsp.stat(file).catch(() => null);
      if (s !== null && now - s.mtimeMs > limit) await fsp.rm(file, { force: true }).catch(() => {});
    }
  }

  // ---- watching ----

  #stopWatching(): void {
    this.#folderWatch?.close();
    this.#folderWatch = null;
  }

  /**
   * Re-reads the file and rings when its specs changed or a new problem appeared. The first check
   * after subscribing always rings (the revision rung is unknown): a spare ring costs one re-read.
   */
  async #check(): Promise<void> {
    if (this.#checking) {
      this.#recheck = true;
      return;
    }
    this.#checking = true;
    try {
      do {
        this.#recheck = false;
        await this.#folderWatch?.settle();
        let revision: string | null = null;
        try {
          revision = this.#snapshot(await this.#readCurrent(), []).revision;
        } catch (e) {
          this.#lastError = e instanceof Error ? e : this.#unavailable("cannot read the file", e);
        }
        const problem = this.#lastError;
        if (problem !== null) {
          if (problem.message !== this.#rungError) {
            this.#rungError = problem.message;
            this.#emit({ kind: "error", error: problem });
          }
        } else {
          const recovered = this.#rungError !== null;
          this.#rungError = null;
          if (recovered || revision !== this.#rungRevision) {
            this.#rungRevision = revision;
            this.#emit({ kind: "changed" });
          }
        }
      } while (this.#recheck && !this.#closed);
    } finally {
      this.#checking = false;
    }
  }

  #emit(change: StoreChange): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the others still hear the bell.
      }
    }
  }

  // ---- guards ----

  #unavailable(what: string, cause: unknown): StoreUnavailableError {
    const message = cause instanceof Error ? cause.message : String(cause);
    return new StoreUnavailableError(this.description, `${what} (${message}).`, { cause });
  }

  #guard<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError(this.description, "the store was closed."));
    try {
      return Promise.resolve(work()).catch((e: unknown) => {
        throw e instanceof DiagnoseError ? e : this.#unavailable("an unexpected failure", e);
      });
    } catch (e) {
      return Promise.reject(e instanceof DiagnoseError ? e : this.#unavailable("an unexpected failure", e));
    }
  }
}
