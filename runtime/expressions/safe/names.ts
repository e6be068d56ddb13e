/**
 * The fixed vocabulary of the safe expression language: the names it refuses everywhere, the
 * helpers it can call, and which helper replaces a method call people commonly write.
 */

/** Names a spec expression can never use: as a name, a member, or a key (also computed keys). */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([
  "constructor", "__proto__", "prototype", "process", "globalThis", "require", "module", "eval", "Function",
]);

/** The helpers, the only functions a spec expression can call. */
export const HELPER_NAMES: ReadonlySet<string> = new Set([
  "len", "mag", "keys", "startsWith", "endsWith", "includes", "lower", "upper", "str", "num", "round", "floor",
  "ceil", "abs", "min", "max", "has", "isoDate",
]);

/** A method call people write (`s.trim()` is not one) → the helper call to write instead. */
export const METHOD_ADVICE: ReadonlyMap<string, string> = new Map([
  ["startsWith", "startsWith(s, prefix)"],
  ["endsWith", "endsWith(s, suffix)"],
  ["includes", "includes(s or array, x)"],
  ["toLowerCase", "lower(s)"],
  ["toUpperCase", "upper(s)"],
  ["toString", "str(x)"],
  ["toISOString", "isoDate(d)"],
  ["toJSON", "str(x)"],
  ["has", "has(object, key)"],
  ["hasOwnProperty", "has(object, key)"],
  ["keys", "keys(object)"],
  ["round", "round(x)"],
  ["floor", "floor(x)"],
  ["ceil", "ceil(x)"],
  ["abs", "abs(x)"],
  ["min", "min(a, b, …)"],
  ["max", "max(a, b, …)"],
  ["valueOf", "num(x)"],
  ["getTime", "num(d)"],
  ["toFixed", "round(x, digits)"],
]);
