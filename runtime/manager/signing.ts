/**
 * Signed specs: an Ed25519 signature (node:crypto) over a canonical form of every field of a spec
 * that changes what a process does, and the verifier a manager consults before it applies a spec.
 *
 * The canonical form, version 1 (also in docs/manager.md), is the UTF-8 bytes of a JSON text:
 * - an object `{ v, id, target, instrument: { type, name, value, event, custom }, lifespan,
 *   lastmodified, selector }` built from the *validated* spec (what the manager acts on, so two
 *   documents that mean the same sign the same), with `v` = "diagnose-spec/1";
 * - object keys sorted by UTF-16 code units at every depth, no whitespace, strings as
 *   JSON.stringify writes them;
 * - `lastmodified` as `Date.prototype.toISOString()` (UTC, milliseconds): a Date in the memory
 *   store and its ISO string in a file store sign the same;
 * - absent, null and empty mean the same and are written as null (`event`, `lifespan`,
 *   `selector`) or `{}` (`custom`);
 * - numbers must be finite and are written as ECMAScript's Number::toString does (shortest
 *   round-trip form, specified exactly, identical across engines and Node versions); -0 is 0;
 * - `custom` may hold only JSON values (plain objects, arrays, strings, finite numbers, booleans,
 *   null); a key whose value is undefined is left out, as JSON.stringify does; anything else
 *   (a function, a Date, a Map, a Proxy, a getter, a cycle) cannot be signed and is refused.
 * The spec id is part of the signed text, so a signature cannot be moved to another id.
 */
import { sign as edSign, verify as edVerify } from "node:crypto";
import { types } from "node:util";
import { DiagnoseError } from "../../errors/index.js";
import { SigningKeyError, type SigningKey, type TrustedKey } from "./signing-keys.js";
import type { Spec } from "./spec.js";
import { validateSpec } from "./validate.js";
import { ReplayLedger, type ReplayEntry } from "./replay-ledger.js";

/** The `signature` field of a signed spec document. */
export interface SpecSignature {
  /** The id of the key that signed (see keyIdOf). */
  keyId: string;
  /** The Ed25519 signature of the canonical form, base64 (88 characters). */
  sig: string;
}

/** A spec that cannot be signed (invalid, or holding values a signature cannot cover). */
export class SpecSigningError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_SPEC_SIGNING";
  constructor(message: string) {
    super(SpecSigningError.CODE, message);
  }
}

export const CANONICAL_VERSION = "diagnose-spec/1";
const MAX_DEPTH = 32;
const MAX_NODES = 10_000;
const SIG_BASE64 = /^[A-Za-z0-9+/]{86}==$/;

/** The canonical text a signature covers for spec `id` (see the module comment). Throws SpecSigningError. */
export function canonicalSpec(id: string, spec: Spec): string {
  const ins = spec.instrument;
  const selector = spec.selector !== undefined && Object.keys(spec.selector).length > 0 ? spec.selector : null;
  const budget = { nodes: 0 };
  const form = {
    v: CANONICAL_VERSION,
    id,
    target: spec.target,
    instrument: {
      type: ins.type,
      name: ins.name,
      value: ins.value,
      event: ins.event ?? null,
      custom: ins.custom ?? {},
    },
    lifespan: spec.lifespan ?? null,
    lastmodified: spec.lastmodified.toISOString(),
    selector,
  };
  return canonicalJson(form, "spec", 0, budget);
}

function canonicalJson(v: unknown, path: string, depth: number, budget: { nodes: number }): string {
  if (++budget.nodes > MAX_NODES)
    throw new SpecSigningError(`the spec holds more than ${MAX_NODES} values; a signed spec must be smaller.`);
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
      if (!Number.isFinite(v))
        throw new SpecSigningError(`\`${path}\` is ${String(v)}; only finite numbers can be signed.`);
      return Object.is(v, -0) ? "0" : JSON.stringify(v);
    case "object":
      break;
    default:
      throw new SpecSigningError(`\`${path}\` is a ${typeof v}; a signed spec holds JSON values only.`);
  }
  if (depth >= MAX_DEPTH)
    throw new SpecSigningError(
      `\`${path}\` is nested more than ${MAX_DEPTH} levels deep (or holds a cycle); it cannot be signed.`,
    );
  const obj = v as object;
  if (types.isProxy(obj)) throw new SpecSigningError(`\`${path}\` is a Proxy; a signed spec holds plain values only.`);
  if (Array.isArray(obj)) {
    const parts: string[] = [];
    for (let i = 0; i < obj.length; i++)
      parts.push(canonicalJson(own(obj, String(i), `${path}[${i}]`), `${path}[${i}]`, depth + 1, budget));
    return `[${parts.join(",")}]`;
  }
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    throw new SpecSigningError(
      `\`${path}\` is not a plain object (a Date, Map or class instance); a signed spec holds JSON values only.`,
    );
  }
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const value = own(obj, key, `${path}.${key}`);
    if (value === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(value, `${path}.${key}`, depth + 1, budget)}`);
  }
  return `{${parts.join(",")}}`;
}

/** An own data property, without running a getter. */
function own(obj: object, key: string, path: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (d === undefined) return undefined;
  if (!("value" in d)) throw new SpecSigningError(`\`${path}\` is a getter; a signed spec holds plain values only.`);
  return d.value;
}

