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
export type { CompiledExpression, NamespaceSource } from "./expressions/expression.js";
export { SafeExpression, GETTER, PROXY } from "./expressions/safe/index.js";
export type { Marker } from "./expressions/safe/index.js";

// Manager, specs and stores
export {
  InstrumentManager,
  manager,
  mag,
  defaultGlobalNamespace,
  defaultProcessId,
  ManagerOptionsError,
  ReadOnlySpecsError,
} from "./manager/manager.js";
export type { InstrumentClasses, InstrumentManagerOptions, Tags, TagValue } from "./manager/manager.js";
export { defaultInstrumentClasses } from "./instruments/classes.js";
export type { ApplyReport, InstrumentClass } from "./manager/reconcile.js";
export type { AppliedStatus, InstrumentSpec, Spec, SpecDocument } from "./manager/spec.js";
export {
  fileStore,
  memoryStore,
  openStore,
  InvalidStoreUriError,
  SpecConflictError,
  StoreFormatError,
  StoreUnavailableError,
} from "./manager/stores/index.js";
export type {
  FileStore,
  FileStoreOptions,
  MemorySpecs,
  MemoryStore,
  ProcessReport,
  PutOptions,
  RemoveOptions,
  SpecSnapshot,
  SpecStore,
  StoreChange,
  StoreSubscription,
  StoredSpec,
} from "./manager/stores/index.js";

// Test helpers
export { sensor, Sensor } from "./sensor.js";
export type { SensorOptions } from "./sensor.js";

// Errors
export {
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  InstrumentOptionsError,
  InstrumentValueError,
  InvalidEventError,
  ProbeExistsError,
  UnknownNameError,
  UnsafeExpressionError,
} from "./probes/errors.js";
export { DiagnoseError, InvalidTargetError, LineNotFoundError, TargetNotFoundError } from "./registry/index.js";
