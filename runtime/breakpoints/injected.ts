/**
 * Errors breakpoints threw into calls on purpose (`Breakpoint.error`, `run().errorOn`): expected
 * outcomes of a task, which dispose does not rethrow.
 */
import { describeError } from "../../errors/index.js";

const injected = new WeakSet<object>();
const injectedMessages = new Set<string>();

export function markInjected(error: unknown): void {
  if (typeof error === "object" && error !== null) injected.add(error);
  const text = describeError(error);
  injectedMessages.add(text);
}

export function wasInjected(error: unknown): boolean {
  if (typeof error === "object" && error !== null && injected.has(error)) return true;
  // Errors from worker threads arrive as clones.
  return injectedMessages.has(describeError(error));
}
