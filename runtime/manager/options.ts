/**
 * The manager's options: their types, the checks that turn a bad option into a ManagerOptionsError
 * at construction, the default process id, and the read-only `specs` view of stores other than
 * memory.
 */
import { hostname } from "node:os";
import { isMainThread, threadId } from "node:worker_threads";
import { DiagnoseError } from "../../errors/index.js";
import type { InstrumentClass } from "./reconcile.js";
import type { KeyObject } from "node:crypto";
import type { TrustedKeyInput } from "./signing-keys.js";
import type { SpecDocument } from "./spec.js";
import type { SpecSnapshot, SpecStore } from "./stores/contract.js";

/** Longest timer delay Node accepts. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The instrument classes a spec's `instrument.type` can name, by type name. */
export type InstrumentClasses = Record<string, InstrumentClass>;

export interface InstrumentManagerOptions {
  /** Where the specs come from and the status goes. Default: a new `memoryStore()`. */
  store?: SpecStore;
  /** This process's labels; a spec with a `selector` applies only where all its labels match. */
  labels?: Record<string, string>;
  /** Default: `DIAGNOSE_PROCESS_ID`, else `host:pid` (`host:pid:threadId` in a worker thread). */
  processId?: string;
  /**
   * Compile store specs' expressions as full JavaScript instead of the safe expression language.
   * This trusts every writer of the store with code execution in this process. Default false.
   */
  allowCode?: boolean;
  /**
   * Apply only specs signed (Ed25519) by one of these public keys; unsigned, tampered, unknown-key,
   * expired-key and replayed specs are refused, with the reason in their status. A key is PEM
   * text, raw base64, a KeyObject, or `{ keyId?, publicKey, notAfter? }`. Default (absent or
   * null): specs are not verified. See docs/manager.md, "Signed specs". `replayFile` (default:
   * env DIAGNOSE_REPLAY_FILE) keeps the replay memory in a file, so a restarted process still
   * refuses an older signed copy of a spec it applied before.
   */
  verify?: { keys: readonly (TrustedKeyInput | string | KeyObject)[]; replayFile?: string } | null;
  /** Minutes a spec without `lifespan` lives, from its `lastmodified`. Default null: no expiry. */
  defaultLifespan?: number | null;
  /** Upper bound in minutes on every spec's lifespan. Default null: no bound. */
  maxLifespan?: number | null;
  /** Milliseconds between polls of a store without a change feed (±20% jitter). Default 5,000. */
  pollInterval?: number;
  /** Milliseconds between status heartbeats while started. Default 10,000. */
  heartbeatInterval?: number;
  /**
   * Milliseconds a store call (reading the specs, writing this process's status) may take before
   * it counts as failed: the last applied specs stay in force and it is retried. Default 30,000.
   */
  storeTimeout?: number;
  /** Added to (or replacing) the default instrument classes: log, hist, incr, test. */
  instrumentClasses?: InstrumentClasses;
  /** Added to the default global namespace of expressions. */
  globalNamespace?: Record<string, unknown>;
  /**
   * Apply failpoint specs (`pause`, `error`, `delay`), which hold calls or make them throw: for
   * chaos drills and reproducing incidents. This trusts every writer of the store with slowing and
   * failing this process's calls (within the caps of docs/breakpoints.md). Default false: such
   * specs are refused with FailpointsOffError in their status.
   */
  failpoints?: boolean;
}

/** A manager option that cannot be used. */
export class ManagerOptionsError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_MANAGER_OPTIONS";
  constructor(message: string) {
    super(ManagerOptionsError.CODE, message);
  }
}

/** A write to the `specs` of a manager whose store is not the memory store. */
export class ReadOnlySpecsError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_READ_ONLY_SPECS";
  constructor(store: string) {
    super(
      ReadOnlySpecsError.CODE,
      `manager.specs is a read-only view of the last snapshot of ${store}: write specs with store.put(id, doc) ` +
        `(or \`diagnose specs add\`), then call manager.apply() or let start() pick them up.`,
    );
  }
}

/** The default process id: `DIAGNOSE_PROCESS_ID`, else `host:pid`, plus `:threadId` in a worker. */
export function defaultProcessId(): string {
  const env = process.env["DIAGNOSE_PROCESS_ID"];
  if (typeof env === "string" && env.trim() !== "") return env.trim();
  const base = `${hostname()}:${process.pid}`;
  return isMainThread ? base : `${base}:${threadId}`;
}

/** @internal */
export function checkLabels(labels: unknown): Record<string, string> {
  if (typeof labels !== "object" || labels === null || Array.isArray(labels)) {
    throw new ManagerOptionsError('`labels` must be an object of strings, e.g. { app: "shop" }.');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== "string")
      throw new ManagerOptionsError(`Label ${JSON.stringify(k)} must be a string, got ${typeof v}.`);
    out[k] = v;
  }
  return out;
}

/** @internal */
export function checkMinutes(name: string, v: unknown): number | null {
  if (v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new ManagerOptionsError(`\`${name}\` must be a finite number of minutes ≥ 0, or null; got ${String(v)}.`);
  }
  return v;
}

/** @internal */
export function checkMs(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 10 || v > MAX_TIMER_MS) {
    throw new ManagerOptionsError(
      `\`${name}\` must be a number of milliseconds between 10 and ${MAX_TIMER_MS}; got ${String(v)}.`,
    );
  }
  return v;
}

/** `manager.specs` of a store other than memory: the last snapshot, read-only. @internal */
export class SnapshotSpecs extends Map<string, SpecDocument> {
  private readonly sealed: boolean;
  constructor(
    readonly snapshot: SpecSnapshot | undefined,
    private readonly storeName: string,
  ) {
    super();
    for (const s of snapshot?.specs ?? []) super.set(s.id, s.doc);
    this.sealed = true;
  }
  override set(id: string, doc: SpecDocument): this {
    if (this.sealed) throw new ReadOnlySpecsError(this.storeName);
    return super.set(id, doc);
  }
  override delete(_id: string): boolean {
    throw new ReadOnlySpecsError(this.storeName);
  }
  override clear(): void {
    throw new ReadOnlySpecsError(this.storeName);
  }
}
