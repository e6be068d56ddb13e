/**
 * The instrument classes a spec's `instrument.type` names by default. Kept out of the manager's
 * module: the classes extend Instrument, whose module imports the manager.
 */
import { provideDefaultInstrumentClasses, type InstrumentClasses } from "../manager/manager.js";
import { LogInstrument } from "./log.js";
import { HistogramInstrument, IncrementInstrument } from "./metrics.js";
import { ProbeTestInstrument } from "./probe-test.js";

/** A new table of the default classes: log, hist, incr, test. */
export function defaultInstrumentClasses(): InstrumentClasses {
  return { log: LogInstrument, hist: HistogramInstrument, incr: IncrementInstrument, test: ProbeTestInstrument };
}

provideDefaultInstrumentClasses(defaultInstrumentClasses);
