/** What every store command shares: where it writes and reads its environment, and store errors. */
import { describeError } from "../errors/index.js";
import type { CliIO } from "./sites.js";
import { CommandFailure, EXIT_FAILURE } from "./exit-codes.js";

/** CliIO plus the environment (for DIAGNOSE_STORE); tests pass their own. */
export interface CommandIO extends CliIO {
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (tables) — informational; --json decides the format. */
  isTTY?: boolean;
}

/** A store call that failed becomes exit 1 with the store's own sentence. */
export function describeStoreError(error: unknown, store: string): CommandFailure {
  if (error instanceof CommandFailure) return error;
  return new CommandFailure(EXIT_FAILURE, `the store ${store} failed: ${describeError(error)}`, { cause: error });
}
