/** The instruments of a probe by key: a real Map whose changes reach its probe at once. */
import { Instrument } from "../instruments/instrument.js";
import { InstrumentOptionsError } from "./errors.js";
import type { Probe } from "./probe.js";

/**
 * The instruments of a probe by key. A real Map: `set`, `delete` and `clear` take effect at once,
 * also while probed calls are in flight.
 */
export class InstrumentMap extends Map<string, Instrument> {
  #probe: Probe | undefined;

  /** @internal */
  constructor(probe: Probe) {
    super();
    this.#probe = probe;
  }

  /**
   * Attaches `instrument` under `key` (replacing any other instrument there). Throws if it is not an
   * Instrument, or if its "line:N" has no line site in the already loaded target.
   */
  override set(key: string, instrument: Instrument): this {
    const probe = this.#probe;
    if (probe === undefined) return super.set(key, instrument);
    if (!(instrument instanceof Instrument)) {
      throw new InstrumentOptionsError(
        `probe.instruments.set(${JSON.stringify(key)}, …) needs an Instrument (e.g. new LogInstrument(name, value)).`,
      );
    }
    probe.checkLine(instrument);
    const old = super.get(key);
    super.set(key, instrument);
    if (old !== undefined && old !== instrument) this.release(old);
    instrument.observers.add(probe.observer);
    probe.keysChanged([key], instrument);
    return this;
  }

  override delete(key: string): boolean {
    const old = super.get(key);
    if (!super.delete(key)) return false;
    if (old !== undefined) this.release(old);
    this.#probe?.keysChanged([key], undefined);
    return true;
  }

  override clear(): void {
    const olds = [...super.entries()];
    super.clear();
    for (const [, old] of olds) this.release(old);
    this.#probe?.keysChanged(
      olds.map(([key]) => key),
      undefined,
    );
  }

  private release(inst: Instrument): void {
    const probe = this.#probe;
    if (probe === undefined) return;
    for (const v of super.values()) if (v === inst) return;
    inst.observers.delete(probe.observer);
  }
}