/**
 * Signs spec document `doc` for id `id`: returns a copy with `signature` set. Throws
 * SpecSigningError when the document is not a valid spec or holds values a signature cannot cover.
 */
export function signSpec<D extends Record<string, unknown>>(
  id: string,
  doc: D,
  key: SigningKey,
): D & { signature: SpecSignature } {
  const checked = validateSpec(id, doc);
  if (!checked.ok) throw new SpecSigningError(`spec ${JSON.stringify(id)} cannot be signed: ${checked.error}`);
  const text = canonicalSpec(id, checked.spec);
  const sig = edSign(null, Buffer.from(text, "utf8"), key.key).toString("base64");
  return { ...doc, signature: { keyId: key.keyId, sig } };
}

/** Why a spec was refused by signature checks; `ok` with the signing key's expiry otherwise. */
export type SignatureVerdict =
  | { readonly ok: true; readonly keyId: string; readonly notAfter: number }
  | { readonly ok: false; readonly error: string };

/**
 * Checks the signature of spec `id` (`doc` as stored, `spec` its validated form) against the
 * trusted keys at time `now`. Never throws: hostile signature fields are refusals with a reason.
 */
export function verifySpecSignature(
  id: string,
  doc: unknown,
  spec: Spec,
  keys: ReadonlyMap<string, TrustedKey>,
  now: number,
): SignatureVerdict {
  try {
    const raw = readSignature(doc);
    if (typeof raw === "string") return { ok: false, error: raw };
    const key = keys.get(raw.keyId);
    if (key === undefined) {
      return {
        ok: false,
        error:
          `The spec is signed with key ${JSON.stringify(raw.keyId)}, which this process does not trust: add that public key ` +
          `to the manager's verify.keys (or DIAGNOSE_VERIFY_KEYS), or sign the spec with a trusted key.`,
      };
    }
    if (now > key.notAfter) {
      return {
        ok: false,
        error: `The spec is signed with key ${JSON.stringify(key.keyId)}, which expired at ${new Date(key.notAfter).toISOString()}: sign it again with a current key.`,
      };
    }
    let text: string;
    try {
      text = canonicalSpec(id, spec);
    } catch (error) {
      return {
        ok: false,
        error: `The spec cannot be verified: ${error instanceof SpecSigningError ? error.message : "it holds values a signature cannot cover."}`,
      };
    }
    let good = false;
    try {
      good = edVerify(null, Buffer.from(text, "utf8"), key.key, Buffer.from(raw.sig, "base64"));
    } catch {
      good = false;
    }
    if (!good) {
      return {
        ok: false,
        error:
          `The signature (key ${JSON.stringify(key.keyId)}) does not match the spec: a signed field was changed after signing, ` +
          `or the signature was made for another spec id. Nothing of it runs; sign it again ('diagnose specs add --sign-key').`,
      };
    }
    return { ok: true, keyId: key.keyId, notAfter: key.notAfter };
  } catch {
    // Only a bug of ours gets here (all reads are descriptor reads); refuse rather than apply.
    return {
      ok: false,
      error: "The spec's signature could not be read: it is not a plain JSON-like { keyId, sig } object.",
    };
  }
}

const UNSIGNED =
  "The spec is not signed, and this process requires signed specs: add it with " +
  "'diagnose specs add … --sign-key <private-key-file>'.";

/** `{ keyId, sig }` read without getters or Proxy traps; a sentence when it is not one. */
function readSignature(doc: unknown): SpecSignature | string {
  if (typeof doc !== "object" || doc === null) return UNSIGNED;
  const d = Object.getOwnPropertyDescriptor(doc, "signature");
  if (d === undefined || ("value" in d && (d.value === undefined || d.value === null))) return UNSIGNED;
  if (!("value" in d)) return "`signature` is a getter; a signature is a plain { keyId, sig } object.";
  const s: unknown = d.value;
  if (typeof s !== "object" || Array.isArray(s) || types.isProxy(s)) {
    return "`signature` must be a plain { keyId, sig } object (as 'diagnose specs add --sign-key' writes).";
  }
  const keyId = Object.getOwnPropertyDescriptor(s, "keyId");
  const sig = Object.getOwnPropertyDescriptor(s, "sig");
  if (
    keyId === undefined ||
    !("value" in keyId) ||
    typeof keyId.value !== "string" ||
    keyId.value === "" ||
    keyId.value.length > 200
  ) {
    return "`signature.keyId` must be the signing key's id, a string of 1 to 200 characters.";
  }
  if (sig === undefined || !("value" in sig) || typeof sig.value !== "string" || !SIG_BASE64.test(sig.value)) {
    return '`signature.sig` must be a base64 Ed25519 signature (88 characters ending in "==").';
  }
  return { keyId: keyId.value, sig: sig.value };
}

