/**
 * The one registry of a realm lives in `globalThis[Symbol.for("diagnose.registry")]`. What a copy
 * of the runtime finds there when it loads (or when its API is first used):
 *
 * - nothing: it creates the registry and puts it there;
 * - a registry of the same ABI (another copy: CJS and ESM builds, a nested install): it uses that
 *   one, so every copy drives the same flags;
 * - the inline bootstrap of instrumented modules that loaded first (`{ abi, queue, register }`):
 *   it creates the registry, puts it in the slot, and adopts every queued table;
 * - anything else (a registry of another ABI): it leaves it alone and works as a no-op; its watches
 *   fail with AbiMismatchError.
 */
import { ABI_VERSION, REGISTRY_KEY, type HookBinder, type ModuleTable } from "../../abi/index.js";
import { Registry } from "./core.js";
import { AbiMismatchError } from "./errors.js";
import type { SharedRegistry } from "./types.js";

const SLOT = Symbol.for(REGISTRY_KEY);
const global = globalThis as unknown as Record<typeof SLOT, unknown>;

interface Bootstrap {
  abi: number;
  /** Each module registered before the runtime loaded: its table and the binder of its hooks. */
  queue: [ModuleTable, HookBinder][];
  register(table: ModuleTable, bind: HookBinder): ModuleTable;
}

function isRegistry(x: unknown): x is SharedRegistry {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Partial<SharedRegistry>;
  return (
    r.abi === ABI_VERSION &&
    typeof r.protocol === "number" &&
    r.protocol >= 1 &&
    typeof r.register === "function" &&
    typeof r.watch === "function" &&
    typeof r.listFunctions === "function"
  );
}

function isBootstrap(x: unknown): x is Bootstrap {
  if (typeof x !== "object" || x === null) return false;
  const b = x as Partial<Bootstrap> & { watch?: unknown };
  return b.abi === ABI_VERSION && Array.isArray(b.queue) && typeof b.register === "function" && b.watch === undefined;
}

function adopt(boot: Bootstrap, registry: Registry): void {
  // Anyone still holding the bootstrap object registers with the real registry from now on.
  try {
    boot.register = (table, bind) => registry.register(table, bind);
  } catch {
    // A frozen bootstrap: the slot no longer points at it, so nothing new reaches it anyway.
  }
  const queued = boot.queue.splice(0);
  for (const entry of queued) {
    if (Array.isArray(entry)) registry.register(entry[0] as ModuleTable, entry[1] as HookBinder);
  }
}

/** The realm's registry, created (and bootstrap tables adopted) if needed, or why there is none. */
export function currentRegistry(): SharedRegistry | AbiMismatchError {
  const found = global[SLOT];
  if (isRegistry(found)) return found;
  if (found === undefined || found === null) {
    const registry = new Registry();
    global[SLOT] = registry;
    return registry;
  }
  if (isBootstrap(found)) {
    const registry = new Registry();
    global[SLOT] = registry;
    adopt(found, registry);
    return registry;
  }
  const abi = typeof found === "object" ? (found as { abi?: unknown }).abi : undefined;
  return new AbiMismatchError(abi ?? "unknown", ABI_VERSION);
}
