/**
 * diagnose: probes for live TypeScript/JavaScript services. Log, count and time any function or
 * line of code built with the diagnose compiler pass, switched on and off at run time.
 *
 *   import { probes, LogInstrument } from "diagnose";
 *   const p = probes.attachTo("src/shop/cart.ts:Cart.total");
 *   p.instruments.set("foo", new LogInstrument("foo", "arg"));
 *   p.start();
 *
 * See docs/probes.md. Test helpers live in "diagnose/testing", the low-level registry contract in
 * "diagnose/registry".
 *
 * Exports are listed by name (no `export *`): everything here is public API, and a new export is a
 * decision.
 */

import { ProbeTestInstrument as ProbeTestInstrumentClass } from "./instruments/probe-test.js";
import { Sensor as SensorClass, sensor as sensorFunction } from "./testing/sensor.js";
import type { SensorOptions as SensorOptionsType } from "./testing/sensor.js";

// Probes (a Probe is made by `probes.attachTo()`, its InstrumentMap by the probe: types only)
export { probes } from "./probes/probes.js";
export type { ProbeSummary, InstrumentSummary } from "./probes/probes.js";
export type { Probe, InstrumentMap, ProbeStatus } from "./probes/probe.js";

// Instruments
export { Instrument } from "./instruments/instrument.js";
export type {
  CustomSettings,
  InstrumentEvent,
  InstrumentOptions,
  InstrumentStatus,
} from "./instruments/instrument.js";
export { LogInstrument } from "./instruments/log.js";
export type { LogInstrumentOptions, LogSink } from "./instruments/log.js";
export { HistogramInstrument, IncrementInstrument, StatsdInstrument } from "./instruments/metrics.js";
export type { MetricInstrumentOptions } from "./instruments/metrics.js";
export { DogStatsD, defaultStatsClient, setDefaultStatsClient } from "./instruments/dogstatsd.js";
export type { DogStatsDOptions, StatsClient } from "./instruments/dogstatsd.js";

export { ChannelInstrument, channelName } from "./instruments/channel.js";
export type { ChannelMessage } from "./instruments/channel.js";
export { StructuredLogInstrument, logSinks, jsonLinesSink } from "./instruments/structured-log.js";
export type { ProbeRecord, StructuredLogOptions, StructuredSink } from "./instruments/structured-log.js";

// Per-request scoping and attaching everything
export { scope, scoped, scopable, DEFAULT_SCOPE } from "./scope.js";
export { attachAll } from "./attach-all.js";
export type { AttachAllOptions, AttachTarget, AttachedAll } from "./attach-all.js";

// Budgets, capture and redaction (docs/budgets.md)
export { configureBudgets, DEFAULT_CPU_BUDGET } from "./budgets/cpu.js";
export type { BudgetOptions, CpuBudgetOptions, ThrottleInfo } from "./budgets/cpu.js";
export { DEFAULT_RATE } from "./budgets/rate.js";
export type { RateLimit } from "./budgets/rate.js";
export { DEFAULT_LINES_PER_SECOND } from "./instruments/log.js";
export { capture, CaptureMarker, CapturedError, DEFAULT_CAPTURE_LIMITS, REDACTED } from "./capture/capture.js";
export type { CaptureLimits } from "./capture/capture.js";
export { configureRedaction, DEFAULT_SECRET_WORDS, Redactor, redactorOf } from "./capture/redact.js";
export type { RedactionOptions } from "./capture/redact.js";

// Events and expressions (an EventNamespace is made per event by the runtime: a type only)
export type { EventNamespace, EventKind } from "./expressions/namespace.js";
export type { HotspotsReport, LineTime, LineStats } from "./hotspots.js";
export type { CompiledExpression, NamespaceSource } from "./expressions/expression.js";
export { SafeExpression, GETTER, PROXY } from "./expressions/safe/index.js";
export type { Marker } from "./expressions/safe/index.js";

