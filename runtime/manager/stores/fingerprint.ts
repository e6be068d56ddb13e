/**
 * Content versions: a spec's version is a stable fingerprint of its document without `applied`,
 * so a document edited in place (a Map entry set directly, a JSON file edited by hand) gets a new
 * version without anyone calling put(). The snapshot revision is the fingerprint of every
 * (id, version) pair.
 *
 * Documents are hostile input: the walk reads own data properties through their descriptors (a
 * getter is never invoked) and never touches a Proxy. A document it cannot read gets an opaque
 * version that stays the same while the same object is stored.
 */
import { createHash } from "node:crypto";
import { types } from "node:util";

const MAX_DEPTH = 64;

class Unreadable extends Error {}

/** @internal */
export function specVersion(doc: unknown): string {
  return versionAndTrace(doc).version;
}

interface Traced {
  readonly version: string;
  /** What the walk read, in order: see `walk`. Undefined for an unreadable document. */
  readonly trace: unknown[] | undefined;
}

const traced = new WeakMap<object, Traced>();

/**
 * `specVersion` for a store that hands the same document objects out again (the memory store):
 * a document seen before is re-walked and compared with what the last walk read, which builds no
 * text and hashes nothing; only a document whose content (or shape) differs is fingerprinted
 * again. In-place edits are found because the comparison reads every value the fingerprint reads:
 * every key, every primitive, every nested object's identity, every date's time.
 * @internal
 */
export function cachedSpecVersion(doc: unknown): string {
  if (typeof doc !== "object" || doc === null) return specVersion(doc);
  const known = traced.get(doc);
  if (known?.trace !== undefined) {
    try {
      if (walk(doc, 0, [], true, new Cursor(known.trace))) return known.version;
    } catch {
      // Became unreadable (a getter where a value was): fingerprint it afresh below.
    }
  }
  const fresh = versionAndTrace(doc);
  // An unreadable document is not cached: an edit that makes it readable must be seen.
  if (fresh.trace !== undefined) traced.set(doc, fresh);
  else traced.delete(doc);
  return fresh.version;
}

function versionAndTrace(doc: unknown): Traced {
  let text: string;
  const trace: unknown[] = [];
  try {
    const out: string[] = [];
    canonical(doc, 0, [], true, trace, out);
    text = out.join("");
  } catch {
    return { version: opaqueVersion(doc), trace: undefined };
  }
  return { version: quickHash(text), trace };
}

/** Checks a walk against the trace `canonical` recorded. */
class Cursor {
  private i = 0;
  constructor(private readonly items: readonly unknown[]) {}
  /** False when the value differs from the recorded one. */
  see(value: unknown): boolean {
    return this.i < this.items.length && Object.is(this.items[this.i++], value);
  }
  /** Whether the walk read exactly as many values as were recorded. */
  get complete(): boolean {
    return this.i === this.items.length;
  }
}

/**
 * The same traversal as `canonical` (same guards, same order, same `applied` skip at the top),
 * comparing what it reads with canonical's trace instead of building text: object identities,
 * key counts and keys, primitives, dates' times.
 * Returns false as soon as a check differs; throws Unreadable where `canonical` would.
 */
function walk(value: unknown, depth: number, ancestors: object[], top: boolean, cursor: Cursor): boolean {
  if (typeof value === "symbol" || typeof value === "function") throw new Unreadable();
  if (typeof value !== "object" || value === null) return cursor.see(value);
  const obj = value as object;
  // A recorded object was no Proxy, and being one cannot change: identity first is enough.
  if (!cursor.see(obj)) return false;
  if (depth > MAX_DEPTH) throw new Unreadable();
  if (types.isDate(obj)) return cursor.see(Date.prototype.getTime.call(obj));
  if (ancestors.includes(obj)) return true;
  ancestors.push(obj);
  let same = true;
  if (Array.isArray(obj)) {
    const length = readData(obj, "length") as number;
    same = cursor.see(length);
    for (let i = 0; same && i < length; i++) same = walk(readData(obj, String(i)), depth + 1, ancestors, false, cursor);
  } else {
    const keys = Object.keys(obj).sort();
    same = cursor.see(keys.length);
    for (let k = 0; same && k < keys.length; k++) {
      const key = keys[k]!;
      same = cursor.see(key);
      if (!same || (top && key === "applied")) continue;
      same = walk(readData(obj, key), depth + 1, ancestors, false, cursor);
    }
  }
  ancestors.pop();
  return same && (depth > 0 || cursor.complete);
}

