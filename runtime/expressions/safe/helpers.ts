/**
 * The helpers of the safe expression language: pure functions over values, reading them through
 * the guarded reader (a getter is not invoked, a Proxy is not touched). A helper given a value it
 * does not apply to returns undefined (or false for the tests, -1 for `mag`), never throws.
 */
import { types } from "node:util";
import { dateIso, dateTime, GETTER, hasOwn, isInspectable, ownKeys, PROXY, read, safeString } from "./reader.js";

const isMap = types.isMap;
const isSet = types.isSet;
const isTypedArray = types.isTypedArray;
const isAnyArrayBuffer = types.isAnyArrayBuffer;
const isArray = Array.isArray;
const mapHas = Map.prototype.has;
const setHas = Set.prototype.has;
const strStartsWith = String.prototype.startsWith;
const strEndsWith = String.prototype.endsWith;
const strIncludes = String.prototype.includes;
const strLower = String.prototype.toLowerCase;
const strUpper = String.prototype.toUpperCase;
const mathRound = Math.round;
const mathFloor = Math.floor;
const mathCeil = Math.ceil;
const mathAbs = Math.abs;
const numberIsFinite = Number.isFinite;

const MAX_KEYS = 10_000;

/** The size of a string, array, typed array, Map, Set, ArrayBuffer, or an object's own enumerable keys. */
export function len(v: unknown): number | undefined {
  if (typeof v === "string") return v.length;
  if (!isInspectable(v) || v === GETTER || v === PROXY) return undefined;
  if (isArray(v)) return v.length;
  if (isMap(v) || isSet(v)) return read(v, "size") as number;
  if (isTypedArray(v)) return read(v, "length") as number;
  if (isAnyArrayBuffer(v)) return read(v, "byteLength") as number;
  if (typeof v === "function") return undefined;
  return ownKeys(v)!.length;
}

/** floor(log_base(n)) of a number, or of `len(x)` for a size; -1 for 0, negatives and non-sizes. */
export function mag(v: unknown, base: unknown = 10): number {
  const size = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : len(v);
  const b = typeof base === "number" ? base : 10;
  if (size === undefined || !(size > 0) || !numberIsFinite(size) || !(b > 1)) return -1;
  // Guard the float error of log(1000)/log(10) = 2.9999999999999996.
  return mathFloor(Math.log(size) / Math.log(b) + 1e-9);
}

/** Own enumerable keys of an object (up to 10,000), the keys of a Map; undefined otherwise. */
export function keys(v: unknown): unknown[] | undefined {
  if (!isInspectable(v) || v === GETTER || v === PROXY) return undefined;
  if (isMap(v)) {
    const out: unknown[] = [];
    for (const k of Map.prototype.keys.call(v)) {
      if (out.length >= MAX_KEYS) break;
      out.push(k);
    }
    return out;
  }
  const k = ownKeys(v)!;
  return k.length > MAX_KEYS ? k.slice(0, MAX_KEYS) : k;
}

/** Whether string `s` starts with `prefix` (false when either is not a string). */
export function startsWith(s: unknown, prefix: unknown): boolean {
  return typeof s === "string" && typeof prefix === "string" && strStartsWith.call(s, prefix);
}

/** Whether string `s` ends with `suffix` (false when either is not a string). */
export function endsWith(s: unknown, suffix: unknown): boolean {
  return typeof s === "string" && typeof suffix === "string" && strEndsWith.call(s, suffix);
}

/** Substring test for strings; membership (SameValueZero) for arrays and Sets; false otherwise. */
export function includes(container: unknown, x: unknown): boolean {
  if (typeof container === "string") return typeof x === "string" && strIncludes.call(container, x);
  if (!isInspectable(container)) return false;
  if (isSet(container)) return setHas.call(container, x);
  if (isArray(container)) {
    const n = container.length;
    for (let i = 0; i < n; i++) {
      const item = read(container, String(i));
      if (item === x || (item !== item && x !== x)) return true;
    }
  }
  return false;
}

/** A string in lower case; undefined for anything else. */
export function lower(s: unknown): string | undefined {
  return typeof s === "string" ? strLower.call(s) : undefined;
}

/** A string in upper case; undefined for anything else. */
export function upper(s: unknown): string | undefined {
  return typeof s === "string" ? strUpper.call(s) : undefined;
}

/** Any value as one line of text, read safely (see `safeString`). */
export function str(v: unknown): string {
  return safeString(v);
}

/**
 * A number: numbers as they are, numeric strings parsed, booleans 0/1, BigInts converted, a Date
 * its time value, null 0; NaN for anything else.
 */
export function num(v: unknown): number {
  switch (typeof v) {
    case "number":
      return v;
    case "string":
    case "boolean":
    case "bigint":
      return Number(v);
    case "object":
      if (v === null) return 0;
      return dateTime(v) ?? NaN;
    default:
      return NaN;
  }
}

/** `x` rounded to `digits` decimals (default 0). */
export function round(x: unknown, digits: unknown = 0): number {
  const n = num(x);
  const d = typeof digits === "number" && digits > 0 ? mathFloor(mathAbs(digits)) : 0;
  if (d === 0) return mathRound(n);
  const f = 10 ** Math.min(d, 15);
  return mathRound(n * f) / f;
}

/** The largest integer ≤ num(x). */
export function floor(x: unknown): number {
  return mathFloor(num(x));
}

/** The smallest integer ≥ num(x). */
export function ceil(x: unknown): number {
  return mathCeil(num(x));
}

/** |num(x)|. */
export function abs(x: unknown): number {
  return mathAbs(num(x));
}

/** The smallest of the numbers given (or of one array's items); Infinity for none. */
export function min(...xs: unknown[]): number {
  let out = Infinity;
  for (const x of spreadOne(xs)) {
    const n = num(x);
    if (n !== n) return NaN;
    if (n < out) out = n;
  }
  return out;
}

/** The largest of the numbers given (or of one array's items); -Infinity for none. */
export function max(...xs: unknown[]): number {
  let out = -Infinity;
  for (const x of spreadOne(xs)) {
    const n = num(x);
    if (n !== n) return NaN;
    if (n > out) out = n;
  }
  return out;
}

/** Whether an object has `key` as an own property, or a Map/Set has the entry; false otherwise. */
export function has(container: unknown, key: unknown): boolean {
  if (!isInspectable(container)) return false;
  if (isMap(container)) return mapHas.call(container, key);
  if (isSet(container)) return setHas.call(container, key);
  if (typeof key !== "string" && typeof key !== "number") return false;
  return hasOwn(container, String(key));
}

/** ISO 8601 text of a Date, or of epoch milliseconds; undefined for anything else. */
export function isoDate(v: unknown): string | undefined {
  if (typeof v === "number") {
    const d = new Date(v);
    return dateIso(d);
  }
  return dateIso(v);
}

function spreadOne(xs: unknown[]): unknown[] {
  const only = xs[0];
  if (xs.length !== 1 || !isInspectable(only) || !isArray(only)) return xs;
  const n = only.length;
  const out: unknown[] = [];
  for (let i = 0; i < n && i < MAX_KEYS; i++) out.push(read(only, String(i)));
  return out;
}

/** The helpers by name, as the compiled code calls them. */
export const HELPERS = Object.freeze({
  len,
  mag,
  keys,
  startsWith,
  endsWith,
  includes,
  lower,
  upper,
  str,
  num,
  round,
  floor,
  ceil,
  abs,
  min,
  max,
  has,
  isoDate,
});
