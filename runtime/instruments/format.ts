/**
 * Text formatting shared by the log instrument and error messages. The work is bounded, not just
 * the output: a value with a million keys costs about what one with a hundred does, because
 * objects and arrays are walked here (at most MAX_ENTRIES entries each, MAX_DEPTH levels, until
 * MAX_CHARS are written) and only leaves and built-ins with their own bounded printing (Map, Set,
 * Date, typed arrays…) go to `util.inspect`. Getters are never called (`[Getter]`, as inspect
 * prints them), a Proxy's traps are never run (`[Proxy]`), and the result is one line: control
 * characters are escaped, so a value cannot forge a log line.
 */
import { inspect, type InspectOptions } from "node:util";
import {
  isAnyArrayBuffer,
  isBoxedPrimitive,
  isDataView,
  isDate,
  isMap,
  isMapIterator,
  isModuleNamespaceObject,
  isNativeError,
  isPromise,
  isProxy,
  isRegExp,
  isSet,
  isSetIterator,
  isTypedArray,
  isWeakMap,
  isWeakSet,
} from "node:util/types";
import { describeError } from "../../errors/index.js";

/** Longest value (and tag list) a log line carries; longer text is cut to MAX_CHARS - 3 plus "...". */
export const MAX_CHARS = 2000;
/** Entries printed per object, array, Map or Set; the rest are counted. */
const MAX_ENTRIES = 100;
/** Levels of nesting printed; deeper objects print as `[Object]` / `[Array]`. */
const MAX_DEPTH = 3;

/**
 * Strings as they are (`""` when empty); errors as `Name: message`; anything else the way Node
 * prints it, on one line, three levels deep, at most a hundred entries per object. Control
 * characters are escaped (`\n` prints as the two characters `\` `n`).
 */
export function formatValue(value: unknown): string {
  if (typeof value === "string") {
    if (value === "") return '""';
    // One character over the limit is kept, so that `truncate` still sees the text was longer.
    return escapeControls(value.length > MAX_CHARS ? value.slice(0, MAX_CHARS + 1) : value);
  }
  switch (typeof value) {
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "boolean":
      return String(value);
    case "undefined":
      return "undefined";
    case "bigint":
      return `${value}n`;
    default:
      if (value === null) return "null";
  }
  const out: Out = { text: "" };
  write(out, value, 0, new Set());
  return escapeControls(out.text);
}

export function truncate(text: string, max = MAX_CHARS): string {
  return text.length > max ? text.slice(0, max - 3) + "..." : text;
}

const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

/** `\n` → `\n` as two characters, other C0/C1 controls and line separators as `\xNN` / `\uNNNN`. */
export function escapeControls(text: string): string {
  if (!CONTROL.test(text)) return text;
  return text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => {
    switch (c) {
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
      default: {
        const code = c.charCodeAt(0);
        return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
      }
    }
  });
}

interface Out {
  text: string;
}

const LEAF_OPTIONS: InspectOptions = { breakLength: Infinity, maxArrayLength: MAX_ENTRIES, maxStringLength: MAX_CHARS };

function full(out: Out): boolean {
  return out.text.length >= MAX_CHARS;
}

function write(out: Out, value: unknown, depth: number, seen: Set<object>): void {
  if (full(out)) return;
  if (typeof value === "string") {
    out.text += inspect(value.length > MAX_CHARS ? value.slice(0, MAX_CHARS) : value);
    return;
  }
  if ((typeof value !== "object" && typeof value !== "function") || value === null) {
    out.text += inspect(value);
    return;
  }
  if (isProxy(value)) {
    out.text += "[Proxy]";
    return;
  }
  if (isNativeError(value)) {
    out.text += describeError(value);
    return;
  }
  if (seen.has(value)) {
    out.text += "[Circular]";
    return;
  }
  if (typeof value === "function" || isBuiltin(value) || hasCustomInspect(value)) {
    out.text += inspect(value, { ...LEAF_OPTIONS, depth: Math.max(0, MAX_DEPTH - depth - 1) });
    return;
  }
  const array = Array.isArray(value);
  if (depth >= MAX_DEPTH) {
    out.text += array ? "[Array]" : "[Object]";
    return;
  }
  seen.add(value);
  try {
    if (array) writeArray(out, value as unknown[], depth, seen);
    else writeObject(out, value, depth, seen);
  } finally {
    seen.delete(value);
  }
}

