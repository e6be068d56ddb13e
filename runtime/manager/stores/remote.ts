/**
 * Pieces shared by the database stores (MongoDB, Redis, PostgreSQL): loading an optional driver
 * lazily, turning hostile documents into plain JSON before they reach a driver, a guarded doorbell,
 * and the reconnect backoff of their change feeds.
 */
import { randomBytes } from "node:crypto";
import { describeError } from "../../../errors/index.js";
import type { SpecDocument } from "../spec.js";
import type { StoreChange, StoreSubscription } from "./contract.js";
import { defineData, isPlainRecord, reviveSpecDates } from "./documents.js";
import { StoreDriverMissingError, StoreFormatError, StoreUnavailableError } from "./errors.js";
import { DiagnoseError } from "../../../errors/index.js";

/**
 * Imports an optional peer dependency. The specifier goes through a variable so bundlers and tsc
 * leave it alone: a service that never opens this store never needs the package.
 */
export async function loadDriver<T>(store: string, packageName: string, version: string): Promise<T> {
  const specifier: string = packageName;
  try {
    return (await import(specifier)) as T;
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new StoreDriverMissingError(store, packageName, version, { cause: e });
    }
    throw new StoreUnavailableError(store, `the "${packageName}" driver failed to load: ${describeError(e)}`, {
      cause: e,
    });
  }
}

/** A fresh opaque version for a written spec (a compare-and-set names it). */
export function newVersion(): string {
  return randomBytes(9).toString("base64url");
}

/**
 * The document as JSON text: the one form every database store writes, so a cycle, a BigInt or a
 * throwing getter is refused here with a clear error rather than somewhere inside a driver.
 * A Proxy is refused before anything reads it.
 */
export function docToJson(store: string, id: string, doc: SpecDocument, maxBytes: number): string {
  if (!isPlainRecord(doc)) throw new StoreFormatError(store, `spec ${JSON.stringify(id)} must be a plain object.`);
  let text: string | undefined;
  try {
    // `applied` is the status assembled on read; a writer's copy of it is never stored.
    const top: Record<string, unknown> = {};
    for (const key of Object.keys(doc)) if (key !== "applied") defineData(top, key, doc[key]);
    text = JSON.stringify(top);
  } catch (e) {
    throw new StoreFormatError(
      store,
      `spec ${JSON.stringify(id)} cannot be written as JSON (a cycle, a BigInt, a throwing getter?).`,
      {
        cause: e,
      },
    );
  }
  if (text === undefined) throw new StoreFormatError(store, `spec ${JSON.stringify(id)} cannot be written as JSON.`);
  if (Buffer.byteLength(text) > maxBytes) {
    throw new StoreFormatError(store, `spec ${JSON.stringify(id)} is larger than the limit of ${maxBytes} bytes.`);
  }
  return text;
}

/** A stored JSON text back into a document, with its dates revived. */
export function jsonToDoc(text: unknown): SpecDocument {
  const doc = typeof text === "string" ? (JSON.parse(text) as unknown) : text;
  if (!isPlainRecord(doc)) return { value: doc } as SpecDocument;
  reviveSpecDates(doc);
  return doc as SpecDocument;
}

/** Any failure of a driver call as a DiagnoseError (a store only rejects with those). */
export function asStoreError(store: string, e: unknown): DiagnoseError {
  if (e instanceof DiagnoseError) return e;
  return new StoreUnavailableError(store, describeError(e), { cause: e });
}

/** Listeners of a store's change feed, called asynchronously and guarded. */
export class Doorbell {
  readonly #listeners = new Set<(change: StoreChange) => void>();
  #pending: StoreChange | undefined;

  get size(): number {
    return this.#listeners.size;
  }

  add(listener: (change: StoreChange) => void, closed: boolean): StoreSubscription {
    if (!closed && typeof listener === "function") this.#listeners.add(listener);
    return { close: () => void this.#listeners.delete(listener) };
  }

  /** Rings once per turn of the event loop; "reconnected" wins over "changed" in that turn. */
  ring(change: StoreChange): void {
    if (this.#listeners.size === 0) return;
    const first = this.#pending === undefined;
    if (first || change.kind === "reconnected" || (change.kind === "error" && this.#pending?.kind === "changed"))
      this.#pending = change;
    if (!first) return;
    setImmediate(() => {
      const c = this.#pending as StoreChange;
      this.#pending = undefined;
      for (const listener of [...this.#listeners]) {
        try {
          listener(c);
        } catch {
          // A listener's failure is its own; the feed keeps ringing for the others.
        }
      }
    });
  }

  clear(): void {
    this.#listeners.clear();
  }
}

/**
 * Reconnect delays of a change feed: exponential from `min`, 50% jitter, capped at `max`, back to
 * `min` only after the connection stayed up for `healthyMs` (a flapping server does not reset it).
 */
export class Backoff {
  #next: number;
  #upSince: number | undefined;
  constructor(
    private readonly min = 1_000,
    private readonly max = 30_000,
    private readonly healthyMs = 60_000,
  ) {
    this.#next = min;
  }

  /** The delay before the next attempt. */
  delay(): number {
    if (this.#upSince !== undefined && Date.now() - this.#upSince >= this.healthyMs) this.#next = this.min;
    this.#upSince = undefined;
    const d = this.#next * (0.5 + Math.random() * 0.5);
    this.#next = Math.min(this.max, this.#next * 2);
    return d;
  }

  connected(): void {
    this.#upSince = Date.now();
  }
}

/** The store's `description` for a URI or host, never with a password. */
export function describeTarget(scheme: string, where: string): string {
  return `${scheme}:${where}`;
}
