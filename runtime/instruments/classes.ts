/**
 * The instrument classes a spec's `instrument.type` names by default. Kept out of the manager's
 * module: the classes extend Instrument, whose module imports the manager.
 */
import { provideDefaultInstrumentClasses } from "../manager/class-table.js";
import { manager, type InstrumentClasses } from "../manager/manager.js";
import type { InstrumentClass } from "../manager/reconcile.js";
import { ChannelInstrument } from "./channel.js";
import { LogInstrument } from "./log.js";
import { HistogramInstrument, IncrementInstrument } from "./metrics.js";
import { ProbeTestInstrument } from "./probe-test.js";
import { StructuredLogInstrument } from "./structured-log.js";

/**
 * Types an integration module adds when it is imported, and the module: a spec can name them in a
 * process that imports it (the CLI accepts them for that reason).
 */
export const INTEGRATION_INSTRUMENT_TYPES: Readonly<Record<string, string>> = {
  span: "diagnose/opentelemetry",
  otel_counter: "diagnose/opentelemetry",
  otel_histogram: "diagnose/opentelemetry",
};

/** Classes added by imported integrations (addDefaultInstrumentClass). */
const added: Record<string, InstrumentClass> = Object.create(null) as Record<string, InstrumentClass>;

/**
 * A new table of the default classes: log, hist, incr, test, slog (structured log), channel
 * (diagnostics_channel), and those of imported integrations (`INTEGRATION_INSTRUMENT_TYPES`).
 */
export function defaultInstrumentClasses(): InstrumentClasses {
  return {
    log: LogInstrument,
    hist: HistogramInstrument,
    incr: IncrementInstrument,
    test: ProbeTestInstrument,
    slog: StructuredLogInstrument,
    channel: ChannelInstrument,
    ...added,
  };
}

/**
 * Adds `type` to the defaults of managers made from now on, and to the default manager's table
 * unless it holds a class under that name already: that table may exist before the application's
 * imports run (the loader's autostart applies specs first). Called by integration modules when
 * they are imported.
 * @internal
 */
export function addDefaultInstrumentClass(type: string, cls: InstrumentClass): void {
  added[type] = cls;
  const table = manager.instrumentClasses;
  if (!Object.hasOwn(table, type)) table[type] = cls;
}

provideDefaultInstrumentClasses(defaultInstrumentClasses);
