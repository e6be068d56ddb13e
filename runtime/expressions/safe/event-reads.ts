/**
 * How a safe expression reads the event's own names at run time: `args[i]` and `args.length`,
 * `locals`, and the manager's global namespace. The generated code (compiler.ts) and the
 * interpreter (interpreter.ts) both call these, so the two evaluators read the same way.
 */
import { UnknownNameError } from "../../probes/errors.js";
import type { CallFrame } from "../../registry/index.js";
import type { NamespaceSource } from "../expression.js";
import { FRAME, LOCALS, type EventNamespace, type Layout, type NameSource } from "../namespace.js";
import { hasOwn, ownKeys, read, readOptional } from "./reader.js";

const defineProperty = Object.defineProperty;

/**
 * `args[0]`, `args.length` of the event's `args`: an array the namespace made (packed, from the
 * frame's), so its length and the elements below it are plain data. An index past the end would
 * be looked up on Array.prototype and Object.prototype, where a program may have put a getter: that
 * goes through the reader, as does undefined `args` (a call already running when the probe
 * started) for its error.
 */
export function readTrusted(a: unknown, k: number | "length"): unknown {
  if (a === undefined || a === null) return read(a, String(k));
  const arr = a as readonly unknown[];
  if (k === "length") return arr.length;
  return k < arr.length ? arr[k] : read(arr, String(k));
}

/**
 * `args[i]` before any rest parameter: the frame's own slot, the value `args` would copy (without
 * the copy); past the end, through the reader (see readTrusted). A call already running when the
 * probe started has no frame: `args` is undefined.
 */
export function frameArg(frame: CallFrame | undefined, i: number): unknown {
  if (frame === undefined) return read(undefined, String(i));
  const args = frame.args;
  return i < args.length ? args[i] : read(args, String(i));
}

export function readGlobal(layout: Layout, names: NamespaceSource, name: string, quiet: boolean): unknown {
  const g = names.globalNamespace;
  if (hasOwn(g, name)) return read(g, name);
  if (quiet) return undefined;
  // The evaluator does not know its event here: list the widest set of names ("return").
  throw new UnknownNameError(name, [...layout.allNames("return"), ...(ownKeys(g) ?? [])]);
}

/**
 * The event's `locals`, each value read as the names are (a destructured field through the reader).
 * Defined, not assigned: an assignment would run a setter a program put on Object.prototype under
 * that name; the descriptor has no prototype, so none of its fields is looked up there either.
 */
export function safeLocals(layout: Layout, ns: EventNamespace): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, src] of layout.names) {
    if (name === "__proto__") continue;
    defineProperty(out, name, {
      __proto__: null,
      value: readSource(ns, src),
      writable: true,
      enumerable: true,
      configurable: true,
    } as PropertyDescriptor);
  }
  return out;
}

function readSource(ns: EventNamespace, src: NameSource): unknown {
  if (src.from === "local") return ns[LOCALS]?.[src.index];
  const arg = ns[FRAME]?.args[src.index];
  return src.field === undefined ? arg : readOptional(arg, src.field);
}
