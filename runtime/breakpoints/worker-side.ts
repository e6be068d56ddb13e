/**
 * The entry point of a worker started by `bp.startWorker()`. It watches the breakpoint's target in
 * this thread's registry, loads the module, calls the export, and reports the outcome. At a hit
 * the watcher posts it to the test thread and blocks this thread until the answer comes: how
 * synchronous code is parked (and async code too: its thread stops, with every other call on it).
 */
import { performance } from "node:perf_hooks";
import { receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { ANSWERED, ARMED, cloneable, type Answer, type FromWorker, type WorkerConfig } from "./protocol.js";
import { BreakpointTimeoutError } from "./errors.js";
import { captureStack, paramLocals, siteLocals, type BreakpointEvent } from "./hit.js";
import { now } from "./clock.js";
import { watch, type CallFrame, type FunctionInfo, type SiteInfo, type Watcher } from "../registry/index.js";

const { config, port } = workerData as { config: WorkerConfig; port: MessagePort };
const cells = new Int32Array(config.cells);
const ASYNC = 1;
let seq = 0;

function post(message: FromWorker): void {
  try {
    port.postMessage(message);
  } catch {
    // Cloned already; a failure here leaves the call to go on after the timeout.
  }
}

/** Sends a hit and blocks until the test thread answers, or the breakpoint's timeout passes. */
function ask(
  event: BreakpointEvent,
  fn: FunctionInfo | undefined,
  frame: CallFrame | undefined,
  locals: Record<string, unknown>,
  result: unknown,
  error: unknown,
): Answer | "timeout" | undefined {
  if (Atomics.load(cells, ARMED) === 0) return undefined;
  const mine = ++seq;
  post({
    type: "hit",
    seq: mine,
    event,
    args: cloneable(frame?.args ?? []) as unknown[],
    self: cloneable(frame?.self),
    locals: cloneable(locals) as Record<string, unknown>,
    result: cloneable(result),
    error: cloneable(error),
    stack: captureStack(),
    isAsync: fn !== undefined && (fn.flags & ASYNC) !== 0,
    at: performance.timeOrigin + now(),
  });
  const deadline = now() + config.timeoutMs;
  for (;;) {
    const answered = Atomics.load(cells, ANSWERED);
    if (answered >= mine) break;
    const left = deadline - now();
    if (left <= 0) {
      post({ type: "timeout", seq: mine });
      return "timeout";
    }
    Atomics.wait(cells, ANSWERED, answered, left);
  }
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    const answer = m.message as Answer;
    if (answer.seq === mine) return answer;
  }
  return undefined;
}

function sleepThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** What the answer asks of the call, for the sites that can throw. */
function fault(answer: Answer | "timeout" | undefined): { error: unknown } | undefined {
  if (answer === "timeout") return { error: new BreakpointTimeoutError(config.target, config.timeoutMs) };
  if (answer === undefined) return undefined;
  if (answer.action === "throw") return { error: answer.error };
  if (answer.action === "delay") sleepThread(answer.ms);
  return undefined;
}

let fnInfo: FunctionInfo | undefined;
const watcher: Watcher = {
  onEntry(frame) {
    if (config.event !== "call") return undefined;
    const f = fault(ask("call", frame.fn, frame, paramLocals(frame.fn, frame.args), undefined, undefined));
    return f === undefined ? undefined : { throw: f };
  },
  onReturn(frame, site: SiteInfo, value, locals) {
    if (config.event !== "return") return undefined;
    const answer = ask("return", frame?.fn ?? fnInfo, frame, siteLocals(site, locals), value, undefined);
    if (answer !== undefined && answer !== "timeout" && answer.action === "return") return { value: answer.value };
    const f = fault(answer);
    return f === undefined ? undefined : { throw: f };
  },
  onThrow(frame, _site, error) {
    if (config.event !== "error") return undefined;
    const answer = ask(
      "error",
      frame?.fn ?? fnInfo,
      frame,
      paramLocals(frame?.fn ?? fnInfo, frame?.args ?? []),
      undefined,
      error,
    );
    const f = answer === "timeout" ? undefined : fault(answer);
    return f;
  },
  onStateChange(state, error) {
    post({ type: "armed", state, error: cloneable(error) });
  },
};

async function main(): Promise<void> {
  const w = watch(config.target, watcher, { exits: config.event !== "call", timing: false });
  fnInfo = w.fn;
  post({ type: "armed", state: w.state, error: cloneable(w.error) });
  try {
    const mod = (await import(config.moduleUrl)) as Record<string, unknown>;
    fnInfo ??= w.fn;
    let fn: unknown = mod;
    let self: unknown = undefined;
    for (const part of config.exportName.split(".")) {
      self = fn;
      fn = (fn as Record<string, unknown> | undefined)?.[part];
    }
    if (typeof fn !== "function") {
      throw new TypeError(`${config.moduleUrl} has no exported function ${JSON.stringify(config.exportName)}.`);
    }
    const value: unknown = await (fn as (...a: unknown[]) => unknown).apply(self, [...config.args]);
    post({ type: "done", value: cloneable(value) });
  } catch (error) {
    post({ type: "failed", error: cloneable(error) });
  } finally {
    w.close();
    port.close();
  }
}

void main();
