/**
 * The table of instrument classes a manager's specs can name: the default classes, the failpoint
 * classes (`pause`, `error`, `delay`) in a manager that turned them on, and the user's own.
 *
 * The defaults and the failpoints are handed in by their modules (`provide…`) rather than
 * imported: the default classes extend Instrument, whose module imports the manager, and the
 * failpoint classes load only in a process that uses them.
 */
import type { InstrumentClasses } from "./options.js";

let defaultClasses: (() => InstrumentClasses) | undefined;
let failpointClasses: (() => InstrumentClasses) | undefined;

/**
 * Called by runtime/instruments/classes.ts: the manager cannot import the instrument subclasses
 * itself, since they extend Instrument, whose module imports this one.
 * @internal
 */
export function provideDefaultInstrumentClasses(factory: () => InstrumentClasses): void {
  defaultClasses = factory;
}

/**
 * Called by runtime/failpoints/classes.ts, which a manager loads only once failpoints are on.
 * @internal
 */
export function provideFailpointClasses(factory: () => InstrumentClasses): void {
  failpointClasses = factory;
}

/** Whether the failpoint classes still have to be loaded (runtime/failpoints/classes.ts). */
export function failpointClassesMissing(): boolean {
  return failpointClasses === undefined;
}

/** A new table: the defaults, the failpoint classes when on (and loaded), then `extra` over them. */
export function classTable(failpoints: boolean, extra: InstrumentClasses | undefined): InstrumentClasses {
  const failpointTable = failpoints ? failpointClasses?.() : undefined;
  return { ...(defaultClasses?.() ?? {}), ...failpointTable, ...extra };
}

/**
 * The failpoint classes load with the first apply that needs them: a table made before then
 * gets them now, without overriding a class of the same name the user put there.
 */
export function addFailpointClasses(table: InstrumentClasses | undefined): void {
  if (table === undefined || failpointClasses === undefined) return;
  for (const [type, cls] of Object.entries(failpointClasses())) if (!Object.hasOwn(table, type)) table[type] = cls;
}
