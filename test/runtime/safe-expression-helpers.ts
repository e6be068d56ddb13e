/**
 * Evaluates safe expressions on real instrumented code: one module with a few functions, a
 * ProbeTestInstrument with `expressions: "safe"` per expression, the function called for real.
 */
import {
  InstrumentManager,
  ProbeTestInstrument,
  probes,
  type Instrument,
  type InstrumentOptions,
  type Probe,
} from "../../runtime/index.js";
import { loadInstrumented, type InstrumentedModule } from "../helpers/instrumented.js";

export const SOURCE = `export function order(cart: any, { user, region }: any, ...rest: any[]) {
  const total = 1;
  return cart;
}
export function step(input: any) {
  const local = input;
  const count = 2;
  return local;
}
export function pass(value: any) {
  return value;
}
`;

export type Shop = {
  order(cart: unknown, opts: unknown, ...rest: unknown[]): unknown;
  step(input: unknown): unknown;
  pass(value: unknown): unknown;
};

/** A manager that keeps instrument errors instead of printing them. */
export class QuietManager extends InstrumentManager {
  readonly errors: unknown[] = [];
  override handleError(_probe: Probe, _instrument: Instrument | undefined, error: unknown): void {
    this.errors.push(error);
  }
}

export interface Outcome {
  readonly value?: unknown;
  readonly error?: unknown;
}

let counter = 0;
export async function loadShop(): Promise<InstrumentedModule<Shop>> {
  return loadInstrumented<Shop>(SOURCE, `src/safe${++counter}/shop.ts`);
}

/**
 * Attaches one safe instrument to `fn` of `m`, runs `call`, detaches, and gives the value the
 * instrument saw or the error it recorded. Construction errors are thrown.
 */
export function evaluateOn(
  m: InstrumentedModule<Shop>,
  fn: keyof Shop,
  expression: string,
  call: (s: Shop) => unknown,
  options: InstrumentOptions = {},
): Outcome {
  const mgr = (options.mgr as InstrumentManager | undefined) ?? new QuietManager();
  const inst = new ProbeTestInstrument("t", expression, { expressions: "safe", ...options, mgr });
  const target = m.qualified(fn);
  const p = probes.attachTo(target);
  try {
    p.instruments.set("t", inst);
    p.start();
    call(m.exports);
  } finally {
    probes.remove(target);
  }
  if (inst.lastError !== undefined) return { error: inst.lastError };
  if (inst.results.length !== 1) throw new Error(`expected one event, got ${inst.results.length} for ${expression}`);
  return { value: inst.results[0] };
}
