/**
 * The guarded reader: the only way a spec expression (and its helpers) reads a member of a value.
 * It runs no code of the program's objects:
 * - it walks own property descriptors up the prototype chain; a data property gives its value;
 * - an accessor gives GETTER (never invoked), except the few intrinsic getters that run no user
 *   code on genuine built-ins (`size` of a Map/Set, `length`/`byteLength`/`byteOffset` of typed
 *   arrays, `byteLength` of ArrayBuffers and DataViews);
 * - a Proxy, as the object or anywhere on its prototype chain, is never touched: PROXY.
 * Values are turned into primitives (for `+`, `<`, templates) by `prim` and `safeString`, which
 * render objects through this reader instead of calling their `valueOf`/`toString`.
 */
import { types } from "node:util";
import { inspect } from "node:util";
import { ExpressionEvaluationError, UnsafeExpressionError } from "../../probes/errors.js";
import { FORBIDDEN_NAMES } from "./names.js";

// Captured at load time: a program that later replaces these globals changes nothing here.
const isProxy = types.isProxy;
const isMap = types.isMap;
const isSet = types.isSet;
const isDate = types.isDate;
const isTypedArray = types.isTypedArray;
const isAnyArrayBuffer = types.isAnyArrayBuffer;
const isDataView = types.isDataView;
const isNativeError = types.isNativeError;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const getPrototypeOf = Object.getPrototypeOf;
const isArray = Array.isArray;
const objectKeys = Object.keys;
const dateGetTime = Date.prototype.getTime;
const dateToISOString = Date.prototype.toISOString;
const freeze = Object.freeze;
const defineProperty = Object.defineProperty;
const ownHas = Object.hasOwn;
const reflectApply = Reflect.apply;
const toObject = Object;
const NO_ARGS: readonly unknown[] = freeze([]);

/** A frozen value standing for something the reader did not run or touch. */
export interface Marker {
  readonly marker: "getter" | "proxy";
}

function makeMarker(kind: "getter" | "proxy"): Marker {
  const text = `[${kind}]`;
  const m = Object.create(null) as Marker;
  defineProperty(m, "marker", { value: kind, enumerable: true });
  for (const key of ["toString", "toJSON", Symbol.toPrimitive, inspect.custom]) {
    defineProperty(m, key, { value: () => text });
  }
  return freeze(m);
}

/** What an accessor property reads as (its getter is never invoked); its string form is `[getter]`. */
export const GETTER: Marker = makeMarker("getter");
/** What a Proxy reads as (none of its traps runs); its string form is `[proxy]`. */
export const PROXY: Marker = makeMarker("proxy");

/**
 * Intrinsic getters that run no user code on a genuine built-in of their kind: pairs of (getter,
 * check) in a plain array, searched by index (a Map's `get` is a method a program could replace).
 */
const SAFE_GETTERS: unknown[] = [];
function allowGetter(proto: object, key: string, check: (o: object) => boolean): void {
  const d = getOwnPropertyDescriptor(proto, key);
  if (d !== undefined && ownHas(d, "get") && d.get !== undefined) SAFE_GETTERS.push(d.get, check);
}
allowGetter(Map.prototype, "size", isMap);
allowGetter(Set.prototype, "size", isSet);
const TypedArrayProto = getPrototypeOf(Uint8Array.prototype) as object;
for (const key of ["length", "byteLength", "byteOffset"]) allowGetter(TypedArrayProto, key, isTypedArray);
allowGetter(ArrayBuffer.prototype, "byteLength", isAnyArrayBuffer);
if (typeof SharedArrayBuffer === "function") allowGetter(SharedArrayBuffer.prototype, "byteLength", isAnyArrayBuffer);
allowGetter(DataView.prototype, "byteLength", isDataView);
allowGetter(DataView.prototype, "byteOffset", isDataView);

/** Whether `v` is an object or function that is not a Proxy (its own properties can be inspected). */
export function isInspectable(v: unknown): v is object {
  return ((typeof v === "object" && v !== null) || typeof v === "function") && !isProxy(v);
}

/**
 * Reads `o[key]` without running user code; `key` is a name the compiler checked. Throws
 * ExpressionEvaluationError for a member of null or undefined, as JavaScript would.
 */
