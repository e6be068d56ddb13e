/** `diagnose specs rm <id>`: remove a spec; every process detaches its instrument. */
import { parseArgs } from "node:util";
import { CommandFailure, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE } from "./exit-codes.js";
import { describeStoreError, type CommandIO } from "./command.js";
import { chooseStore, withStore } from "./store-option.js";

export const SPECS_RM_USAGE = `Usage: diagnose specs rm <id> [--store URI] [--json]

Remove a spec; the processes watching the store detach its instrument within a second.
Exit code 5 when there is no spec with that id.
`;

export async function runSpecsRm(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { store: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help === true) {
    io.stdout(SPECS_RM_USAGE);
    return EXIT_OK;
  }
  const id = positionals[0];
  if (id === undefined || positionals.length > 1) {
    throw new CommandFailure(
      EXIT_USAGE,
      `expected one spec id, got ${positionals.length === 0 ? "none" : positionals.join(" ")}`,
    );
  }
  const choice = chooseStore(values.store, io.env, io.cwd);
  const removed = await withStore(choice, (store) =>
    store.remove(id).catch((e: unknown) => Promise.reject(describeStoreError(e, store.description))),
  );
  if (values.json === true) io.stdout(JSON.stringify({ id, removed, store: choice.uri }) + "\n");
  if (!removed) {
    throw new CommandFailure(
      EXIT_NOT_FOUND,
      `no spec ${JSON.stringify(id)} in ${choice.uri} (see 'diagnose specs list')`,
    );
  }
  if (values.json !== true) io.stdout(`removed spec ${id} from ${choice.uri}\n`);
  return EXIT_OK;
}
