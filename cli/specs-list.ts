/** `diagnose specs list`: every spec in the store, one line each (JSON with `--json`). */
import { parseArgs } from "node:util";
import type { StoredSpec } from "../runtime/manager/stores/contract.js";
import { EXIT_OK } from "./exit-codes.js";
import { describeStoreError, type CommandIO } from "./command.js";
import { chooseStore, withStore } from "./store-option.js";
import { age, cell, formatTable } from "./table.js";

export const SPECS_LIST_USAGE = `Usage: diagnose specs list [--store URI] [--json]

List the specs in the store: id, target, instrument, value, event, lifespan, when written.
`;

export async function runSpecsList(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: false,
    options: { store: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  void positionals;
  if (values.help === true) {
    io.stdout(SPECS_LIST_USAGE);
    return EXIT_OK;
  }
  const choice = chooseStore(values.store, io.env, io.cwd);
  const snapshot = await withStore(choice, (store) =>
    store.list().catch((e: unknown) => Promise.reject(describeStoreError(e, store.description))),
  );
  const specs = [...snapshot.specs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (values.json === true) {
    io.stdout(
      JSON.stringify(
        {
          store: choice.uri,
          revision: snapshot.revision,
          specs: specs.map((s) => ({ id: s.id, version: s.version, spec: s.doc })),
        },
        null,
        2,
      ) + "\n",
    );
    return EXIT_OK;
  }
  if (specs.length === 0) {
    io.stdout(`no specs in ${choice.uri}\n`);
    return EXIT_OK;
  }
  const now = new Date();
  io.stdout(
    formatTable(
      ["ID", "TARGET", "TYPE", "EVENT", "LIFESPAN", "WRITTEN", "VALUE"],
      specs.map((s) => listRow(s, now)),
    ),
  );
  return EXIT_OK;
}

function listRow(s: StoredSpec, now: Date): string[] {
  const ins = field(s.doc, "instrument");
  const lifespan = s.doc["lifespan"];
  const lm = s.doc["lastmodified"];
  return [
    cell(s.id, 40),
    cell(text(s.doc["target"]), 60),
    cell(text(ins?.["type"]), 12),
    cell(text(ins?.["event"] ?? "return"), 12),
    typeof lifespan === "number" ? `${lifespan}m` : "default",
    lm instanceof Date ? age(lm, now) : "?",
    cell(text(ins?.["value"]), 60),
  ];
}

function field(doc: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const v = doc[key];
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** A stored value as cell text: strings as they are, anything else as JSON (documents are unvalidated). */
export function text(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return "?";
  }
}
