/**
 * Capture: a bounded, redacted copy of a value, made without running any code of the program.
 *
 * - Own property descriptors only: a getter is never invoked (`[Getter]`), a Proxy never touched
 *   (`[Proxy]`), a `toJSON`/`inspect.custom`/`valueOf` never called.
 * - Bounded in depth, entries per object/array/Map/Set, string length, and total size (roughly the
 *   characters the copy would print as): past a bound an explicit marker says what was left out.
 * - Cycles and repeated references print `[Circular]`.
 * - Typed arrays and Buffers are copied (first entries only) through intrinsic getters; Dates and
 *   RegExps through intrinsic methods; errors as name, message and cause.
 * - Keys (object keys, string Map keys) that look secret give REDACTED (see redact.ts).
 *
 * The copy is made of plain objects and arrays, Maps, Sets, Dates, typed-array copies and
 * `CaptureMarker`s, so the log formatter prints it and a recorder can keep it.
 */
import { inspect, types } from "node:util";
import { DEFAULT_REDACTOR, type Redactor } from "./redact.js";

// Captured at load time: a program that later replaces these changes nothing here.
const isProxy = types.isProxy;
const isMap = types.isMap;
const isSet = types.isSet;
const isDate = types.isDate;
const isRegExp = types.isRegExp;
const isTypedArray = types.isTypedArray;
const isAnyArrayBuffer = types.isAnyArrayBuffer;
const isDataView = types.isDataView;
const isNativeError = types.isNativeError;
const isPromise = types.isPromise;
const isWeakMap = types.isWeakMap;
const isWeakSet = types.isWeakSet;
const isBoxedPrimitive = types.isBoxedPrimitive;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const getPrototypeOf = Object.getPrototypeOf;
const objectKeys = Object.keys;
const isArray = Array.isArray;
const call = Function.prototype.call;
const uncurry =
  <T>(fn: (...a: never[]) => T) =>
  (self: unknown, ...args: unknown[]): T =>
    call.apply(fn as (...a: unknown[]) => T, [self, ...args]) as T;
const intrinsicGetter = (proto: object, key: PropertyKey): ((self: unknown) => unknown) =>
  uncurry(getOwnPropertyDescriptor(proto, key)!.get!);

const TypedArrayProto = getPrototypeOf(Uint8Array.prototype) as object;
const taLength = intrinsicGetter(TypedArrayProto, "length") as (self: unknown) => number;
const taTag = intrinsicGetter(TypedArrayProto, Symbol.toStringTag) as (self: unknown) => string;
const mapSize = intrinsicGetter(Map.prototype, "size") as (self: unknown) => number;
const setSize = intrinsicGetter(Set.prototype, "size") as (self: unknown) => number;
const mapEntries = uncurry(Map.prototype.entries as (...a: never[]) => IterableIterator<[unknown, unknown]>);
const setValues = uncurry(Set.prototype.values as (...a: never[]) => IterableIterator<unknown>);
const mapIterNext = uncurry(
  getPrototypeOf(new Map().entries()).next as (...a: never[]) => IteratorResult<[unknown, unknown]>,
);
const setIterNext = uncurry(getPrototypeOf(new Set().values()).next as (...a: never[]) => IteratorResult<unknown>);
const dateGetTime = uncurry(Date.prototype.getTime as (...a: never[]) => number);
const regexpSource = intrinsicGetter(RegExp.prototype, "source") as (self: unknown) => string;
const regexpFlags = intrinsicGetter(RegExp.prototype, "flags") as (self: unknown) => string;
const abByteLength = intrinsicGetter(ArrayBuffer.prototype, "byteLength") as (self: unknown) => number;
const isBuffer = Buffer.isBuffer;
const bufferFrom = Buffer.from.bind(Buffer) as (a: Uint8Array) => Buffer;

/** Copies of these typed arrays are made with their own (original) constructor. */
const TYPED_ARRAYS: Record<string, new (n: number) => object> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

/** Stands for something not captured; prints as its text (`[Getter]`, `[Redacted]`, `[… 3 more items]`). */
export class CaptureMarker {
  constructor(readonly text: string) {
    Object.freeze(this);
  }
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
  [inspect.custom](): string {
    return this.text;
  }
}

export const REDACTED = new CaptureMarker("[Redacted]");
export const GETTER = new CaptureMarker("[Getter]");
export const PROXY = new CaptureMarker("[Proxy]");
export const CIRCULAR = new CaptureMarker("[Circular]");
export const SIZE_LIMIT = new CaptureMarker("[… size limit]");

/** An error as captured: its name, message and cause (not its stack, see copyError). */
export class CapturedError {
  constructor(
    readonly name: unknown,
    readonly message: unknown,
    readonly cause: unknown,
  ) {}
}

