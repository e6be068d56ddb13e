/**
 * `diagnose status [id]`: what every process did with every spec — one row per spec and process,
 * with its state, hits, error and when the process last reported. A process whose last report is
 * older than a few heartbeats is marked stale: it stopped, hangs, or lost the store.
 */
import { parseArgs } from "node:util";
import type { AppliedStatus } from "../runtime/manager/spec.js";
import type { ProcessReport, SpecSnapshot } from "../runtime/manager/stores/contract.js";
import { CommandFailure, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE } from "./exit-codes.js";
import { describeStoreError, type CommandIO } from "./command.js";
import { chooseStore, withStore } from "./store-option.js";
import { text } from "./specs-list.js";
import { age, cell, formatTable } from "./table.js";

/** A process reports at least this often while it runs (the manager's heartbeat). */
export const HEARTBEAT_MS = 10_000;
/** Missing this many heartbeats makes a process stale. */
export const STALE_HEARTBEATS = 3;

export const STATUS_USAGE = `Usage: diagnose status [id] [--store URI] [--json] [--stale-after SECONDS]

One row per spec and process: the state of the spec in that process (pending, applied,
emitting, error, expired, throttled), how many times it fired, its error, and when the process last
reported. A process silent for longer than --stale-after (default ${(HEARTBEAT_MS * STALE_HEARTBEATS) / 1000} s, ${STALE_HEARTBEATS} heartbeats)
is marked stale. A spec no process has reported on shows as "unreported". "(from snapshot)": the
process ran the spec from its last-known-good snapshot file while the store was unreachable.
"warning: …" in the ERROR column: the spec is applied, with a caveat (e.g. its replay check could
not be made).
Exit code 5 when [id] names no spec.
`;

/** One row of `diagnose status` (and one element of its JSON). */
export interface StatusRow {
  spec: string;
  target: string | undefined;
  /** Undefined for a spec no process has reported on. */
  processId: string | undefined;
  labels: Record<string, string>;
  state: AppliedStatus["state"] | "unreported";
  err: string | null;
  /** A caveat about an applied spec (e.g. its replay check could not be made); null when none. */
  warning: string | null;
  hits: number;
  /** Whether the process applied the spec's current version (its `lastmodified`). */
  current: boolean;
  /** When the process last reported at all. */
  lastSeen: Date | undefined;
  stale: boolean;
  /**
   * The ISO 8601 interval `<since>/<until>` (`<since>/` while it lasts) during which the process ran
   * this spec from its last-known-good snapshot, the store being unreachable; null otherwise.
   */
  fromSnapshot: string | null;
}

export async function runStatus(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      store: { type: "string" },
      json: { type: "boolean" },
      "stale-after": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    io.stdout(STATUS_USAGE);
    return EXIT_OK;
  }
  if (positionals.length > 1)
    throw new CommandFailure(EXIT_USAGE, `expected at most one spec id, got ${positionals.join(" ")}`);
  const id = positionals[0];
  let staleAfterMs = HEARTBEAT_MS * STALE_HEARTBEATS;
  if (values["stale-after"] !== undefined) {
    const s = Number(values["stale-after"]);
    if (!Number.isFinite(s) || s <= 0)
      throw new CommandFailure(
        EXIT_USAGE,
        `--stale-after takes seconds (a number > 0), got ${JSON.stringify(values["stale-after"])}`,
      );
    staleAfterMs = s * 1000;
  }
  const choice = chooseStore(values.store, io.env, io.cwd);
  const [snapshot, reports] = await withStore(choice, (store) =>
    Promise.all([store.list(), store.listStatus()]).catch((e: unknown) =>
      Promise.reject(describeStoreError(e, store.description)),
    ),
  );
  if (id !== undefined && !snapshot.specs.some((s) => s.id === id)) {
    throw new CommandFailure(
      EXIT_NOT_FOUND,
      `no spec ${JSON.stringify(id)} in ${choice.uri} (see 'diagnose specs list')`,
    );
  }
  const now = new Date();
  const rows = statusRows(snapshot, reports, now, staleAfterMs, id);
  if (values.json === true) {
    io.stdout(JSON.stringify({ store: choice.uri, at: now, staleAfterMs, rows }, null, 2) + "\n");
    return EXIT_OK;
  }
  if (rows.length === 0) {
    io.stdout(`no specs in ${choice.uri}\n`);
    return EXIT_OK;
  }
  io.stdout(
    formatTable(
      ["SPEC", "PROCESS", "STATE", "HITS", "LAST SEEN", "ERROR"],
      rows.map((r) => [
        cell(r.spec, 40),
        r.processId === undefined ? "-" : cell(r.processId, 40),
        r.state +
          (r.processId !== undefined && !r.current ? " (older version)" : "") +
          (r.fromSnapshot === null ? "" : " (from snapshot)"),
        r.processId === undefined ? "-" : String(r.hits),
        r.lastSeen === undefined ? "-" : age(r.lastSeen, now) + (r.stale ? " (stale)" : ""),
        r.err !== null ? cell(r.err, 200) : r.warning !== null ? cell(`warning: ${r.warning}`, 200) : "",
      ]),
    ),
  );
  return EXIT_OK;
}

/** The rows for `only` (or every spec), sorted by spec id then process id. */
export function statusRows(
  snapshot: SpecSnapshot,
  reports: readonly ProcessReport[],
  now: Date,
  staleAfterMs: number,
  only?: string,
): StatusRow[] {
  const rows: StatusRow[] = [];
  const specs = snapshot.specs.filter((s) => only === undefined || s.id === only).sort((a, b) => compare(a.id, b.id));
  const byProcess = [...reports].sort((a, b) => compare(a.processId, b.processId));
  for (const spec of specs) {
    const target = typeof spec.doc["target"] === "string" ? spec.doc["target"] : text(spec.doc["target"]);
    const lm = spec.doc["lastmodified"];
    const before = rows.length;
    for (const report of byProcess) {
      const status = Object.prototype.hasOwnProperty.call(report.specs, spec.id) ? report.specs[spec.id] : undefined;
      if (status === undefined) continue;
      const seen = report.at instanceof Date ? report.at : new Date(String(report.at));
      rows.push({
        spec: spec.id,
        target,
        processId: report.processId,
        labels: { ...report.labels },
        state: status.state,
        err: status.err,
        warning: typeof status.warning === "string" ? status.warning : null,
        hits: status.hits,
        current: lm instanceof Date && status.lm instanceof Date ? lm.getTime() === status.lm.getTime() : false,
        lastSeen: seen,
        stale: !(now.getTime() - seen.getTime() <= staleAfterMs),
        fromSnapshot: typeof status.fromSnapshot === "string" ? status.fromSnapshot : null,
      });
    }
    if (rows.length === before) {
      rows.push({
        spec: spec.id,
        target,
        processId: undefined,
        labels: {},
        state: "unreported",
        err: null,
        warning: null,
        hits: 0,
        current: false,
        lastSeen: undefined,
        stale: false,
        fromSnapshot: null,
      });
    }
  }
  return rows;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
