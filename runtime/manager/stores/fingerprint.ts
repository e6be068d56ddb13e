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
  let text: string;
  try {
    text = canonical(doc, 0, new Set(), true);
  } catch {
    return opaqueVersion(doc);
  }
  return hash(text);
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

function canonical(value: unknown, depth: number, ancestors: Set<object>, top: boolean): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : `#${String(value)}`;
    case "boolean":
      return value ? "t" : "f";
    case "undefined":
      return "u";
    case "bigint":
      return `${value}n`;
    case "symbol":
    case "function":
      throw new Unreadable();
  }
  if (value === null) return "n";
  const obj = value as object;
  if (types.isProxy(obj) || depth > MAX_DEPTH) throw new Unreadable();
  if (types.isDate(obj)) return `D${Date.prototype.getTime.call(obj)}`;
  if (ancestors.has(obj)) return "^";
  ancestors.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    const items: string[] = [];
    const length = readData(obj, "length");
    for (let i = 0; i < (length as number); i++) items.push(canonical(readData(obj, String(i)), depth + 1, ancestors, false));
    out = `[${items.join(",")}]`;
  } else {
    const keys = Object.keys(obj).sort();
    const items: string[] = [];
    for (const key of keys) {
      if (top && key === "applied") continue;
      items.push(`${JSON.stringify(key)}:${canonical(readData(obj, key), depth + 1, ancestors, false)}`);
    }
    out = `{${items.join(",")}}`;
  }
  ancestors.delete(obj);
  return out;
}

function readData(obj: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (d === undefined) return undefined;
  if (!("value" in d)) throw new Unreadable();
  return d.value;
}
