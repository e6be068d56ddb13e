/**
 * Small guarded helpers shared by the stores: reading and writing documents that may be hostile
 * (frozen, Proxies, getters), checking ids and reports, and reviving the dates a store stored.
 */
import { types } from "node:util";
import type { AppliedStatus, SpecDocument } from "../spec.js";
import type { ProcessReport } from "./contract.js";
import { StoreFormatError } from "./errors.js";

/** Longest spec id or process id a store accepts. */
export const MAX_ID_LENGTH = 1024;

/** Defines an own enumerable data property: `__proto__` and other special keys are plain keys. */
export function defineData(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** An own data property, without running getters or Proxy traps; undefined otherwise. */
export function ownData(target: unknown, key: string): unknown {
  if (typeof target !== "object" || target === null || types.isProxy(target)) return undefined;
  const d = Object.getOwnPropertyDescriptor(target, key);
  return d !== undefined && "value" in d ? d.value : undefined;
}

/** A plain, readable object (not an array, not a Proxy). */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || types.isProxy(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function checkId(store: string, what: string, id: unknown): asserts id is string {
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new StoreFormatError(
      store,
      `a ${what} must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describeValue(id)}.`,
    );
  }
}

/** Checks a report's shape before a store keeps it; returns a detached copy. */
export function copyReport(store: string, report: ProcessReport): ProcessReport {
  if (!isPlainRecord(report)) throw new StoreFormatError(store, "a status report must be a plain object.");
  const processId = ownData(report, "processId");
  checkId(store, "process id", processId);
  const at = ownData(report, "at");
  if (!types.isDate(at) || Number.isNaN((at as Date).getTime())) {
    throw new StoreFormatError(store, `the status report of ${JSON.stringify(processId)} has no valid \`at\` date.`);
  }
  const labels = ownData(report, "labels");
  const specs = ownData(report, "specs");
  if (!isPlainRecord(specs)) {
    throw new StoreFormatError(store, `the status report of ${JSON.stringify(processId)} has no \`specs\` object.`);
  }
  try {
    return structuredClone({
      processId,
      labels: isPlainRecord(labels) ? labels : {},
      at,
      specs,
    }) as ProcessReport;
  } catch (e) {
    throw new StoreFormatError(store, `the status report of ${JSON.stringify(processId)} cannot be copied.`, {
      cause: e,
    });
  }
}

/** Sets `doc.applied[processId]`, creating `applied` when missing; false when the document refuses. */
export function setApplied(doc: SpecDocument, processId: string, status: AppliedStatus): boolean {
  try {
    if (types.isProxy(doc)) return false;
    let applied = ownData(doc, "applied");
    if (!isPlainRecord(applied)) {
      applied = {};
      defineData(doc, "applied", applied);
    }
    defineData(applied as object, processId, status);
    return true;
  } catch {
    return false;
  }
}

export function deleteApplied(doc: SpecDocument, processId: string): void {
  try {
    const applied = ownData(doc, "applied");
    if (isPlainRecord(applied)) delete applied[processId];
  } catch {
    // A frozen document keeps its old entry; status is advisory.
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A Date for an ISO 8601 date-time string; other values unchanged. A string without a zone is UTC,
 * as the original library's naive datetimes were.
 */
export function reviveDate(value: unknown): unknown {
  if (typeof value !== "string" || !ISO_DATE.test(value)) return value;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : `${value}Z`;
  const date = new Date(zoned);
  return Number.isNaN(date.getTime()) ? value : date;
}

/** Revives `lm` and `at` of one status in place. */
export function reviveStatus(status: unknown): void {
  if (!isPlainRecord(status)) return;
  for (const key of ["lm", "at"]) {
    if (Object.hasOwn(status, key)) defineData(status, key, reviveDate(status[key]));
  }
}

/** Revives the dates a store stored as strings: `lastmodified`, `applied.*.lm`, `applied.*.at`. */
export function reviveSpecDates(doc: unknown): void {
  if (!isPlainRecord(doc)) return;
  if (Object.hasOwn(doc, "lastmodified")) defineData(doc, "lastmodified", reviveDate(doc["lastmodified"]));
  const applied = doc["applied"];
  if (isPlainRecord(applied)) for (const key of Object.keys(applied)) reviveStatus(applied[key]);
}

/** A short description of any value for messages, never running user code. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null) return "null";
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  if (typeof value === "symbol") return "a symbol";
  return `${typeof value} ${String(value)}`;
}