// Manager, specs and stores
export {
  InstrumentManager,
  manager,
  defaultProcessId,
  ManagerOptionsError,
  ReadOnlySpecsError,
} from "./manager/manager.js";
export type { InstrumentClasses, InstrumentManagerOptions, Tags, TagValue } from "./manager/manager.js";
export { defaultInstrumentClasses } from "./instruments/classes.js";
export type { ApplyReport, InstrumentClass } from "./manager/reconcile.js";
export type { AppliedStatus, InstrumentSpec, Spec, SpecDocument } from "./manager/spec.js";
export { canonicalSpec, signSpec, verifySpecSignature, SpecSigningError } from "./manager/signing.js";
// Failpoints: pause, error and delay specs, applied only with the manager's `failpoints: true`.
export {
  FAILPOINT_LIMITS,
  FAILPOINT_TYPES,
  FailpointSpecError,
  FailpointsOffError,
  InjectedFailpointError,
} from "./failpoints/index.js";
export type { SignatureVerdict, SpecSignature } from "./manager/signing.js";
export {
  generateSigningKeyPair,
  keyIdOf,
  loadTrustedKeys,
  parsePublicKey,
  parseSigningKey,
  trustedKey,
  SigningKeyError,
} from "./manager/signing-keys.js";
export type { SigningKey, TrustedKey, TrustedKeyInput } from "./manager/signing-keys.js";
export {
  fileStore,
  memoryStore,
  mongodbStore,
  postgresStore,
  redisStore,
  withSnapshot,
  STALE_LABEL,
  openStore,
  InvalidStoreUriError,
  SpecConflictError,
  StoreDriverMissingError,
  StoreFormatError,
  StoreUnavailableError,
} from "./manager/stores/index.js";
export type {
  FileStore,
  FileStoreOptions,
  MemorySpecs,
  MemoryStore,
  MongoCollectionLike,
  MongoStore,
  MongoStoreOptions,
  PgPoolLike,
  PostgresStore,
  PostgresStoreOptions,
  ProcessReport,
  RedisClientLike,
  RedisStore,
  RedisStoreOptions,
  SnapshotStore,
  PutOptions,
  RemoveOptions,
  SpecSnapshot,
  SpecStore,
  StoreChange,
  StoreSubscription,
  StoredSpec,
} from "./manager/stores/index.js";

// Errors: every error a user of this entry point can receive.
export { DiagnoseError, describeError } from "../errors/index.js";
export {
  CodeGenerationRefusedError,
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  InstrumentOptionsError,
  InstrumentValueError,
  InvalidEventError,
  ProbeExistsError,
  TargetNotLoadedError,
  UnknownNameError,
  UnsafeExpressionError,
} from "./probes/errors.js";
export {
  AbiMismatchError,
  CopiesUnavailableError,
  InvalidOptionsError,
  InvalidTargetError,
  LineNotFoundError,
  PauseNotAwaitableError,
  SyncPauseError,
  TargetNotFoundError,
  WatcherError,
} from "./registry/index.js";

// Test helpers, moved to "diagnose/testing". The aliases below keep them importable from here
// for one minor version; JSDoc `@deprecated` makes editors strike them through.

/** @deprecated Import `sensor` from "diagnose/testing"; this re-export will be removed in the next minor version. */
export const sensor: typeof sensorFunction = sensorFunction;
/** @deprecated Import `Sensor` from "diagnose/testing"; this re-export will be removed in the next minor version. */
export const Sensor: typeof SensorClass = SensorClass;
/** @deprecated Import `Sensor` from "diagnose/testing"; this re-export will be removed in the next minor version. */
export type Sensor = SensorClass;
/** @deprecated Import `SensorOptions` from "diagnose/testing"; this re-export will be removed in the next minor version. */
export type SensorOptions = SensorOptionsType;
/** @deprecated Import `ProbeTestInstrument` from "diagnose/testing"; this re-export will be removed in the next minor version. */
export const ProbeTestInstrument: typeof ProbeTestInstrumentClass = ProbeTestInstrumentClass;
/** @deprecated Import `ProbeTestInstrument` from "diagnose/testing"; this re-export will be removed in the next minor version. */
export type ProbeTestInstrument = ProbeTestInstrumentClass;
