/**
 * Noticing that one file changed: `fs.watch` on its folder (an atomic rename over the file
 * detaches a watch on the file itself), debounced so a burst of writes is read once, and a slow
 * unref'd stat poll as a safety net where fs.watch is unreliable (network file systems, a folder
 * deleted and re-created), which also re-opens the folder watch.
 */
import { promises as fsp, watch as fsWatch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

export interface FolderWatchOptions {
  readonly debounceMs: number;
  readonly pollMs: number;
}

/** Calls `onChange` (never concurrently with itself) after the file at `path` changed. */
export class FolderWatch {
  readonly #path: string;
  readonly #dir: string;
  readonly #base: string;
  readonly #options: FolderWatchOptions;
  readonly #onChange: () => Promise<void>;
  #watcher: FSWatcher | null = null;
  #poll: ReturnType<typeof setInterval> | null;
  #debounce: ReturnType<typeof setTimeout> | null = null;
  #statKey = "";
  #closed = false;

  constructor(path: string, options: FolderWatchOptions, onChange: () => Promise<void>) {
    this.#path = path;
    this.#dir = dirname(path);
    this.#base = basename(path);
    this.#options = options;
    this.#onChange = onChange;
    this.#open();
    this.#poll = setInterval(() => void this.#pollOnce(), options.pollMs);
    this.#poll.unref();
    // The poll's baseline.
    void this.#stat().then((key) => {
      if (this.#statKey === "") this.#statKey = key;
    });
  }

  /** Records the file's current state as seen: call it before reading the file. */
  async settle(): Promise<void> {
    this.#statKey = await this.#stat();
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#poll !== null) clearInterval(this.#poll);
    this.#poll = null;
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = null;
  }

  #open(): void {
    try {
      const watcher = fsWatch(this.#dir, { persistent: false }, (_event, filename) => {
        // Other files of the folder (tmp files, status files) are not this file's changes.
        if (filename === null || filename === this.#base) this.#schedule();
      });
      watcher.on("error", () => {
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = null;
        this.#schedule();
      });
      this.#watcher = watcher;
    } catch {
      this.#watcher = null; // the poll covers it, and retries
    }
  }

  async #stat(): Promise<string> {
    try {
      const s = await fsp.stat(this.#path);
      return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    } catch (e) {
      return `missing:${(e as NodeJS.ErrnoException).code ?? ""}`;
    }
  }

  async #pollOnce(): Promise<void> {
    if (this.#closed) return;
    if (this.#watcher === null) this.#open();
    if ((await this.#stat()) !== this.#statKey) this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      if (!this.#closed) void this.#onChange().catch(() => {});
    }, this.#options.debounceMs);
    this.#debounce.unref();
  }
}