export function read(o: unknown, key: string): unknown {
  if (typeof o === "object" && o !== null) {
    if (isProxy(o)) return PROXY;
    // What a marker stands for was not read, so neither are its members.
    if (o === GETTER || o === PROXY) return o;
    // The own property first, outside the prototype walk's loop: most reads end here, and inlined
    // into an evaluator this shape costs less (callgrind: 836 → 700 instructions per evaluation
    // of `args[0].items.length > 3`). `in`: see descriptorValue.
    const d = getOwnPropertyDescriptor(o, key);
    if (d !== undefined && !("get" in d)) return d.value;
    return d !== undefined ? descriptorValue(o, d) : inherited(o, o, key);
  }
  if (typeof o === "string") {
    if (key === "length") return o.length;
    return lookup(o, toObject(o) as object, key);
  }
  if (o === undefined || o === null) {
    throw new ExpressionEvaluationError(undefined, `it read .${key} of ${String(o)}`);
  }
  if (typeof o === "function") return isProxy(o) ? PROXY : lookup(o, o, key);
  return lookup(o, toObject(o) as object, key);
}

/**
 * Adds `value` under `key` as a literal would (CreateDataProperty): defined, not assigned (nor
 * pushed), which would run a setter a program put on Object.prototype or Array.prototype under
 * that key. The descriptor has no prototype, so none of its fields is looked up there either.
 */
export function defineData(target: object, key: string | number, value: unknown): void {
  defineProperty(target, key, {
    __proto__: null,
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  } as PropertyDescriptor);
}

/** `o.length`: a string's or a genuine array's is read directly (an array's is always own data). */
export function readLength(o: unknown): unknown {
  if (typeof o === "string") return o.length;
  if (typeof o === "object" && o !== null && !isProxy(o) && isArray(o)) return o.length;
  return read(o, "length");
}

/** A Proxy as a value becomes PROXY, so what an expression gives can be used without touching it. */
export function shield(v: unknown): unknown {
  return ((typeof v === "object" && v !== null) || typeof v === "function") && isProxy(v) ? PROXY : v;
}

/** `o?.key`: undefined for null or undefined. */
export function readOptional(o: unknown, key: string): unknown {
  return o === undefined || o === null ? undefined : read(o, key);
}

/** `o[k]` with a computed key: the key is checked here, at evaluation. */
export function readComputed(o: unknown, k: unknown): unknown {
  return read(o, keyOf(k));
}

function keyOf(k: unknown): string {
  let key: string;
  if (typeof k === "string") key = k;
  else if (typeof k === "number" || typeof k === "boolean" || typeof k === "bigint" || k === undefined || k === null)
    key = String(k);
  else {
    // Converting an object key would call its toString: refused rather than run.
    throw new ExpressionEvaluationError(
      undefined,
      `a computed key must be a string or a number, got ${describeType(k)}`,
    );
  }
  if (FORBIDDEN_NAMES.has(key)) {
    throw new UnsafeExpressionError(
      `[${JSON.stringify(key)}]`,
      `the computed key ${JSON.stringify(key)}`,
      "which spec expressions cannot reach",
    );
  }
  return key;
}

function lookup(receiver: unknown, start: object, key: string): unknown {
  const d = getOwnPropertyDescriptor(start, key);
  return d !== undefined ? descriptorValue(receiver, d) : inherited(receiver, start, key);
}

/** `key` read on the prototypes of `start`, which does not have it; PROXY at a Proxy. */
function inherited(receiver: unknown, start: object, key: string): unknown {
  let cur = getPrototypeOf(start) as object | null;
  while (cur !== null) {
    if (isProxy(cur)) return PROXY;
    const d = getOwnPropertyDescriptor(cur, key);
    if (d !== undefined) return descriptorValue(receiver, d);
    cur = getPrototypeOf(cur) as object | null;
  }
  return undefined;
}

/**
 * What a property with descriptor `d` reads as. The descriptor is an ordinary object inheriting
 * from Object.prototype, so a field it lacks (`get` of a data descriptor, `value` of an
 * accessor's) would be read from Object.prototype, where a program may have put a getter. `in`
 * runs no code (Object.prototype is ordinary and its prototype is null for good), and an
 * accessor's descriptor always has an own `get`: with no `get` anywhere it is a data descriptor,
 * whose `value` is its own. Otherwise ask whether `get` is its own (only when Object.prototype
 * has a `get`, or for an accessor).
 */
function descriptorValue(receiver: unknown, d: PropertyDescriptor): unknown {
  return !("get" in d) || !ownHas(d, "get") ? d.value : intrinsicGetter(receiver, d.get);
}

/** The value of an accessor: an intrinsic getter's on a genuine built-in, else GETTER (nothing runs). */
function intrinsicGetter(receiver: unknown, get: unknown): unknown {
  if (typeof receiver !== "object" || receiver === null) return GETTER;
  for (let i = 0; i < SAFE_GETTERS.length; i += 2) {
    if (SAFE_GETTERS[i] === get) {
      const check = SAFE_GETTERS[i + 1] as (o: object) => boolean;
      return check(receiver) ? reflectApply(get as () => unknown, receiver, NO_ARGS) : GETTER;
    }
  }
  return GETTER;
}

