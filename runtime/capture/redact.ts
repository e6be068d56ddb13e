/**
 * Redaction: values whose key or name looks secret are replaced by REDACTED wherever a value is
 * captured (logs, recorders). The list is per manager and set only by code (`configureRedaction`):
 * a spec's `custom` has no say, so whoever writes the store cannot read secrets through a probe.
 *
 * Names are compared after lower-casing and dropping everything but letters and digits, and a
 * name matches when it contains a listed word: `api_key`, `X-Api-Key` and `apiKeyId` all match
 * `apikey`.
 */
import type { InstrumentManager } from "../manager/manager.js";
import { InstrumentOptionsError } from "../instruments/errors.js";

/** The words a secret name contains, by default. */
export const DEFAULT_SECRET_WORDS: readonly string[] = Object.freeze([
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "apikey",
  "authorization",
  "cookie",
  "session",
  "credential",
  "privatekey",
  "accesskey",
  "signature",
]);

export interface RedactionOptions {
  /** Replaces the list of words (default DEFAULT_SECRET_WORDS). */
  words?: readonly string[];
  /** Added to the list. */
  extraWords?: readonly string[];
  /** false turns redaction off for this manager's instruments (code only: a spec cannot). Default true. */
  enabled?: boolean;
}

/** Normalises a name: lower case, letters and digits only. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

export class Redactor {
  readonly enabled: boolean;
  readonly words: readonly string[];
  /** Names already decided, so a hot key is normalised once (bounded, cleared when full). */
  private readonly memo = new Map<string, boolean>();
  /** Expression sources already decided: the secret name read, or "" for none. */
  private readonly reads = new Map<string, string>();

  constructor(options: RedactionOptions = {}) {
    const words = [...(options.words ?? DEFAULT_SECRET_WORDS), ...(options.extraWords ?? [])];
    for (const w of words) {
      if (typeof w !== "string" || normalizeName(w) === "") {
        throw new InstrumentOptionsError(
          `Redaction words must be non-empty strings of letters or digits, got ${JSON.stringify(w)}.`,
        );
      }
    }
    this.words = Object.freeze(words.map(normalizeName));
    this.enabled = options.enabled !== false;
  }

  /** Whether a value under this key or name must be redacted. */
  isSecret(name: string): boolean {
    if (!this.enabled) return false;
    let hit = this.memo.get(name);
    if (hit !== undefined) return hit;
    const n = normalizeName(name);
    hit = false;
    for (const w of this.words) {
      if (n.includes(w)) {
        hit = true;
        break;
      }
    }
    if (this.memo.size >= 1000) this.memo.clear();
    this.memo.set(name, hit);
    return hit;
  }

  /** Whether an expression's source names something secret (`user.password`, `headers["x-api-key"]`). */
  namesSecret(source: string): boolean {
    if (!this.enabled) return false;
    for (const m of source.matchAll(/[A-Za-z_$][\w$-]*/g)) if (this.isSecret(m[0])) return true;
    return false;
  }

  /**
   * The first secret-looking name an expression reads (`user.password`, `headers["x-api-key"]`),
   * or undefined. Unlike `namesSecret`, an object literal's key (`{ token: n }`, `{ "api-key": n }`)
   * is not a read: the key itself is redacted when the object is sent, the rest of it stays.
   * Decided once per source (bounded memo): senders ask at every event.
   */
  secretRead(source: string): string | undefined {
    if (!this.enabled) return undefined;
    let found = this.reads.get(source);
    if (found !== undefined) return found === "" ? undefined : found;
    found = "";
    for (const m of source.matchAll(OBJECT_KEY_OR_NAME)) {
      if (m[2] === undefined && this.isSecret(m[1]!)) {
        found = m[1]!;
        break;
      }
    }
    if (this.reads.size >= 1000) this.reads.clear();
    this.reads.set(source, found);
    return found === "" ? undefined : found;
  }
}

/**
 * A name, and (group 2) the colon after it when it is an object literal's key: `token:` or
 * `"api-key":`. A ternary's `a ? token : b` reads like a key and is missed (a known limit).
 */
const OBJECT_KEY_OR_NAME = /([A-Za-z_$][\w$-]*)(["']?\s*:(?!:))?/g;

/** The default word list, enabled. @internal */
export const DEFAULT_REDACTOR = new Redactor();
const byManager = new WeakMap<InstrumentManager, Redactor>();

/** Sets what `mgr`'s instruments redact; code only (no spec field reaches it). */
export function configureRedaction(mgr: InstrumentManager, options: RedactionOptions): void {
  byManager.set(mgr, new Redactor(options));
}

/** The redactor of a manager's instruments (the default list when none was configured). */
export function redactorOf(mgr: InstrumentManager): Redactor {
  return byManager.get(mgr) ?? DEFAULT_REDACTOR;
}
