/**
 * Site flags: one global variable per site (`$dg_<hash>_<id>`), read by instrumented code as a plain
 * identifier. V8 folds such a global to a constant while nobody has written it, so a flag is
 * written only when its value really changes (each write deoptimizes the functions that folded it).
 */
import { flagName } from "../abi.js";

const global = globalThis as unknown as Record<string, boolean>;

/**
 * Defines flags `0..count-1` of a module as own, non-enumerable, writable, configurable `false`
 * properties of globalThis, leaving existing ones (and their current value) alone: an ESM module's
 * `data:` import, or another instance of the same module, may have defined them already.
 */
export function defineFlags(hash: string, count: number): void {
  for (let id = 0; id < count; id++) {
    const name = flagName(hash, id);
    if (!Object.hasOwn(global, name)) {
      Object.defineProperty(global, name, { value: false, writable: true, configurable: true, enumerable: false });
    }
  }
}

/**
 * Switching on is a plain write. Switching off deletes the property and defines it afresh: V8 keeps
 * a global's value in a property cell that, once written, stays "mutable" forever, so code
 * optimized later would load and test the flag at every site. A new cell is constant again, and
 * TurboFan folds the guard away as if the probe had never been on. Measured on Node 20 (a loop
 * over three instrumented functions, one process per run, 6 runs each): after an on/off cycle,
 * 1.5–2.6× the never-touched time with plain writes, 0.8–1.3× with redefinition (one outlier 1.6);
 * Node 22/24 showed no consistent difference. The price is one more deoptimization of functions
 * optimized while on.
 * Nothing runs between the delete and the define, so no guard can see the flag missing.
 */
export function writeFlag(hash: string, id: number, on: boolean): void {
  const name = flagName(hash, id);
  try {
    if (on) {
      global[name] = true;
    } else {
      delete global[name];
      Object.defineProperty(global, name, { value: false, writable: true, configurable: true, enumerable: false });
    }
  } catch {
    // Someone made the flag non-configurable or read-only: a plain write is the best we can do,
    // and even that must not throw (this runs inside hooks when a failing watch is closed).
    try {
      global[name] = on;
    } catch {
      // The flag keeps its value; the hooks find no watch and return at once.
    }
  }
}

/** The current value of a flag (tests and diagnostics; the registry keeps its own copy). */
export function readFlag(hash: string, id: number): boolean | undefined {
  return global[flagName(hash, id)];
}