/** Where a SpecVerifier keeps its replay memory beyond the process, and where it warns. */
export interface ReplayOptions {
  /** The replay ledger file (see replay-ledger.ts). Default: env DIAGNOSE_REPLAY_FILE, else none. */
  replayFile?: string | undefined;
  /** Receives the ledger's warnings (unreadable at start, a failed write). */
  warn?: (message: string) => void;
}

/**
 * What a manager with `verify` consults before applying a spec: the trusted keys, and the newest
 * `lastmodified` accepted per spec id, so an older signed version written back to the store (a
 * replay) is refused. The memory lives as long as the process (or the manager), and across
 * restarts when a replay ledger file is given.
 */
export class SpecVerifier {
  readonly keys: ReadonlyMap<string, TrustedKey>;
  /** The replay ledger, when one is configured. */
  readonly ledger: ReplayLedger | undefined;
  /** Per spec id: the newest lastmodified accepted, and whether the spec was removed since. */
  private readonly seen: Map<string, ReplayEntry>;

  constructor(keys: readonly TrustedKey[], previous?: SpecVerifier, replay: ReplayOptions = {}) {
    const byId = new Map<string, TrustedKey>();
    for (const k of keys) {
      if (byId.has(k.keyId))
        throw new SigningKeyError(
          `two trusted keys have the id ${JSON.stringify(k.keyId)}; give each key its own keyId.`,
        );
      byId.set(k.keyId, k);
    }
    this.keys = byId;
    const file = replay.replayFile ?? (process.env["DIAGNOSE_REPLAY_FILE"]?.trim() || undefined);
    if (file !== undefined && (typeof file !== "string" || file === "")) {
      throw new SigningKeyError("`verify.replayFile` must be a file path (a non-empty string).");
    }
    if (previous !== undefined && (file === undefined || previous.ledger?.file === file)) {
      this.seen = previous.seen;
      this.ledger = file === undefined ? undefined : previous.ledger;
    } else if (file !== undefined) {
      const opened = ReplayLedger.open(file, replay.warn ?? ((m) => process.emitWarning(m, "DiagnoseReplayLedger")));
      this.ledger = opened.ledger;
      // What this process already accepted still counts when the ledger is added later.
      this.seen = opened.entries;
      for (const [id, e] of previous?.seen ?? []) {
        const had = this.seen.get(id);
        if (had === undefined || e.lm > had.lm) this.seen.set(id, e);
      }
    } else {
      this.seen = previous?.seen ?? new Map();
      this.ledger = undefined;
    }
  }

  /** The verdict on spec `id` now; an accepted spec's lastmodified is remembered. Never throws. */
  check(id: string, doc: unknown, spec: Spec, now: number): SignatureVerdict {
    const verdict = verifySpecSignature(id, doc, spec, this.keys, now);
    if (!verdict.ok) return verdict;
    const lm = spec.lastmodified.getTime();
    const last = this.seen.get(id);
    if (last !== undefined && (lm < last.lm || (lm === last.lm && last.removed))) {
      return {
        ok: false,
        error:
          `The spec's lastmodified ${spec.lastmodified.toISOString()} is ${lm < last.lm ? "older than" : "that of"} a version ` +
          `this process${this.ledger === undefined ? "" : " (or its replay ledger)"} already applied${last.removed ? " and saw removed" : ""} ` +
          `(${new Date(last.lm).toISOString()}): an old signed version written back is refused as a replay. Sign a new version.`,
      };
    }
    if (last === undefined || last.lm !== lm || last.removed) {
      this.seen.set(id, { lm, removed: false });
      this.ledger?.save(this.seen);
    }
    return verdict;
  }

  /**
   * What a spec accepted by `check` should say in its status when its replay check was incomplete:
   * the ledger could not be read at start, so a version older than that start may be an older
   * signed copy of one applied before it. Undefined when the check was whole.
   */
  replayCaveat(spec: Spec): string | undefined {
    const ledger = this.ledger;
    if (ledger?.unreadBecause === undefined) return undefined;
    const lm = spec.lastmodified.getTime();
    // A version signed after the ledger was read is newer than anything applied before: no replay.
    if (lm > ledger.openedAt) return undefined;
    return (
      `The replay ledger ${ledger.file} could not be read when this process started (${ledger.unreadBecause}): ` +
      `this signed version (lastmodified ${spec.lastmodified.toISOString()}) was applied without checking that it ` +
      `is not an older copy of a version applied before that start. Sign a new version to clear this.`
    );
  }

  /** Spec `id` left the store: the same signed version coming back is a replay. */
  removed(id: string): void {
    const last = this.seen.get(id);
    if (last === undefined || last.removed) return;
    last.removed = true;
    this.ledger?.save(this.seen);
  }
}
