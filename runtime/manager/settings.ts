/**
 * A manager's settings: the options it was made or configured with, each checked as it is taken (a
 * bad one throws ManagerOptionsError; the options before it in the object are already taken), and
 * the lifespan policy they set. What the manager built from an older setting (the class table, the
 * verdicts on specs, the snapshot of another store) is its to redo: the settings tell it through
 * `SettingsEffects`.
 */
import {
  checkLabels,
  checkMinutes,
  checkMs,
  defaultProcessId,
  ManagerOptionsError,
  type InstrumentClasses,
  type InstrumentManagerOptions,
} from "./options.js";
import { SpecVerifier } from "./signing.js";
import { SigningKeyError, trustedKey } from "./signing-keys.js";
import type { SpecStore } from "./stores/contract.js";
import { memoryStore } from "./stores/memory.js";

/** What the manager redoes when a setting changes under what it built. */
export interface SettingsEffects {
  /** The store was replaced: the last snapshot read belongs to the old one. */
  storeReplaced(): void;
  /** The instrument class table must be built again (`failpoints` or `instrumentClasses` changed). */
  classesChanged(): void;
  /** The specs judged under the old trust settings are judged again on the next apply (not called at construction). */
  trustChanged(): void;
  /** Names the `globalNamespace` option adds to the manager's global namespace. */
  addGlobals(names: Record<string, unknown>): void;
  /** Where the replay ledger's warnings go. */
  warn(message: string): void;
}

/** @internal */
export class ManagerSettings {
  store!: SpecStore;
  labels: Readonly<Record<string, string>> = Object.freeze({});
  processId = "";
  allowCode = false;
  failpoints = false;
  /** Set while the manager applies only signed specs (the `verify` option). */
  verifier: SpecVerifier | undefined;
  /** Minutes; null: no default (a spec without `lifespan` never expires). */
  defaultLifespan: number | null = null;
  /** Minutes; null: no bound. */
  maxLifespan: number | null = null;
  pollInterval = 5_000;
  heartbeatInterval = 10_000;
  storeTimeout = 30_000;
  /** The `instrumentClasses` option: added to (or replacing) the defaults. */
  extraClasses: InstrumentClasses | undefined;
  /** The last verifier made, kept while verification is off so its replay memory survives. */
  private lastVerifier: SpecVerifier | undefined;

  constructor(
    options: InstrumentManagerOptions,
    private readonly effects: SettingsEffects,
  ) {
    this.take(options, true);
  }

  /** Takes the options given (the others keep their values). Throws ManagerOptionsError. */
  configure(options: InstrumentManagerOptions): void {
    this.take(options, false);
  }

  /** Epoch ms when a spec with this lastmodified and lifespan expires under these settings (Infinity: never). */
  expiry(lm: Date, lifespan: number | null | undefined): number {
    let minutes = lifespan ?? this.defaultLifespan ?? Infinity;
    if (this.maxLifespan !== null) minutes = Math.min(minutes, this.maxLifespan);
    return minutes === Infinity ? Infinity : lm.getTime() + minutes * 60_000;
  }

  private take(o: InstrumentManagerOptions, initial: boolean): void {
    if (typeof o !== "object" || o === null)
      throw new ManagerOptionsError(`Manager options must be an object, got ${typeof o}.`);
    if (o.store !== undefined) {
      const s = o.store as Partial<SpecStore> | null;
      if (typeof s !== "object" || s === null || typeof s.list !== "function" || typeof s.reportStatus !== "function") {
        throw new ManagerOptionsError(
          "`store` must be a SpecStore (memoryStore(), fileStore(path), openStore(uri), or your own).",
        );
      }
      this.store = o.store;
      this.effects.storeReplaced();
    } else if (initial) this.store = memoryStore();
    if (o.labels !== undefined) this.labels = Object.freeze(checkLabels(o.labels));
    if (o.processId !== undefined) {
      if (typeof o.processId !== "string" || o.processId.trim() === "" || o.processId.length > 200) {
        throw new ManagerOptionsError("`processId` must be a non-empty string of at most 200 characters.");
      }
      this.processId = o.processId;
    } else if (initial) this.processId = defaultProcessId();
    if (o.allowCode !== undefined) {
      if (typeof o.allowCode !== "boolean") throw new ManagerOptionsError("`allowCode` must be true or false.");
      this.allowCode = o.allowCode;
    }
    if (o.failpoints !== undefined) {
      if (typeof o.failpoints !== "boolean") throw new ManagerOptionsError("`failpoints` must be true or false.");
      if (o.failpoints !== this.failpoints) {
        this.failpoints = o.failpoints;
        this.effects.classesChanged();
        // Failpoint specs refused (or applied) under the old setting are judged again.
        if (!initial) this.effects.trustChanged();
      }
    }
    if (o.verify !== undefined) {
      this.verifier = o.verify === null ? undefined : this.checkVerify(o.verify);
      // Specs applied under the old trust settings are judged again on the next apply.
      if (!initial) this.effects.trustChanged();
    }
    if (o.defaultLifespan !== undefined) this.defaultLifespan = checkMinutes("defaultLifespan", o.defaultLifespan);
    if (o.maxLifespan !== undefined) this.maxLifespan = checkMinutes("maxLifespan", o.maxLifespan);
    if (o.pollInterval !== undefined) this.pollInterval = checkMs("pollInterval", o.pollInterval);
    if (o.heartbeatInterval !== undefined) this.heartbeatInterval = checkMs("heartbeatInterval", o.heartbeatInterval);
    if (o.storeTimeout !== undefined) this.storeTimeout = checkMs("storeTimeout", o.storeTimeout);
    if (o.instrumentClasses !== undefined) {
      if (typeof o.instrumentClasses !== "object" || o.instrumentClasses === null) {
        throw new ManagerOptionsError("`instrumentClasses` must be an object of type name → Instrument subclass.");
      }
      this.extraClasses = { ...o.instrumentClasses };
      this.effects.classesChanged();
    }
    if (o.globalNamespace !== undefined) {
      if (typeof o.globalNamespace !== "object" || o.globalNamespace === null) {
        throw new ManagerOptionsError("`globalNamespace` must be an object of names.");
      }
      this.effects.addGlobals(o.globalNamespace);
    }
  }

  private checkVerify(v: unknown): SpecVerifier {
    const keys = (v as { keys?: unknown } | null)?.keys;
    if (typeof v !== "object" || v === null || !Array.isArray(keys)) {
      throw new ManagerOptionsError(
        "`verify` must be { keys: [publicKey, …] } (PEM, raw base64, KeyObject or { keyId, publicKey, notAfter }), or null.",
      );
    }
    if (keys.length === 0) {
      throw new ManagerOptionsError(
        "`verify.keys` is empty: every spec would be refused. Give at least one public key, or `verify: null` to turn verification off.",
      );
    }
    try {
      this.lastVerifier = new SpecVerifier(
        keys.map((k: unknown, i) => trustedKey(k as Parameters<typeof trustedKey>[0], `verify.keys[${i}]`)),
        this.lastVerifier,
        { replayFile: (v as { replayFile?: string }).replayFile, warn: (m) => this.effects.warn(m) },
      );
      return this.lastVerifier;
    } catch (error) {
      if (error instanceof SigningKeyError) throw new ManagerOptionsError(error.message);
      throw error;
    }
  }
}
