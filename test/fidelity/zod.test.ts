/**
 * Fidelity on zod (its shipped `src/`: v4 classic API and the v3 implementation): generated
 * schemas parse generated inputs (mostly near-valid, some arbitrary) with the same results, issues,
 * error messages, formatted errors, JSON Schema, user-callback calls and user-error identity in
 * the plain build and in the instrumented build (dormant, off, all sites on, no-op probes).
 */
import { test } from "node:test";
import fc from "fast-check";
import { build } from "./build-corpus.js";
import { assertSameBehaviour, generate, runVariants, summary } from "./harness.js";
import { UNDEFINED, type Case, type NumCheck, type Schema, type StrCheck } from "./drivers/zod.js";

const word = fc.constantFrom("a", "ab", "x", "hello", "Zed", "@", ".", "com");
const strCheck: fc.Arbitrary<StrCheck> = fc.oneof(
  fc.record({ c: fc.constantFrom("min", "max", "length"), n: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ c: fc.constantFrom("email", "url", "uuid", "trim", "toLowerCase", "toUpperCase", "datetime", "ipv4") }),
  fc.record({ c: fc.constantFrom("startsWith", "endsWith", "includes", "regex"), s: word }),
) as fc.Arbitrary<StrCheck>;
const numCheck: fc.Arbitrary<NumCheck> = fc.oneof(
  fc.record({ c: fc.constantFrom("min", "max", "gt", "lt"), n: fc.integer({ min: -5, max: 10 }) }),
  fc.record({ c: fc.constant("multipleOf"), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ c: fc.constantFrom("int", "positive", "negative", "nonnegative", "finite") }),
) as fc.Arbitrary<NumCheck>;
const key = fc.constantFrom("a", "b", "id", "name", "tags");

const leaf: fc.Arbitrary<Schema> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant("string"), checks: fc.array(strCheck, { maxLength: 2 }) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant("number"), checks: fc.array(numCheck, { maxLength: 2 }) }), weight: 4 },
  fc.record({
    k: fc.constantFrom(
      "boolean",
      "null",
      "undefined",
      "any",
      "unknown",
      "never",
      "coerceNumber",
      "coerceString",
      "coerceBoolean",
      "nan",
    ),
  }),
  fc.record({
    k: fc.constant("literal"),
    v: fc.oneof(word, fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.constant(null)),
  }),
  fc.record({ k: fc.constant("enum"), values: fc.uniqueArray(word, { minLength: 1, maxLength: 3 }) }),
) as fc.Arbitrary<Schema>;

const { schema } = fc.letrec<{ schema: Schema }>((tie) => {
  const s = tie("schema") as fc.Arbitrary<Schema>;
  const shape = fc.uniqueArray(fc.tuple(key, s), { maxLength: 3, selector: ([k]) => k });
  return {
    schema: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      { arbitrary: leaf, weight: 5 },
      fc.record({
        k: fc.constant("array"),
        of: s,
        min: fc.option(fc.nat(3)),
        max: fc.option(fc.nat(4)),
        nonempty: fc.boolean(),
      }),
      fc.record({ k: fc.constant("tuple"), items: fc.array(s, { maxLength: 3 }), rest: fc.option(s) }),
      {
        arbitrary: fc.record({
          k: fc.constant("object"),
          shape,
          mode: fc.constantFrom("strip", "strict", "passthrough", "catchall"),
          partial: fc.boolean(),
        }),
        weight: 3,
      },
      fc.record({ k: fc.constant("record"), value: s }),
      fc.record({ k: fc.constantFrom("union", "intersection"), a: s, b: s }),
      fc.record({
        k: fc.constant("discriminated"),
        tag: fc.constantFrom("type", "kind"),
        options: fc.uniqueArray(fc.tuple(fc.constantFrom("x", "y", "z"), shape), {
          minLength: 1,
          maxLength: 3,
          selector: ([t]) => t,
        }),
      }),
      fc.record({ k: fc.constantFrom("optional", "nullable", "nullish", "lazy", "readonly"), s }),
      fc.record({ k: fc.constantFrom("default", "catch"), s, v: fc.oneof(fc.integer({ min: 0, max: 5 }), word) }),
      {
        arbitrary: fc.record({
          k: fc.constantFrom("transform", "preprocess"),
          s,
          f: fc.constantFrom("double", "string", "length", "throw"),
        }),
        weight: 2,
      },
      {
        arbitrary: fc.record({
          k: fc.constantFrom("refine", "superRefine"),
          s,
          mod: fc.integer({ min: 0, max: 3 }),
          throwAt: fc.option(fc.integer({ min: 0, max: 6 }), { freq: 3 }),
        }),
        weight: 2,
      },
      fc.record({ k: fc.constant("pipe"), a: s, b: s }),
    ) as fc.Arbitrary<Schema>,
  };
});

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constant(UNDEFINED),
  fc.constantFrom(
    "a@b.co",
    "https://x.org/p",
    "2024-01-02T03:04:05Z",
    "123e4567-e89b-12d3-a456-426614174000",
    "10.0.0.1",
    " Hello ",
    "true",
    "0",
    "",
  ),
);