/** Whether `o` has `key` as an own property (false for a Proxy: it is not asked). */
export function hasOwn(o: unknown, key: string): boolean {
  return isInspectable(o) && getOwnPropertyDescriptor(o, key) !== undefined;
}

/** Own enumerable string keys of an inspectable object; undefined for anything else. */
export function ownKeys(o: unknown): string[] | undefined {
  return isInspectable(o) ? objectKeys(o) : undefined;
}

/** The time value of a genuine Date, else undefined. */
export function dateTime(v: unknown): number | undefined {
  return isInspectable(v) && isDate(v) ? (dateGetTime.call(v) as number) : undefined;
}

/** ISO text of a genuine valid Date, else undefined. */
export function dateIso(v: unknown): string | undefined {
  const t = dateTime(v);
  return t === undefined || t !== t ? undefined : (dateToISOString.call(v) as string);
}

/**
 * A primitive for `+`, `-`, `<`…: primitives as they are, a Date its time value, anything else its
 * safe string form. JavaScript would call `valueOf`/`toString` here; the program's own would run.
 */
export function prim(v: unknown): unknown {
  if ((typeof v !== "object" || v === null) && typeof v !== "function") return v;
  const t = dateTime(v);
  return t !== undefined ? t : safeString(v);
}

/** `==` without running `valueOf`/`toString`: two objects compare by identity, others by `prim`. */
export function looseEquals(a: unknown, b: unknown): boolean {
  const objA = (typeof a === "object" && a !== null) || typeof a === "function";
  const objB = (typeof b === "object" && b !== null) || typeof b === "function";
  if (objA && objB) return a === b;
  // biome-ignore lint/suspicious/noDoubleEquals: loose equality of two primitives is the point
  return (objA ? prim(a) : a) == (objB ? prim(b) : b);
}

const MAX_STRING = 1_000;
const MAX_ITEMS = 20;

/**
 * A one-line text for any value, built through the reader: strings as they are, primitives as
 * `String` gives them, a Date as ISO text, markers as `[getter]`/`[proxy]`, arrays and objects as
 * `[1, 2]` / `{a: 1}` two levels deep, Maps and Sets as `Map(2)`. At most 1,000 characters.
 */
export function safeString(v: unknown): string {
  if (typeof v === "string") return v;
  const s = render(v, 2);
  return s.length > MAX_STRING ? s.slice(0, MAX_STRING - 3) + "..." : s;
}

function render(v: unknown, depth: number): string {
  switch (typeof v) {
    case "string":
      return depth < 2 ? JSON.stringify(v.length > 100 ? v.slice(0, 97) + "..." : v) : v;
    case "number":
    case "boolean":
    case "bigint":
    case "undefined":
      return String(v);
    case "symbol":
      return String(v);
    default:
      break;
  }
  if (v === null) return "null";
  if (v === GETTER || v === PROXY) return `[${(v as Marker).marker}]`;
  if (isProxy(v)) return "[proxy]";
  const o = v as object;
  if (typeof o === "function") {
    const name = read(o, "name");
    return `[function${typeof name === "string" && name !== "" ? " " + name : ""}]`;
  }
  const iso = dateTime(o);
  if (iso !== undefined) return iso === iso ? (dateToISOString.call(o) as string) : "Invalid Date";
  if (isMap(o)) return `Map(${read(o, "size") as number})`;
  if (isSet(o)) return `Set(${read(o, "size") as number})`;
  if (isNativeError(o)) {
    const name = read(o, "name");
    const message = read(o, "message");
    return `${typeof name === "string" ? name : "Error"}${typeof message === "string" ? ": " + message : ""}`;
  }
  if (depth === 0) return isArray(o) ? "[…]" : "{…}";
  if (isArray(o) || isTypedArray(o)) {
    const n = read(o, "length") as number;
    const parts: string[] = [];
    for (let i = 0; i < n && i < MAX_ITEMS; i++) parts.push(render(read(o, String(i)), depth - 1));
    if (n > MAX_ITEMS) parts.push(`… ${n - MAX_ITEMS} more`);
    return `[${parts.join(", ")}]`;
  }
  const keys = objectKeys(o);
  const parts: string[] = [];
  for (let i = 0; i < keys.length && i < MAX_ITEMS; i++) {
    const k = keys[i]!;
    parts.push(`${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${render(read(o, k), depth - 1)}`);
  }
  if (keys.length > MAX_ITEMS) parts.push(`… ${keys.length - MAX_ITEMS} more`);
  return `{${parts.join(", ")}}`;
}

function describeType(v: unknown): string {
  if (v === GETTER || v === PROXY) return `the marker ${(v as Marker).marker === "getter" ? "[getter]" : "[proxy]"}`;
  return typeof v === "object" ? (v === null ? "null" : "an object") : `a ${typeof v}`;
}
