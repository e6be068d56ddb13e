/**
 * Evaluates safe expressions on real instrumented code: one module with a few functions, a
 * ProbeTestInstrument with `expressions: "safe"` per expression, the function called for real.
 *
 * Every evaluation is made twice, at the same event: by the generated code (what the instrument
 * records) and by the interpreter (a twin instrument whose expressions are interpreted), and the
 * two must agree — the same value, or an error of the same class with the same message. So each
 * test of the language is also a test of the interpreter's equivalence.
 */
import assert from "node:assert/strict";
import {
  InstrumentManager,
  ProbeTestInstrument,
  probes,
  type Instrument,
  type InstrumentOptions,
  type Probe,
  SafeExpression,
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
 * instrument saw or the error it recorded. Construction errors are thrown. A safe instrument has
 * an interpreted twin at the same events; their outcomes must be the same (see the module's doc).
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
  const twin =
    options.expressions === "js"
      ? undefined
      : interpreted(new ProbeTestInstrument("twin", expression, { expressions: "safe", ...options, mgr }));
  const target = m.qualified(fn);
  const p = probes.attachTo(target);
  try {
    p.instruments.set("t", inst);
    if (twin !== undefined) p.instruments.set("twin", twin);
    p.start();
    call(m.exports);
  } finally {
    probes.remove(target);
  }
  const out = outcomeOf(inst, expression);
  if (twin !== undefined) assertSameOutcome(out, outcomeOf(twin, expression), expression);
  return out;
}

function outcomeOf(inst: ProbeTestInstrument, expression: string): Outcome {
  if (inst.lastError !== undefined) return { error: inst.lastError };
  if (inst.results.length !== 1) throw new Error(`expected one event, got ${inst.results.length} for ${expression}`);
  return { value: inst.results[0] };
}

/**
 * `inst` with its expressions evaluated by the interpreter. The fields are the instrument's
 * internals (readonly to its users); replacing them keeps everything else of the instrument —
 * condition first, then value, then tags, the same guards — as it is for the generated code.
 */
function interpreted(inst: ProbeTestInstrument): ProbeTestInstrument {
  const fields = inst as unknown as Record<string, SafeExpression | undefined>;
  const roles = { valueExpression: "value", tagsExpression: "tags", conditionExpression: "condition" };
  for (const [field, role] of Object.entries(roles)) {
    const compiled = fields[field];
    if (compiled !== undefined) fields[field] = SafeExpression.interpreted(compiled.source, role);
  }
  return inst;
}

/** The interpreter's outcome is the generated code's: the same value, or the same error. */
export function assertSameOutcome(compiled: Outcome, interpreted: Outcome, expression: string): void {
  const what = `the interpreter and the generated code disagree on ${JSON.stringify(expression)}`;
  if ("error" in compiled || "error" in interpreted) {
    const describe = (o: Outcome) =>
      "error" in o ? `${(o.error as Error)?.constructor?.name}: ${(o.error as Error)?.message}` : "no error";
    assert.equal(describe(interpreted), describe(compiled), what);
  } else assert.deepStrictEqual(interpreted.value, compiled.value, what);
}
