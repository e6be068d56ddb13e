/**
 * Peer: a shimmer / OpenTelemetry-style wrapper. The probed function is replaced by a closure
 * that checks whether the instrumentation is enabled and calls a hook before delegating with
 * `original.apply(this, arguments)` — what `shimmer.wrap(nodule, name, wrapper)` plus a typical
 * OTel `patch()` produce. The shim build appends one line to the probed module:
 *
 *   clamp = globalThis.__benchShim.fn(clamp);                        // a function declaration
 *   globalThis.__benchShim.method(Vec.prototype, "add");             // a prototype method
 *
 * so calls from inside the module go through the wrapper too (the best case for a monkey-patcher,
 * which usually only reaches the exports).
 */
import type { ShimTarget } from "../catalog.js";

export interface ShimState {
  enabled: boolean;
  hits: number;
  /** The functions as they were before wrapping (for the V8 status report). */
  readonly originals: Map<string, Function>;
  fn<F extends Function>(original: F): F;
  method(proto: Record<string, unknown>, name: string): void;
}

/** Installs `globalThis.__benchShim`; `enabled` decides whether wrapped calls reach the hook. */
export function installShim(enabled: boolean): ShimState {
  const state: ShimState = {
    enabled,
    hits: 0,
    originals: new Map(),
    fn(original) {
      state.originals.set(original.name, original);
      return wrap(original) as unknown as typeof original;
    },
    method(proto, name) {
      const original = proto[name] as Function;
      state.originals.set(name, original);
      Object.defineProperty(proto, name, {
        value: wrap(original),
        writable: true,
        configurable: true,
        enumerable: false,
      });
    },
  };
  function hook(args: IArguments): void {
    state.hits++;
    void args;
  }
  function wrap(original: Function): Function {
    // shimmer keeps `name`/`length` of the original and marks the wrapper; so do we.
    const wrapped = function (this: unknown) {
      if (state.enabled) hook(arguments);
      return original.apply(this, arguments);
    };
    Object.defineProperty(wrapped, "name", { value: original.name });
    Object.defineProperty(wrapped, "__original", { value: original });
    return wrapped;
  }
  (globalThis as Record<string, unknown>)["__benchShim"] = state;
  return state;
}

/** The line the shim build appends to the probed module. */
export function shimLine(target: ShimTarget): string {
  return target.kind === "binding"
    ? `\n${target.name} = globalThis.__benchShim.fn(${target.name});\n`
    : `\nglobalThis.__benchShim.method(${target.cls}.prototype, ${JSON.stringify(target.name)});\n`;
}
