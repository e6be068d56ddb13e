/**
 * The instrument manager: the process-wide policy every instrument consults. For now it holds the
 * global namespace of expressions, the call filter, the tags added to every metric and log line,
 * and the error handler. Store-driven spec application (specs, apply, per-process status) will
 * grow on this class: every policy an instrument consults is a method here, so a subclass (or a
 * store-backed manager) can change it without touching probes.
 */
import { performance } from "node:perf_hooks";
import { describeError } from "../../errors/index.js";
import type { Instrument } from "../instruments/instrument.js";
import type { Probe } from "../probes/probe.js";

/** A tag value: sent as `k:v` to DogStatsD and printed as `k=v` by LogInstrument. */
export type TagValue = string | number | boolean | bigint;
export type Tags = Record<string, TagValue>;

/**
 * The integer magnitude of a number or of a size: floor(log_base(n)) for n > 0, -1 otherwise.
 * Strings and arrays use their length, Maps and Sets their size, other objects their key count.
 */
export function mag(value: unknown, base = 10): number {
  let size: number;
  if (typeof value === "number") size = value;
  else if (typeof value === "bigint") size = Number(value);
  else if (typeof value === "string" || Array.isArray(value)) size = value.length;
  else if (value instanceof Map || value instanceof Set) size = value.size;
  else if (ArrayBuffer.isView(value)) size = value.byteLength;
  else if (typeof value === "object" && value !== null) size = Object.keys(value).length;
  else return -1;
  if (!(size > 0) || !Number.isFinite(size)) return -1;
  // Guard the float error of log(1000)/log(10) = 2.9999999999999996.
  const m = Math.floor(Math.log(size) / Math.log(base) + 1e-9);
  return m;
}

/**
 * The names every expression can use besides the event's own, the JavaScript counterparts of the
 * original library's `datetime`, `math`, `time` and `mag`:
 * - `datetime`: the `Date` constructor (`datetime.now()`, `new datetime(start)`);
 * - `math`: the `Math` object;
 * - `time`: `performance` (`time.now()` in ms, high resolution, same clock as `start`/`end`);
 * - `mag(x, base = 10)`: integer magnitude of a number or a size (see `mag`).
 * JavaScript's own globals (`Math`, `JSON`, `Date`, `process`…) are visible too.
 */
export function defaultGlobalNamespace(): Record<string, unknown> {
  return { datetime: Date, math: Math, time: performance, mag };
}

export class InstrumentManager {
  /** Names every instrument expression of this manager can read (mutable; see defaultGlobalNamespace). */
  globalNamespace: Record<string, unknown> = defaultGlobalNamespace();
  /** Tags added to every instrument's tags (they win over an instrument's own tags of the same key). */
  tags: Tags = {};
  /** Where the default `handleError` writes its line. */
  errorOutput: { write(line: string): unknown } = process.stderr;

  /**
   * Decides whether an instrument takes part in one call; called once per call at its entry with
   * the call's arguments (one per parameter). Default: true. Override to filter, e.g. by user id.
   */
  checkCall(_probe: Probe, _args: readonly unknown[], _instrument?: Instrument): boolean {
    return true;
  }

  /** Tags merged into every instrument's tags (default: `this.tags`). Do not mutate the result. */
  getTags(): Tags {
    return this.tags;
  }

  /**
   * Called once when an instrument fails (it is already disabled, and its error recorded on it), or
   * with `instrument` undefined when a probe fails (e.g. its target vanished). Default: one line on
   * stderr naming the probe and the error.
   */
  handleError(probe: Probe, instrument: Instrument | undefined, error: unknown): void {
    const who = instrument === undefined ? "" : `instrument ${JSON.stringify(instrument.name)} of `;
    const what = instrument === undefined ? "failed" : "failed and was disabled";
    this.errorOutput.write(`diagnose: ${who}probe ${probe.target} ${what}: ${describeError(error)}\n`);
  }
}

/** The process-wide default manager; instruments use it unless given `mgr`. */
export const manager = new InstrumentManager();
