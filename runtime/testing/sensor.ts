/**
 * `sensor()`: a recording instrument attached for the length of a block, for tests.
 *
 *   using s = sensor("src/shop/cart.ts:Cart.total");
 *   cart.total(5);
 *   assert.deepEqual(s.results, [5]);
 *
 * or, with a callback: `sensor(target, {}, () => cart.total(5)).results`. The sensor removes itself
 * at the end of the block, also when the block throws, and stops the probe if it started it. A
 * target whose module has not loaded is refused (TargetNotLoadedError): the block could record
 * nothing.
 */
import type { CustomSettings, InstrumentEvent } from "../instruments/instrument.js";
import { ProbeTestInstrument } from "../instruments/probe-test.js";
import type { InstrumentManager } from "../manager/manager.js";
import { lookupTarget } from "../registry/index.js";
import { TargetNotLoadedError } from "../probes/errors.js";
import type { Probe } from "../probes/probe.js";
import { probes } from "../probes/probes.js";

export interface SensorOptions {
  /** Default "result". */
  value?: string;
  /** Default: the target. */
  name?: string;
  /** Default "return". */
  event?: InstrumentEvent;
  custom?: CustomSettings;
  mgr?: InstrumentManager;
}

let counter = 0;

/** A ProbeTestInstrument that removes itself on `remove()` / `[Symbol.dispose]()`. */
export class Sensor extends ProbeTestInstrument implements Disposable {
  readonly probe: Probe;
  /** Its key in `probe.instruments`. */
  readonly key: string;
  private startedProbe = false;
  private removed = false;

  /** @internal */
  constructor(target: string, options: SensorOptions) {
    const { value = "result", name = target, event = "return", custom, mgr } = options;
    super(name, value, { event, ...(custom ? { custom } : {}), ...(mgr ? { mgr } : {}) });
    this.probe = probes.attachTo(target);
    this.key = `sensor:${++counter}`;
    this.probe.instruments.set(this.key, this);
    if (!this.probe.started) {
      this.startedProbe = true;
      try {
        this.probe.start();
      } catch (err) {
        this.remove();
        throw err;
      }
    }
    if (this.probe.status === "pending") {
      // Nothing could ever be recorded in the block: an empty `results` would pass for "not called".
      this.remove();
      const found = lookupTarget(target);
      throw new TargetNotLoadedError(target, found.state === "not-loaded" ? found.nearest : []);
    }
  }

  /** Detaches the sensor (idempotent); stops the probe if the sensor started it and it is now empty. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    if (this.probe.instruments.get(this.key) === this) this.probe.instruments.delete(this.key);
    if (this.startedProbe && this.probe.instruments.size === 0) this.probe.stop();
  }

  [Symbol.dispose](): void {
    this.remove();
  }
}

/** Attaches a recording instrument to `target`; dispose it (`using`) or call `remove()`. */
export function sensor(target: string, options?: SensorOptions): Sensor;
/**
 * Runs `body` with a sensor attached and returns the sensor (a promise of it when `body` returns a
 * promise); the sensor is removed when the body ends, returns or throws.
 */
export function sensor(target: string, options: SensorOptions, body: (s: Sensor) => Promise<unknown>): Promise<Sensor>;
export function sensor(target: string, options: SensorOptions, body: (s: Sensor) => unknown): Sensor;
export function sensor(
  target: string,
  options: SensorOptions = {},
  body?: (s: Sensor) => unknown,
): Sensor | Promise<Sensor> {
  const s = new Sensor(target, options);
  if (body === undefined) return s;
  let out: unknown;
  try {
    out = body(s);
  } catch (err) {
    s.remove();
    throw err;
  }
  if (typeof (out as PromiseLike<unknown> | undefined)?.then === "function") {
    return Promise.resolve(out).then(
      () => {
        s.remove();
        return s;
      },
      (err: unknown) => {
        s.remove();
        throw err;
      },
    );
  }
  s.remove();
  return s;
}