export interface CaptureLimits {
  /** Levels of nesting copied; deeper objects become `[Object]` / `[Array]`. Default 4. */
  depth?: number;
  /** Entries copied per object, array, Map, Set or typed array. Default 100. */
  items?: number;
  /** Characters kept per string. Default 1,000. */
  stringLength?: number;
  /** Approximate characters of the whole copy. Default 16,000. */
  totalSize?: number;
}

export const DEFAULT_CAPTURE_LIMITS: Readonly<Required<CaptureLimits>> = Object.freeze({
  depth: 4,
  items: 100,
  stringLength: 1000,
  totalSize: 16_000,
});

const NO_LIMITS: CaptureLimits = Object.freeze({});
/** Limits objects merged with the defaults, once each (callers pass constants). */
const resolved = new WeakMap<CaptureLimits, Required<CaptureLimits>>();

interface State {
  readonly limits: Required<CaptureLimits>;
  readonly redactor: Redactor;
  readonly seen: Set<object>;
  room: number;
}

/**
 * A bounded, redacted copy of `value` (see the module comment); never throws and runs no code of
 * the program. `redactor` defaults to the default word list (`redactorOf(mgr)` gives a manager's).
 */
export function capture(
  value: unknown,
  redactor: Redactor = DEFAULT_REDACTOR,
  limits: CaptureLimits = NO_LIMITS,
): unknown {
  // Most logged values are primitives: they need no state.
  if (typeof value !== "object" && typeof value !== "function") {
    if (typeof value !== "string") return value;
    if (value.length <= (limits.stringLength ?? DEFAULT_CAPTURE_LIMITS.stringLength)) return value;
  }
  if (value === null) return value;
  let l = resolved.get(limits);
  if (l === undefined) resolved.set(limits, (l = { ...DEFAULT_CAPTURE_LIMITS, ...limits }));
  const state: State = { limits: l, redactor, seen: new Set(), room: l.totalSize };
  try {
    return copy(value, 0, state);
  } catch {
    // Only an engine failure gets here (stack overflow, out of memory): the value is left out.
    return new CaptureMarker("[Not captured]");
  }
}

function copyString(s: string, state: State): string {
  const max = Math.min(state.limits.stringLength, Math.max(0, state.room));
  state.room -= Math.min(s.length, max) + 2;
  if (s.length <= max) return s;
  return s.slice(0, max) + `[… ${s.length - max} more characters]`;
}

function copy(value: unknown, depth: number, state: State): unknown {
  if (typeof value === "string") return copyString(value, state);
  if ((typeof value !== "object" && typeof value !== "function") || value === null) {
    state.room -= 8;
    return value;
  }
  if (state.room <= 0) return SIZE_LIMIT;
  state.room -= 4;
  if (isProxy(value)) return PROXY;
  if (typeof value === "function") return new CaptureMarker(`[Function${functionName(value)}]`);
  if (state.seen.has(value)) return CIRCULAR;
  if (isDate(value)) return new Date(dateGetTime(value));
  if (isRegExp(value)) return new CaptureMarker(`/${regexpSource(value)}/${regexpFlags(value)}`);
  if (isPromise(value)) return new CaptureMarker("[Promise]");
  if (isWeakMap(value) || isWeakSet(value)) return new CaptureMarker(isWeakMap(value) ? "[WeakMap]" : "[WeakSet]");
  if (isBoxedPrimitive(value)) return new CaptureMarker("[Boxed primitive]");
  if (isTypedArray(value)) return copyTypedArray(value, state);
  if (isAnyArrayBuffer(value)) return new CaptureMarker(`[ArrayBuffer: ${abByteLength(value)} bytes]`);
  if (isDataView(value)) return new CaptureMarker("[DataView]");
  const deep = depth >= state.limits.depth;
  if (isNativeError(value)) {
    if (deep) return new CaptureMarker("[Error]");
    return withSeen(value, state, () => copyError(value, depth, state));
  }
  if (isMap(value))
    return deep
      ? new CaptureMarker(`[Map: ${mapSize(value)} entries]`)
      : withSeen(value, state, () => copyMap(value, depth, state));
  if (isSet(value))
    return deep
      ? new CaptureMarker(`[Set: ${setSize(value)} items]`)
      : withSeen(value, state, () => copySet(value, depth, state));
  if (isArray(value))
    return deep
      ? new CaptureMarker("[Array]")
      : withSeen(value, state, () => copyArray(value as unknown[], depth, state));
  return deep ? new CaptureMarker("[Object]") : withSeen(value, state, () => copyObject(value, depth, state));
}

function withSeen<T>(value: object, state: State, f: () => T): T {
  state.seen.add(value);
  try {
    return f();
  } finally {
    state.seen.delete(value);
  }
}

function more(n: number, what: string): CaptureMarker {
  return new CaptureMarker(`[… ${n} more ${what}]`);
}

