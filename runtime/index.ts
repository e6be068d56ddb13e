/**
 * diagnose: probes for live TypeScript/JavaScript services. Log, count and time any function or
 * line of code built with the diagnose compiler pass, switched on and off at run time.
 *
 *   import { probes, LogInstrument } from "diagnose";
 *   const p = probes.attachTo("src/shop/cart.ts:Cart.total");
 *   p.instruments.set("foo", new LogInstrument("foo", "arg"));
 *   p.start();
 *
 * See docs/probes.md.
 */

// Probes
export { probes } from "./probes/probes.js";
export type { ProbeSummary, InstrumentSummary } from "./probes/probes.js";
export { Probe, InstrumentMap } from "./probes/probe.js";
export type { ProbeStatus } from "./probes/probe.js";

// Instruments
export { Instrument } from "./instruments/instrument.js";
export type {
  CustomSettings,
  InstrumentEvent,
  InstrumentOptions,
  InstrumentStatus,
} from "./instruments/instrument.js";
export { LogInstrument, formatLine } from "./instruments/log.js";
export type { LogInstrumentOptions, LogSink } from "./instruments/log.js";
export { HistogramInstrument, IncrementInstrument, StatsdInstrument } from "./instruments/metrics.js";
export type { MetricInstrumentOptions } from "./instruments/metrics.js";
export { ProbeTestInstrument } from "./instruments/probe-test.js";
export { DogStatsD, defaultStatsClient, setDefaultStatsClient } from "./instruments/dogstatsd.js";
export type { DogStatsDOptions, StatsClient } from "./instruments/dogstatsd.js";

// Events and expressions
export { EventNamespace } from "./expressions/namespace.js";
export type { EventKind } from "./expressions/namespace.js";
export type { HotspotsReport, LineTime, LineStats } from "./hotspots.js";

// Manager
export { InstrumentManager, manager, mag, defaultGlobalNamespace } from "./manager/manager.js";
export type { Tags, TagValue } from "./manager/manager.js";

// Test helpers
export { sensor, Sensor } from "./sensor.js";
export type { SensorOptions } from "./sensor.js";

// Errors
export {
  ExpressionSyntaxError,
  InstrumentOptionsError,
  InstrumentValueError,
  InvalidEventError,
  ProbeExistsError,
  TargetNotLoadedError,
  UnknownNameError,
} from "./probes/errors.js";
export { DiagnoseError, InvalidTargetError, LineNotFoundError, TargetNotFoundError } from "./registry/index.js";
