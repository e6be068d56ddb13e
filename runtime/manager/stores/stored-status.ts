/**
 * Status as the database stores read it back (MongoDB, Redis, PostgreSQL): a stored process report
 * turned into a `ProcessReport` again, and each spec's `applied` assembled from the reports. What a
 * store read is hostile input: anything that is not a report is skipped, never thrown.
 */
import type { AppliedStatus, SpecDocument } from "../spec.js";
import type { ProcessReport } from "./contract.js";
import { defineData, isPlainRecord, reviveStatus } from "./documents.js";

/** The statuses of one process by spec id, as `applied` needs them. */
export interface ProcessStatuses {
  readonly processId: string;
  readonly specs: Readonly<Record<string, AppliedStatus>>;
}

/**
 * The statuses of a stored report, their dates revived in place (`lm`, `at`); undefined when
 * `specs` is not a plain object.
 */
export function storedStatuses(specs: unknown): Record<string, AppliedStatus> | undefined {
  if (!isPlainRecord(specs)) return undefined;
  for (const id of Object.keys(specs)) reviveStatus(specs[id]);
  return specs as Record<string, AppliedStatus>;
}

/**
 * A report read back from a store: labels an object (empty when missing), `at` a Date, statuses
 * revived. Undefined when it is not a report (no string process id, or no `specs` object).
 */
export function storedReport(
  processId: unknown,
  labels: unknown,
  at: unknown,
  specs: unknown,
): ProcessReport | undefined {
  const statuses = storedStatuses(specs);
  if (typeof processId !== "string" || statuses === undefined) return undefined;
  return {
    processId,
    labels: (isPlainRecord(labels) ? labels : {}) as Record<string, string>,
    at: at instanceof Date ? at : new Date(String(at)),
    specs: statuses,
  };
}

/** Sets `doc.applied` to the status of spec `id` in each process that reported one. */
export function attachApplied(doc: SpecDocument, id: string, reports: readonly ProcessStatuses[]): void {
  const applied: Record<string, AppliedStatus> = {};
  for (const r of reports) if (Object.hasOwn(r.specs, id)) defineData(applied, r.processId, r.specs[id]);
  defineData(doc, "applied", applied);
}
