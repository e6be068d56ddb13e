/**
 * Exit codes of the store commands (`specs …`, `status`), one meaning each, so scripts can tell a
 * refused spec from a store that is down. `diagnose sites` keeps its own (0 listed, 1 nothing
 * matched, 2 usage).
 */
import { DiagnoseError } from "../errors/index.js";

/** Done. */
export const EXIT_OK = 0;
/** The command could not do its work: the store is unreachable or its content unreadable. */
export const EXIT_FAILURE = 1;
/** Bad arguments or configuration: nothing was read or written. */
export const EXIT_USAGE = 2;
/** `specs add` refused the spec (unknown target, unsafe expression, unknown type, bad field). */
export const EXIT_REFUSED = 3;
/** `specs add` found the id taken (without `--replace`) or changed by someone else meanwhile. */
export const EXIT_CONFLICT = 4;
/** `specs rm` / `status <id>`: no spec with that id. */
export const EXIT_NOT_FOUND = 5;

/** A failure a command reports as one message on stderr and an exit code. */
export class CommandFailure extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_CLI_FAILURE";
  constructor(
    readonly exitCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(CommandFailure.CODE, message, options);
  }
}
