/**
 * `diagnose/testing`: helpers for tests of code built with Diagnose. They record what a probe
 * sees so a test can assert on it; they are not meant for production services.
 *
 *   import { sensor } from "diagnose/testing";
 *   using s = sensor("src/shop/cart.ts:Cart.total");
 *   cart.total(5);
 *   assert.deepEqual(s.results, [5]);
 *
 * See docs/probes.md.
 */

export { sensor, Sensor } from "./sensor.js";
export type { SensorOptions } from "./sensor.js";
export { ProbeTestInstrument } from "../instruments/probe-test.js";

// Breakpoints: park a call at a site until the test releases it (docs/breakpoints.md).
export {
  Breakpoint,
  BreakpointAbortedError,
  BreakpointCallbackError,
  BreakpointConditionNotMetError,
  BreakpointErrors,
  BreakpointMisuseError,
  BreakpointTimeoutError,
  BreakpointWaitTimeoutError,
  BreakpointWorkerError,
  Hit,
  run,
  RunChain,
  RunResult,
  TaskPromise,
} from "../breakpoints/index.js";
export type { BreakpointEvent, BreakpointOptions, Condition, Predicate, WaitOptions } from "../breakpoints/index.js";

// The conformance suite every spec store must pass (docs/stores.md).
export { storeConformance } from "./store-conformance.js";