/** Values close to what `s` accepts (so parses succeed often enough), or anything. */
function near(s: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 4) return anyValue;
  const valid = ((): fc.Arbitrary<unknown> => {
    switch (s.k) {
      case "string":
      case "coerceString":
        return fc.oneof(
          fc.string({ maxLength: 8 }),
          word,
          anyValue.filter((v) => typeof v === "string"),
        );
      case "number":
      case "coerceNumber":
        return fc.oneof(fc.integer({ min: -10, max: 20 }), fc.double({ noNaN: false }), fc.constantFrom("3", "x"));
      case "boolean":
      case "coerceBoolean":
        return fc.oneof(fc.boolean(), fc.constantFrom(0, 1, "", "no"));
      case "null":
        return fc.constant(null);
      case "undefined":
        return fc.constant(UNDEFINED);
      case "nan":
        return fc.constant(0);
      case "literal":
        return fc.constant(s.v);
      case "enum":
        return fc.constantFrom(...s.values);
      case "array":
        return fc.array(near(s.of, depth + 1), { maxLength: 5 });
      case "tuple":
        return fc.tuple(...s.items.map((x) => near(x, depth + 1)), ...(s.rest ? [near(s.rest, depth + 1)] : []));
      case "object":
        return fc
          .tuple(
            fc.tuple(...s.shape.map(([k, x]) => fc.tuple(fc.constant(k), near(x, depth + 1), fc.boolean()))),
            fc.option(fc.tuple(key, anyValue)),
          )
          .map(([entries, extra]) => {
            const o: Record<string, unknown> = {};
            for (const [k, v, keep] of entries) if (keep || depth % 2 === 0) o[k] = v;
            if (extra !== null) o[`extra_${extra[0]}`] = extra[1];
            return o;
          });
      case "record":
        return fc.dictionary(key, near(s.value, depth + 1), { maxKeys: 3 });
      case "union":
      case "intersection":
        return fc.oneof(near(s.a, depth + 1), near(s.b, depth + 1));
      case "discriminated":
        return fc.oneof(
          ...s.options.map(([tag, shape]) =>
            near({ k: "object", shape, mode: "strip", partial: false }, depth + 1).map((o) => ({
              ...(o as object),
              [s.tag]: tag,
            })),
          ),
        );
      case "optional":
      case "nullable":
      case "nullish":
      case "lazy":
      case "readonly":
      case "default":
      case "catch":
      case "transform":
      case "preprocess":
      case "refine":
      case "superRefine":
        return near(s.s, depth + 1);
      case "pipe":
        return near(s.a, depth + 1);
      default:
        return anyValue;
    }
  })();
  return fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: anyValue, weight: 1 });
}

const zodCase: fc.Arbitrary<Case> = schema.chain((s) =>
  fc.record({ schema: fc.constant(s), inputs: fc.array(near(s), { minLength: 1, maxLength: 4 }) }),
);

test("zod: plain vs instrumented (sites off, dormant, all on, no-op probes)", { timeout: 300_000 }, async (t) => {
  const b = build("zod");
  const s = b.stats;
  t.diagnostic(
    `zod@${s.version}: ${s.files} files, ${s.lines} lines (${s.codeLines} code), ${s.functions} functions, ${s.sites} sites, ${b.fresh ? "built" : "cached"}`,
  );
  const inputs = generate(zodCase, 400, 11);
  const outputs = await runVariants(b, "zod", "all", inputs);
  t.diagnostic(summary(outputs, inputs));
  assertSameBehaviour(outputs, inputs, "zod");
});
