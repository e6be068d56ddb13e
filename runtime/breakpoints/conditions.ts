/**
 * Which calls a breakpoint acts on. A condition is one of:
 * - nothing: every call;
 * - a number n: the n-th call that reaches the breakpoint's event, counted from 0;
 * - a list of numbers: each of those calls;
 * - a predicate over the call's arguments (`this` is the call's `this`): the calls it accepts.
 *   A call the predicate rejects does not count as a hit.
 */
import { BreakpointMisuseError } from "./errors.js";

export type Predicate = (this: unknown, ...args: readonly unknown[]) => unknown;
export type Condition = number | readonly number[] | Predicate;

export type ParsedCondition =
  | { readonly kind: "always" }
  | { readonly kind: "calls"; readonly calls: ReadonlySet<number>; readonly last: number }
  | { readonly kind: "predicate"; readonly test: Predicate };

const ALWAYS: ParsedCondition = { kind: "always" };

function isCallIndex(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0;
}

export function parseCondition(condition: Condition | undefined): ParsedCondition {
  if (condition === undefined) return ALWAYS;
  if (typeof condition === "function") return { kind: "predicate", test: condition };
  if (isCallIndex(condition)) return { kind: "calls", calls: new Set([condition]), last: condition };
  if (Array.isArray(condition) && condition.length > 0 && condition.every(isCallIndex)) {
    return { kind: "calls", calls: new Set(condition), last: Math.max(...condition) };
  }
  throw new BreakpointMisuseError(
    `A breakpoint condition must be a call number (from 0), a non-empty list of call numbers, or a ` +
      `predicate over the call's arguments; got ${describeCondition(condition)}.`,
  );
}

/** Whether the call numbered `call` can match without asking a predicate (numbers only). */
export function matchesCall(c: ParsedCondition, call: number): boolean {
  return c.kind !== "calls" || c.calls.has(call);
}

/** For "was not met" messages: what the condition waited for, and what was seen. */
export function unmetDetail(c: ParsedCondition, calls: number): string {
  switch (c.kind) {
    case "always":
      return `: it was never called (0 calls reached its event).`;
    case "calls": {
      const list = [...c.calls].sort((a, b) => a - b);
      const want = list.length === 1 ? `call #${list[0]!}` : `calls #${list.join(", #")}`;
      return `: waited for ${want} (counted from 0), and only ${calls} call${calls === 1 ? "" : "s"} (iterations) reached its event.`;
    }
    case "predicate":
      return `: the predicate accepted none of the ${calls} call${calls === 1 ? "" : "s"} that reached its event.`;
  }
}

function describeCondition(value: unknown): string {
  try {
    return Array.isArray(value) ? `[${value.map(String).join(", ")}]` : `${typeof value} ${String(value)}`;
  } catch {
    return typeof value;
  }
}
