/**
 * Fidelity on immer (its shipped `src/`): generated recipes give the same next states, patches,
 * inverse patches, structural sharing, freezing, errors and user-error identity in the plain and
 * the instrumented builds (dormant, off, all sites on, no-op probes).
 */
import { test } from "node:test";
import fc from "fast-check";
import { build } from "./build-corpus.js";
import { assertSameBehaviour, generate, runVariants, summary } from "./harness.js";
import type { Case, Edit } from "./drivers/immer.js";

const key = fc.constantFrom("a", "b", "list", "0", "1", "deep");
const path = fc.array(key, { minLength: 1, maxLength: 3 });
const value = fc.jsonValue({ maxDepth: 2 });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { arbitrary: fc.tuple(fc.constant("set" as const), path, value), weight: 4 },
  { arbitrary: fc.tuple(fc.constant("delete" as const), path), weight: 2 },
  fc.tuple(fc.constant("push" as const), path, value),
  fc.tuple(fc.constant("splice" as const), path, fc.integer({ min: -2, max: 3 }), fc.nat(2)),
  fc.tuple(fc.constant("mapSet" as const), key, value),
  fc.tuple(fc.constant("setAdd" as const), fc.integer({ min: 0, max: 4 })),
  fc.tuple(fc.constant("read" as const), path),
  { arbitrary: fc.tuple(fc.constant("throw" as const)), weight: 1 },
  { arbitrary: fc.tuple(fc.constant("replace" as const), fc.dictionary(key, value, { maxKeys: 2 })), weight: 1 },
) as fc.Arbitrary<Edit>;
const immerCase: fc.Arbitrary<Case> = fc.record({
  base: fc.record({
    a: value,
    b: fc.dictionary(key, value, { maxKeys: 3 }),
    list: fc.array(value, { maxLength: 4 }),
    deep: fc.constant({ x: { y: [1, { z: 2 }] } }),
  }),
  edits: fc.array(edit, { maxLength: 6 }),
});

test("immer: plain vs instrumented (sites off, dormant, all on, no-op probes)", { timeout: 120_000 }, async (t) => {
  const b = build("immer");
  const s = b.stats;
  t.diagnostic(
    `immer@${s.version}: ${s.files} files, ${s.lines} lines (${s.codeLines} code), ${s.functions} functions, ${s.sites} sites, ${b.fresh ? "built" : "cached"}`,
  );
  const inputs = generate(immerCase, 300, 31);
  const outputs = await runVariants(b, "immer", "all", inputs);
  t.diagnostic(summary(outputs, inputs));
  assertSameBehaviour(outputs, inputs, "immer");
});
