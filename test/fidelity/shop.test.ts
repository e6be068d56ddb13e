/**
 * Fidelity on this project's own example (examples/shop, the service `npm run demo` runs): the
 * plain build (SWC type stripping only) and the instrumented build, with sites dormant, off, all
 * on, and no-op probes on every function, give the same order ids, totals, cart contents and errors.
 */
import { test } from "node:test";
import fc from "fast-check";
import { build } from "./build-corpus.js";
import { assertSameBehaviour, generate, runVariants, summary } from "./harness.js";
import type { Case } from "./drivers/shop.js";

const sku = fc.constantFrom("apple", "pear", "fig", "kiwi", "banana", "", "ünïcødé", "x".repeat(30));
const shopCase: fc.Arbitrary<Case> = fc.record({
  skus: fc.array(sku, { maxLength: 6 }),
  discount: fc.oneof(
    fc.constantFrom(0, 10, 100),
    fc.integer({ min: -50, max: 150 }),
    fc.double({ min: 0, max: 100, noNaN: true }),
  ),
  lines: fc.array(
    fc.tuple(
      sku,
      fc.oneof(fc.integer({ min: 0, max: 99 }), fc.double({ min: -10, max: 1e6, noNaN: true })),
      fc.option(fc.integer({ min: -2, max: 5 })),
    ),
    { maxLength: 5 },
  ),
});

test("examples/shop: plain vs instrumented (sites off, dormant, all on, no-op probes)", {
  timeout: 120_000,
}, async (t) => {
  const b = build("shop");
  const inputs = generate(shopCase, 300, 21);
  const outputs = await runVariants(b, "shop", "all", inputs);
  // The first result is the batch of concurrent checkouts; the cases follow.
  t.diagnostic(summary(outputs, inputs));
  assertSameBehaviour(outputs, [{ concurrent: inputs.slice(0, 20) }, ...inputs], "examples/shop");
});
