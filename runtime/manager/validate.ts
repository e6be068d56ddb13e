/**
 * Spec validation: a spec document from a store is hostile input. Fields are read through their
 * property descriptors (a getter is never invoked, a Proxy is never trapped), every value is
 * checked for type and size, and each problem becomes one sentence that names the field and says
 * what to write instead. Unknown fields are kept (a document written by a newer writer must
 * survive a round trip) and reported as warnings.
 */
import { types } from "node:util";
import type { InstrumentSpec, Spec } from "./spec.js";

/** Longest accepted target, name and expression texts; anything longer is refused, not cut. */
export const LIMITS = {
  target: 1_000,
  name: 200,
  expression: 10_000,
  customKeys: 50,
  selectorKeys: 50,
  selectorValue: 200,
} as const;

/**
 * The events Instrument accepts (its constructor checks again). Not imported from the instrument
 * module: that would put this module, and the manager importing it, in the instrument's cycle.
 */
const EVENT = /^(?:call|return|end|line:[1-9]\d*)$/;

// `signature` is read by signing.ts when the manager verifies; listed so it is not warned about.
const SPEC_FIELDS = new Set(["target", "instrument", "lifespan", "lastmodified", "applied", "selector", "signature"]);
const INSTRUMENT_FIELDS = new Set(["type", "name", "value", "event", "custom"]);

export type ValidationResult =
  | { readonly ok: true; readonly spec: Spec; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: string; readonly warnings: readonly string[] };

/** Checks one spec document. Never throws. */
export function validateSpec(id: string, doc: unknown): ValidationResult {
  const warnings: string[] = [];
  try {
    const error = check(doc, warnings);
    if (typeof error === "string") return { ok: false, error, warnings };
    return { ok: true, spec: error, warnings };
  } catch {
    // Only a bug of ours gets here (all reads are descriptor reads); say so without the details.
    return {
      ok: false,
      error: `Spec ${JSON.stringify(id)} could not be read: it is not a plain JSON-like document.`,
      warnings,
    };
  }
}

function check(doc: unknown, warnings: string[]): Spec | string {
  const shape = plainObject(doc, "The spec");
  if (typeof shape === "string") return shape;
  for (const key of Reflect.ownKeys(doc as object)) {
    if (typeof key !== "string") continue;
    if (!SPEC_FIELDS.has(key)) warnings.push(`Unknown spec field ${JSON.stringify(key)} is kept but ignored.`);
  }
  const fields = doc as object;

  const target = field(fields, "target");
  if (isReadError(target)) return target.error;
  if (typeof target !== "string")
    return `\`target\` must be a string like "src/shop/cart.ts:Cart.total", got ${kind(target)}.`;
  if (target.length > LIMITS.target)
    return `\`target\` is ${target.length} characters long; the limit is ${LIMITS.target}.`;
  const colon = target.indexOf(":");
  if (colon <= 0 || colon === target.length - 1 || /[\n\r]/.test(target)) {
    return `\`target\` ${quote(target)} is not a qualified name: write "module:path", e.g. "src/shop/cart.ts:Cart.total".`;
  }

  const instrument = checkInstrument(field(fields, "instrument"), warnings);
  if (typeof instrument === "string") return instrument;

  const lifespanRaw = field(fields, "lifespan");
  if (isReadError(lifespanRaw)) return lifespanRaw.error;
  let lifespan: number | null = null;
  if (lifespanRaw !== undefined && lifespanRaw !== null) {
    if (typeof lifespanRaw !== "number" || !Number.isFinite(lifespanRaw) || lifespanRaw < 0) {
      return `\`lifespan\` must be a finite number of minutes ≥ 0, or null for the manager's default; got ${describe(lifespanRaw)}.`;
    }
    lifespan = lifespanRaw;
  }

  const lmRaw = field(fields, "lastmodified");
  if (isReadError(lmRaw)) return lmRaw.error;
  const lastmodified = toDate(lmRaw);
  if (lastmodified === undefined) {
    return `\`lastmodified\` must be a Date or an ISO 8601 date string (it starts the lifespan); got ${describe(lmRaw)}.`;
  }

  const selectorRaw = field(fields, "selector");
  if (isReadError(selectorRaw)) return selectorRaw.error;
  let selector: Record<string, string> | undefined;
  if (selectorRaw !== undefined && selectorRaw !== null) {
    const s = checkSelector(selectorRaw);
    if (typeof s === "string") return s;
    selector = s;
  }

  const appliedRaw = field(fields, "applied");
  const applied =
    typeof appliedRaw === "object" && appliedRaw !== null && !isReadError(appliedRaw) && !types.isProxy(appliedRaw)
      ? (appliedRaw as Spec["applied"])
      : {};

  const spec: Spec = { target, instrument, lifespan, lastmodified, applied };
  if (selector !== undefined) spec.selector = selector;
  return spec;
}

