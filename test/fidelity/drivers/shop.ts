/**
 * Fidelity driver for this project's example service (examples/shop): checkouts and carts built
 * from generated orders, recording order ids, totals and errors.
 */
import { driverMain, isMain, type Serializer } from "../driver-common.js";

export interface Case {
  skus: string[];
  discount: number;
  /** Extra cart lines [sku, price, quantity] added directly to a Cart (quantity ≤ 0 throws). */
  lines: [string, number, number | null][];
}

async function run(modules: Map<string, Record<string, unknown>>, inputs: Case[], ser: Serializer): Promise<unknown[]> {
  const { checkout, priceOf } = modules.get("src/checkout.js") as {
    checkout: (s: string[], d: number) => Promise<unknown>;
    priceOf: (s: string) => number;
  };
  const { Cart } = modules.get("src/cart.js") as {
    Cart: new () => { add(s: string, p: number, q?: number): unknown; total(d: number): number; items: unknown[] };
  };
  const results: unknown[] = [];
  // Concurrent checkouts interleave at their await; ids must come out in the same order.
  const concurrent = await Promise.all(inputs.slice(0, 20).map((c) => checkout(c.skus, c.discount)));
  results.push(ser.value(concurrent));
  for (const c of inputs) {
    const trace: unknown[] = [];
    try {
      trace.push(["checkout", ser.value(await checkout(c.skus, c.discount))]);
      trace.push(["prices", c.skus.map((s) => priceOf(s))]);
      const cart = new Cart();
      for (const [sku, price, qty] of c.lines) {
        try {
          const r = qty === null ? cart.add(sku, price) : cart.add(sku, price, qty);
          trace.push(["add", r === cart]);
        } catch (e) {
          trace.push(["add threw", ser.error(e)]);
        }
      }
      trace.push(["total", ser.value(cart.total(c.discount)), ser.value(cart.items)]);
    } catch (e) {
      trace.push(["threw", ser.error(e)]);
    }
    results.push(trace);
  }
  return results;
}

if (isMain(import.meta.url)) await driverMain(run, { sampleEvery: 1 });