function writeArray(out: Out, arr: readonly unknown[], depth: number, seen: Set<object>): void {
  const n = arr.length;
  if (n === 0) {
    out.text += "[]";
    return;
  }
  out.text += "[ ";
  const shown = Math.min(n, MAX_ENTRIES);
  for (let i = 0; i < shown && !full(out); i++) {
    if (i > 0) out.text += ", ";
    const d = Object.getOwnPropertyDescriptor(arr, i);
    if (d === undefined) out.text += "<empty>";
    else if ("value" in d) write(out, d.value, depth + 1, seen);
    else out.text += accessorText(d);
  }
  if (n > shown) out.text += `, ... ${n - shown} more item${n - shown === 1 ? "" : "s"}`;
  out.text += " ]";
}

function writeObject(out: Out, obj: object, depth: number, seen: Set<object>): void {
  const keys = Object.keys(obj);
  const prefix = prefixOf(obj);
  if (keys.length === 0) {
    out.text += prefix + "{}";
    return;
  }
  out.text += prefix + "{ ";
  const shown = Math.min(keys.length, MAX_ENTRIES);
  for (let i = 0; i < shown && !full(out); i++) {
    const key = keys[i]!;
    if (i > 0) out.text += ", ";
    out.text += (/^[A-Za-z_$][\w$]*$/.test(key) ? key : inspect(key)) + ": ";
    const d = Object.getOwnPropertyDescriptor(obj, key);
    if (d === undefined) out.text += "undefined";
    else if ("value" in d) write(out, d.value, depth + 1, seen);
    else out.text += accessorText(d);
  }
  if (keys.length > shown)
    out.text += `, ... ${keys.length - shown} more propert${keys.length - shown === 1 ? "y" : "ies"}`;
  out.text += " }";
}

function accessorText(d: PropertyDescriptor): string {
  return d.get !== undefined ? (d.set !== undefined ? "[Getter/Setter]" : "[Getter]") : "[Setter]";
}

/** `ClassName ` for class instances, `[Object: null prototype] ` without a prototype, else "". */
function prefixOf(obj: object): string {
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (proto === Object.prototype) return "";
  if (proto === null) return "[Object: null prototype] ";
  const ctor = Object.getOwnPropertyDescriptor(proto, "constructor");
  const name =
    ctor !== undefined && typeof ctor.value === "function" ? (ctor.value as { name?: unknown }).name : undefined;
  return typeof name === "string" && name !== "" && name !== "Object" ? name + " " : "";
}

/** Built-ins that inspect prints with its own bounds (entries cut at maxArrayLength). */
function isBuiltin(value: object): boolean {
  return (
    isDate(value) ||
    isRegExp(value) ||
    isMap(value) ||
    isSet(value) ||
    isTypedArray(value) ||
    isAnyArrayBuffer(value) ||
    isDataView(value) ||
    isPromise(value) ||
    isBoxedPrimitive(value) ||
    isWeakMap(value) ||
    isWeakSet(value) ||
    isMapIterator(value) ||
    isSetIterator(value) ||
    isModuleNamespaceObject(value)
  );
}

/** A value that chose how inspect prints it (`[util.inspect.custom]`), read without calling a getter. */
function hasCustomInspect(value: object): boolean {
  for (let o: object | null = value; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const d = Object.getOwnPropertyDescriptor(o, inspect.custom);
    if (d !== undefined) return typeof d.value === "function";
    if (o === Object.prototype) return false;
  }
  return false;
}
