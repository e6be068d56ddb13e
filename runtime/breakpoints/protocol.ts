/**
 * Messages between a breakpoint (test thread) and the worker threads it started. A call that
 * reaches the breakpoint's event in the worker posts a `hit` and blocks its thread with
 * `Atomics.wait` until the test thread answers (`Answer`), which it does at once unless the call
 * is to park: then only on release. The answer travels on the same MessagePort and is read
 * synchronously (`receiveMessageOnPort`), since the blocked worker runs no event loop.
 */
import type { BreakpointEvent } from "./hit.js";

/** Int32 cells of the shared buffer. */
export const ARMED = 0;
/** Sequence number of the latest answer posted. */
export const ANSWERED = 1;
export const CELLS = 2;

export interface WorkerConfig {
  readonly target: string;
  readonly event: BreakpointEvent;
  readonly timeoutMs: number;
  readonly cells: SharedArrayBuffer;
  readonly moduleUrl: string;
  readonly exportName: string;
  readonly args: readonly unknown[];
}

export type FromWorker =
  | {
      readonly type: "hit";
      readonly seq: number;
      readonly event: BreakpointEvent;
      readonly args: readonly unknown[];
      readonly self: unknown;
      readonly locals: Record<string, unknown>;
      readonly result: unknown;
      readonly error: unknown;
      readonly stack: readonly string[];
      readonly isAsync: boolean;
      /** When the call was caught: `performance.timeOrigin + performance.now()` of the worker. */
      readonly at: number;
    }
  | { readonly type: "timeout"; readonly seq: number }
  | { readonly type: "armed"; readonly state: string; readonly error: unknown }
  | { readonly type: "done"; readonly value: unknown }
  | { readonly type: "failed"; readonly error: unknown };

export type Answer =
  | { readonly seq: number; readonly action: "go" }
  | { readonly seq: number; readonly action: "throw"; readonly error: unknown }
  | { readonly seq: number; readonly action: "return"; readonly value: unknown }
  | { readonly seq: number; readonly action: "delay"; readonly ms: number };

/**
 * A structured clone of `value`, or a description of it where it cannot be cloned (functions,
 * class instances with private state, …). Never throws.
 */
export function cloneable(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    if (Array.isArray(value)) return value.map(cloneable);
    try {
      if (typeof value === "function") return `[function ${value.name || "(anonymous)"}]`;
      if (typeof value === "object" && value !== null) {
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(value)) out[key] = cloneable(Object.getOwnPropertyDescriptor(value, key)?.value);
        return out;
      }
      return String(value);
    } catch {
      return "[not cloneable]";
    }
  }
}
