/** Shared pieces of the manager tests: managers on their own memory store, spec documents, waits. */
import { InstrumentManager, memoryStore, type InstrumentManagerOptions, type Spec } from "../../../runtime/index.js";

export interface TestManager {
  readonly mgr: InstrumentManager;
  /** What the manager wrote to its error output. */
  readonly lines: string[];
}

const made: InstrumentManager[] = [];

/** A manager on a fresh memory store (unless one is given), writing its lines to `lines`. */
export function testManager(options: InstrumentManagerOptions = {}): TestManager {
  const mgr = new InstrumentManager({ store: memoryStore(), processId: "test:1", ...options });
  const lines: string[] = [];
  mgr.errorOutput = { write: (line: string) => lines.push(line) };
  made.push(mgr);
  return { mgr, lines };
}

/** Stops every manager made by testManager (for after/afterEach). */
export async function stopManagers(): Promise<void> {
  for (const m of made.splice(0)) await m.stop();
}

/** A spec document (valid unless the overrides say otherwise), typed as the specs Map holds them. */
export function specDoc(
  target: unknown,
  instrument: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Spec {
  return {
    target,
    instrument: { type: "test", name: "t", value: "result", ...instrument },
    lifespan: null,
    lastmodified: new Date(),
    applied: {},
    ...extra,
  } as Spec;
}

/** Any value, typed as a spec (for hostile documents). */
export const raw = (doc: unknown): Spec => doc as Spec;

/** Resolves once `check()` is truthy; rejects after `timeout` ms. */
export async function until(check: () => unknown, timeout = 3_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
