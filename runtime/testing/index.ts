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