/**
 * A 64-bit string hash in plain JavaScript (two multiplicative 32-bit lanes): versions are
 * computed for every spec on every list(), and a crypto hash object per document costs more than
 * the walk. Collisions only matter between two versions of one spec id.
 */
function quickHash(text: string): string {
  let h1 = 0xdeadbeef ^ text.length;
  let h2 = 0x41c6ce57 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(36).padStart(7, "0") + (h1 >>> 0).toString(36).padStart(7, "0");
}

/** @internal The revision of a snapshot: equal (id, version) sets give equal revisions. */
export function snapshotRevision(entries: readonly { readonly id: string; readonly version: string }[]): string {
  const parts = entries.map((e) => `${JSON.stringify(e.id)}=${e.version}`);
  parts.sort();
  return hash(parts.join("\n"));
}

function hash(text: string): string {
  return createHash("sha1").update(text).digest("base64url").slice(0, 20);
}

const opaque = new WeakMap<object, string>();
let opaqueCount = 0;

function opaqueVersion(doc: unknown): string {
  if ((typeof doc !== "object" && typeof doc !== "function") || doc === null) return `opaque-${++opaqueCount}`;
  let v = opaque.get(doc);
  if (v === undefined) {
    v = `opaque-${++opaqueCount}`;
    opaque.set(doc, v);
  }
  return v;
}

/**
 * An injective text for a value, appended to `out` piece by piece (joined once, so the hash reads
 * a flat string instead of flattening a tree of concatenations): strings and keys are
 * length-prefixed (no escaping to do), numbers, booleans, null, undefined, bigints and dates are
 * tagged, objects have their keys sorted.
 */
function canonical(
  value: unknown,
  depth: number,
  ancestors: object[],
  top: boolean,
  trace: unknown[],
  out: string[],
): void {
  if (typeof value !== "object" || value === null) trace.push(value);
  switch (typeof value) {
    case "string":
      out.push(`${value.length}'`, value);
      return;
    case "number":
      out.push(Number.isFinite(value) ? String(value) : `#${String(value)}`);
      return;
    case "boolean":
      out.push(value ? "t" : "f");
      return;
    case "undefined":
      out.push("u");
      return;
    case "bigint":
      out.push(`${value}n`);
      return;
    case "symbol":
    case "function":
      throw new Unreadable();
  }
  if (value === null) {
    out.push("n");
    return;
  }
  const obj = value as object;
  if (types.isProxy(obj) || depth > MAX_DEPTH) throw new Unreadable();
  trace.push(obj);
  if (types.isDate(obj)) {
    const time = Date.prototype.getTime.call(obj);
    trace.push(time);
    out.push(`D${time}`);
    return;
  }
  if (ancestors.includes(obj)) {
    out.push("^");
    return;
  }
  ancestors.push(obj);
  if (Array.isArray(obj)) {
    const length = readData(obj, "length");
    trace.push(length);
    out.push("[");
    for (let i = 0; i < (length as number); i++) {
      if (i > 0) out.push(",");
      canonical(readData(obj, String(i)), depth + 1, ancestors, false, trace, out);
    }
    out.push("]");
  } else {
    // Values through their descriptors, so no getter runs (Object.keys runs none on a non-Proxy).
    const keys = Object.keys(obj).sort();
    trace.push(keys.length);
    out.push("{");
    for (const key of keys) {
      trace.push(key);
      if (top && key === "applied") continue;
      out.push(`${key.length}'`, key, ":");
      canonical(readData(obj, key), depth + 1, ancestors, false, trace, out);
      out.push(",");
    }
    out.push("}");
  }
  ancestors.pop();
}

function readData(obj: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (d === undefined) return undefined;
  if (!("value" in d)) throw new Unreadable();
  return d.value;
}
