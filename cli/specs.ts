/** `diagnose specs <add|list|rm>`: dispatches to the sub-command's module. */
import { CommandFailure, EXIT_OK, EXIT_USAGE } from "./exit-codes.js";
import type { CommandIO } from "./command.js";
import { runSpecsAdd, SPECS_ADD_USAGE } from "./specs-add.js";
import { runSpecsList, SPECS_LIST_USAGE } from "./specs-list.js";
import { runSpecsRm, SPECS_RM_USAGE } from "./specs-rm.js";
import { runSpecsVerify, SPECS_VERIFY_USAGE } from "./specs-verify.js";

export const SPECS_USAGE = `Usage: diagnose specs <add|list|rm|verify> [options]

  specs add <id> --target NAME --value EXPR [...]   write a spec (see 'diagnose specs add --help')
  specs list                                        list the specs in the store
  specs rm <id>                                     remove a spec
  specs verify [id] --public-key FILE               check the specs' signatures

Every command takes --store URI (default: $DIAGNOSE_STORE, then file:./diagnose-specs.json)
and --json.
`;

export function specsUsage(sub: string | undefined): string {
  return sub === "add"
    ? SPECS_ADD_USAGE
    : sub === "list"
      ? SPECS_LIST_USAGE
      : sub === "rm"
        ? SPECS_RM_USAGE
        : sub === "verify"
          ? SPECS_VERIFY_USAGE
          : SPECS_USAGE;
}

export async function runSpecs(args: string[], io: CommandIO): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "add":
      return runSpecsAdd(rest, io);
    case "list":
    case "ls":
      return runSpecsList(rest, io);
    case "rm":
    case "remove":
      return runSpecsRm(rest, io);
    case "verify":
      return runSpecsVerify(rest, io);
    case "--help":
    case "-h":
    case "help":
      io.stdout(SPECS_USAGE);
      return EXIT_OK;
    default:
      throw new CommandFailure(
        EXIT_USAGE,
        sub === undefined
          ? "specs needs a sub-command: add, list, rm or verify"
          : `unknown sub-command 'specs ${sub}' (add, list, rm, verify)`,
      );
  }
}
