/**
 * The failpoint classes by spec type. Loaded by a manager only once it has `failpoints: true`;
 * kept out of the manager's module for the same reason as instruments/classes.ts.
 */
import { provideFailpointClasses } from "../manager/class-table.js";
import type { InstrumentClasses } from "../manager/options.js";
import { DelayFailpoint, ErrorFailpoint, PauseFailpoint } from "./failpoint.js";

/** A new table of the failpoint classes: pause, error, delay. */
export function failpointClasses(): InstrumentClasses {
  return { pause: PauseFailpoint, error: ErrorFailpoint, delay: DelayFailpoint };
}

provideFailpointClasses(failpointClasses);