function checkInstrument(raw: unknown, warnings: string[]): InstrumentSpec | string {
  if (isReadError(raw)) return raw.error;
  const shape = plainObject(raw, "`instrument`");
  if (typeof shape === "string") {
    return raw === undefined
      ? '`instrument` is missing: give { type: "log", name: "…", value: "…" }.'
      : `${shape} Give { type: "log", name: "…", value: "…" }.`;
  }
  const obj = raw as object;
  for (const key of Reflect.ownKeys(obj)) {
    if (typeof key === "string" && !INSTRUMENT_FIELDS.has(key)) {
      warnings.push(`Unknown instrument field ${JSON.stringify(key)} is kept but ignored.`);
    }
  }
  const type = field(obj, "type");
  if (isReadError(type)) return type.error;
  if (typeof type !== "string" || type === "")
    return `\`instrument.type\` must be a non-empty string such as "log", got ${kind(type)}.`;
  if (type.length > LIMITS.name)
    return `\`instrument.type\` is ${type.length} characters long; the limit is ${LIMITS.name}.`;
  const name = field(obj, "name");
  if (isReadError(name)) return name.error;
  if (typeof name !== "string" || name === "")
    return `\`instrument.name\` must be a non-empty string (it names the output), got ${kind(name)}.`;
  if (name.length > LIMITS.name)
    return `\`instrument.name\` is ${name.length} characters long; the limit is ${LIMITS.name}.`;
  const value = field(obj, "value");
  if (isReadError(value)) return value.error;
  if (typeof value !== "string" || value.trim() === "") {
    return `\`instrument.value\` must be a non-empty expression string such as "result", got ${kind(value)}.`;
  }
  if (value.length > LIMITS.expression)
    return `\`instrument.value\` is ${value.length} characters long; the limit is ${LIMITS.expression}.`;

  const spec: InstrumentSpec = { type, name, value };
  const event = field(obj, "event");
  if (isReadError(event)) return event.error;
  if (event !== undefined && event !== null) {
    if (typeof event !== "string" || event.length > 30)
      return `\`instrument.event\` must be "call", "return", "end" or "line:N", got ${describe(event)}.`;
    if (!EVENT.test(event)) {
      return `\`instrument.event\` ${quote(event)} is not an event: use "call", "return" (the default), "end" or "line:N".`;
    }
    spec.event = event;
  }

  const customRaw = field(obj, "custom");
  if (isReadError(customRaw)) return customRaw.error;
  if (customRaw !== undefined && customRaw !== null) {
    const shapeError = plainObject(customRaw, "`instrument.custom`");
    if (typeof shapeError === "string") return shapeError;
    const custom: Record<string, unknown> = {};
    const keys = Object.keys(customRaw as object);
    if (keys.length > LIMITS.customKeys)
      return `\`instrument.custom\` has ${keys.length} fields; the limit is ${LIMITS.customKeys}.`;
    for (const key of keys) {
      const v = field(customRaw as object, key);
      if (isReadError(v)) return v.error;
      if (key === "tags" || key === "condition") {
        if (v === undefined || v === null) continue;
        if (typeof v !== "string" || v.trim() === "")
          return `\`instrument.custom.${key}\` must be an expression string, got ${kind(v)}.`;
        if (v.length > LIMITS.expression)
          return `\`instrument.custom.${key}\` is ${v.length} characters long; the limit is ${LIMITS.expression}.`;
      }
      custom[key] = v;
    }
    spec.custom = custom;
  }
  return spec;
}

function checkSelector(raw: unknown): Record<string, string> | string {
  const shape = plainObject(raw, "`selector`");
  if (typeof shape === "string") return `${shape} Give labels, e.g. { "app": "shop" }.`;
  const out: Record<string, string> = {};
  const keys = Object.keys(raw as object);
  if (keys.length > LIMITS.selectorKeys)
    return `\`selector\` has ${keys.length} labels; the limit is ${LIMITS.selectorKeys}.`;
  for (const key of keys) {
    const v = field(raw as object, key);
    if (isReadError(v)) return v.error;
    if (typeof v !== "string" || v.length > LIMITS.selectorValue) {
      return `\`selector.${key}\` must be a string of at most ${LIMITS.selectorValue} characters, got ${describe(v)}.`;
    }
    out[key] = v;
  }
  return out;
}

interface ReadError {
  readonly error: string;
}

const READ_ERROR = Symbol("read error");

function isReadError(v: unknown): v is ReadError {
  return typeof v === "object" && v !== null && (v as { [READ_ERROR]?: boolean })[READ_ERROR] === true;
}

/** An own data property's value, without running a getter; accessors are refused. */
function field(obj: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (d === undefined) return undefined;
  if (!("value" in d)) return { [READ_ERROR]: true, error: `\`${key}\` is a getter; a spec holds plain values only.` };
  const v: unknown = d.value;
  if (typeof v === "object" && v !== null && types.isProxy(v)) {
    return { [READ_ERROR]: true, error: `\`${key}\` is a Proxy; a spec holds plain values only.` };
  }
  return v;
}

/** undefined when `v` is a plain object (not an array, not a Proxy); else the sentence. */
function plainObject(v: unknown, what: string): string | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return `${what} must be an object, got ${kind(v)}.`;
  if (types.isProxy(v)) return `${what} is a Proxy; a spec holds plain values only.`;
  return undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** A Date from a Date or an ISO 8601 string (timezone offsets honoured); undefined otherwise. */
export function toDate(v: unknown): Date | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : new Date(v.getTime());
  if (typeof v === "string" && v.length <= 40 && ISO_DATE.test(v)) {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return undefined;
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return v === "" ? "an empty string" : "a string";
  return `a ${typeof v}`;
}

/** A short printable form of a scalar, never a huge string. */
function describe(v: unknown): string {
  if (typeof v === "string") return quote(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  if (v instanceof Date) return "an invalid Date";
  return kind(v);
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 57) + "…" : s);
}
