/**
 * The names every instrument expression can read besides the event's own (a manager's
 * `globalNamespace` starts as `defaultGlobalNamespace()`), and the tag types instruments send.
 */
import { performance } from "node:perf_hooks";

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
