/**
 * The checks `specs add` borrows from the runtime: the instrument types a process knows without
 * configuration, and compiling an expression exactly as a process compiles a store spec's.
 */
import { DiagnoseError, describeError } from "../errors/index.js";
// Through the package entry: it loads the runtime modules in the order their cycle needs.
import { defaultInstrumentClasses } from "../runtime/index.js";
import { INTEGRATION_INSTRUMENT_TYPES } from "../runtime/instruments/classes.js";
import { SafeExpression } from "../runtime/expressions/safe/index.js";

/**
 * The types every process knows, and those a process knows once it imports an integration
 * (`diagnose/opentelemetry`); a service may register more: `--force` writes those.
 */
export function knownInstrumentTypes(): string[] {
  return [...new Set([...Object.keys(defaultInstrumentClasses()), ...Object.keys(INTEGRATION_INSTRUMENT_TYPES)])];
}

/**
 * The refusal of `source` in the safe expression language, or undefined when it compiles. Names
 * are not checked: which exist (parameters, locals) is known only where the probe fires.
 */
export function checkExpression(source: string, role: string): string | undefined {
  try {
    new SafeExpression(source, role);
    return undefined;
  } catch (error) {
    return error instanceof DiagnoseError ? error.message : describeError(error);
  }
}
