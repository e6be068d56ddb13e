/**
 * Site flags: one global variable per site (`$dg_<hash>_<id>`), read by instrumented code as a plain
 * identifier. V8 folds such a global to a constant while nobody has written it, so a flag is
 * written only when its value really changes (each write deoptimizes the functions that folded it).
 */
import { flagName } from "../../abi/index.js";

const global = globalThis as unknown as Record<string, boolean>;

/**
 * Flag names by module hash, each built on its first write: a manager switching a thousand
 * targets on and off writes thousands of flags, and a name built anew for every write is a string
 * to allocate and to look up in the string table before the property itself.
 */
const names = new Map<string, string[]>();

function nameOf(hash: string, id: number): string {
  let list = names.get(hash);
  if (list === undefined) names.set(hash, (list = []));
  return (list[id] ??= flagName(hash, id));
}

/**
 * Defines flags `0..count-1` of a module, or only those in `ranges` (inclusive `[first, last]`
 * pairs: the table's `l`, the flags its code reads at load), as own, non-enumerable, writable,
 * configurable `false` properties of globalThis, leaving existing ones (and their current value)
 * alone: an ESM module's `data:` import, or another instance of the same module, may have defined
 * them already.
 */
export function defineFlags(hash: string, count: number, ranges?: readonly (readonly [number, number])[]): void {
  if (ranges === undefined) {
    defineRange(hash, 0, count - 1);
    return;
  }
  for (const [first, last] of ranges) defineRange(hash, first, last);
}

function defineRange(hash: string, first: number, last: number): void {
  for (let id = first; id <= last; id++) {
    const name = flagName(hash, id);
    if (!Object.hasOwn(global, name)) {
      Object.defineProperty(global, name, { value: false, writable: true, configurable: true, enumerable: false });
    }
  }
}

/**
 * Switching on is a plain write. Switching off deletes the property and defines it afresh instead
 * of writing `false`. The hope was that a new property cell is constant again and TurboFan folds
 * the guard as if the probe had never been on; deterministic instruction counts (callgrind, see
 * docs/runtime.md) show it does not fold again either way. With the hooks kept out of line
 * (dispatch.ts, "inlining barrier"), redefinition still measured better than a plain write on the
 * class-heavy and rxjs benchmarks after an on→off cycle (3,666 vs 4,734 and 28,781 vs 30,034
 * instructions per operation) and worse on the micro one (1,026 vs 673), so it stays.
 * Nothing runs between the delete and the define, so no guard can see the flag missing.
 */
export function writeFlag(hash: string, id: number, on: boolean): void {
  const name = nameOf(hash, id);
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