/** A property read through its descriptor: the value of a data property, GETTER for an accessor. */
function own(o: object, key: string | number, depth: number, state: State): unknown {
  const d = getOwnPropertyDescriptor(o, key);
  if (d === undefined) return undefined;
  if (!("value" in d)) return GETTER;
  return copy(d.value, depth + 1, state);
}

function copyArray(arr: readonly unknown[], depth: number, state: State): unknown[] {
  const lengthDesc = getOwnPropertyDescriptor(arr, "length");
  const n = typeof lengthDesc?.value === "number" ? lengthDesc.value : 0;
  const shown = Math.min(n, state.limits.items);
  const out: unknown[] = [];
  for (let i = 0; i < shown; i++) {
    if (state.room <= 0) {
      out.push(SIZE_LIMIT);
      return out;
    }
    out.push(own(arr, i, depth, state));
  }
  if (n > shown) out.push(more(n - shown, "items"));
  return out;
}

function copyObject(obj: object, depth: number, state: State): Record<string, unknown> {
  const keys = objectKeys(obj);
  const shown = Math.min(keys.length, state.limits.items);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < shown; i++) {
    const key = keys[i]!;
    if (state.room <= 0) {
      define(out, "…", SIZE_LIMIT);
      return out;
    }
    state.room -= Math.min(key.length, state.limits.stringLength) + 2;
    const k = key.length > state.limits.stringLength ? key.slice(0, state.limits.stringLength) + "…" : key;
    const v = state.redactor.isSecret(key) ? REDACTED : own(obj, key, depth, state);
    if (k === "__proto__") define(out, k, v);
    else out[k] = v;
  }
  if (keys.length > shown) define(out, "…", more(keys.length - shown, "properties"));
  return out;
}

/** Defines `__proto__` as an own data property (an assignment would set the prototype). */
function define(o: object, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function copyMap(map: Map<unknown, unknown>, depth: number, state: State): Map<unknown, unknown> {
  const n = mapSize(map);
  const shown = Math.min(n, state.limits.items);
  const out = new Map<unknown, unknown>();
  const it = mapEntries(map);
  for (let i = 0; i < shown; i++) {
    const r = mapIterNext(it);
    if (r.done === true) break;
    if (state.room <= 0) {
      out.set(SIZE_LIMIT, SIZE_LIMIT);
      return out;
    }
    const [k, v] = r.value;
    const key = copy(k, depth + 1, state);
    out.set(key, typeof k === "string" && state.redactor.isSecret(k) ? REDACTED : copy(v, depth + 1, state));
  }
  if (n > shown) out.set(more(n - shown, "entries"), undefined);
  return out;
}

function copySet(set: Set<unknown>, depth: number, state: State): Set<unknown> {
  const n = setSize(set);
  const shown = Math.min(n, state.limits.items);
  const out = new Set<unknown>();
  const it = setValues(set);
  for (let i = 0; i < shown; i++) {
    const r = setIterNext(it);
    if (r.done === true) break;
    if (state.room <= 0) {
      out.add(SIZE_LIMIT);
      return out;
    }
    out.add(copy(r.value, depth + 1, state));
  }
  if (n > shown) out.add(more(n - shown, "items"));
  return out;
}

function copyTypedArray(ta: object, state: State): unknown {
  const n = taLength(ta);
  const tag = taTag(ta);
  const shown = Math.min(n, state.limits.items);
  state.room -= shown * 4;
  const Ctor = TYPED_ARRAYS[tag];
  if (Ctor === undefined) return new CaptureMarker(`[${tag}: ${n} items]`);
  // Element by element: indexed reads of a typed array run no code, unlike `subarray`/`slice`,
  // which consult a species constructor.
  const head = new Ctor(shown) as Record<number, unknown>;
  const src = ta as Record<number, unknown>;
  for (let i = 0; i < shown; i++) head[i] = src[i];
  const copied = isBuffer(ta) ? bufferFrom(head as Uint8Array) : head;
  return n > shown ? [copied, more(n - shown, "items")] : copied;
}

function copyError(err: Error, depth: number, state: State): CapturedError {
  const field = (key: string): unknown => {
    for (let o: object | null = err; o !== null; o = getPrototypeOf(o) as object | null) {
      if (isProxy(o)) return PROXY;
      const d = getOwnPropertyDescriptor(o, key);
      if (d !== undefined) return "value" in d ? copy(d.value, depth + 1, state) : GETTER;
    }
    return undefined;
  };
  // Not `stack`: reading even its descriptor formats the trace on first access, which calls
  // Error.prepareStackTrace and the error's own `toString`/`message` (code of the program).
  return new CapturedError(field("name"), field("message"), own(err, "cause", depth, state));
}

function functionName(fn: object): string {
  const d = getOwnPropertyDescriptor(fn, "name");
  return d !== undefined && typeof d.value === "string" && d.value !== "" ? `: ${d.value.slice(0, 100)}` : "";
}
