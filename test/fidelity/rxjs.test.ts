/**
 * Fidelity on rxjs (its shipped `src/`): generated operator pipelines, subjects, marble tests and
 * promise conversions give the same emissions, errors (class, message, identity of user errors)
 * and user-callback calls in the plain build and in the instrumented build with every site off,
 * every site on (low-level watch, no-op watcher) and no-op probes attached.
 */
import { test } from "node:test";
import fc from "fast-check";
import { build } from "./build-corpus.js";
import { assertSameBehaviour, generate, runVariants, summary } from "./harness.js";
import type { Case, FnSpec, Inner, Op, PredSpec, Src, TimeOp } from "./drivers/rxjs.js";

const small = fc.integer({ min: -3, max: 9 });
const values = fc.array(small, { minLength: 1, maxLength: 8 });
const fnSpec: fc.Arbitrary<FnSpec> = fc.record(
  {
    k: fc.constantFrom("add", "mul", "mod", "neg", "sq"),
    n: fc.integer({ min: 0, max: 4 }),
    throwAt: fc.integer({ min: -3, max: 12 }),
  },
  { requiredKeys: ["k", "n"] },
) as fc.Arbitrary<FnSpec>;
const predSpec: fc.Arbitrary<PredSpec> = fc.record(
  {
    mod: fc.integer({ min: 0, max: 3 }),
    rem: fc.integer({ min: 0, max: 2 }),
    throwAt: fc.integer({ min: -3, max: 12 }),
  },
  { requiredKeys: ["mod", "rem"] },
);

const leaf: fc.Arbitrary<Src> = fc.oneof(
  fc.record({ k: fc.constantFrom("of", "array", "iter", "throw"), v: values }),
  fc.record({ k: fc.constant("range"), start: small, count: fc.integer({ min: 0, max: 8 }) }),
  fc.record({ k: fc.constant("generate"), n: fc.integer({ min: 0, max: 8 }) }),
  fc.record({ k: fc.constant("empty") }),
) as fc.Arbitrary<Src>;

const innerSpec: fc.Arbitrary<Inner> = fc.oneof(
  fc.record({ k: fc.constant("pair"), f: fnSpec }),
  fc.record({ k: fc.constant("range"), m: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ k: fc.constant("throwAt"), at: small }),
  fc.record({ k: fc.constant("empty") }),
) as fc.Arbitrary<Inner>;

const { src, ops } = fc.letrec<{ src: Src; ops: Op[]; op: Op }>((tie) => ({
  src: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { arbitrary: leaf, weight: 3 },
    {
      arbitrary: fc.record({
        k: fc.constantFrom("merge", "concat", "zip", "combineLatest", "race", "forkJoin", "onErrorResumeNext"),
        a: tie("src"),
        b: tie("src"),
      }),
      weight: 2,
    },
    { arbitrary: fc.record({ k: fc.constant("defer"), a: tie("src") }), weight: 1 },
    { arbitrary: fc.record({ k: fc.constant("pipe"), a: tie("src"), ops: tie("ops") }), weight: 2 },
  ) as fc.Arbitrary<Src>,
  ops: fc.array(tie("op") as fc.Arbitrary<Op>, { minLength: 1, maxLength: 5 }),
  op: fc.oneof(
    fc.record({ k: fc.constantFrom("map", "scan", "reduce", "distinct", "expand"), f: fnSpec }),
    fc.record(
      {
        k: fc.constantFrom("filter", "takeWhile", "skipWhile", "first", "last", "find", "findIndex", "every", "single"),
        p: predSpec,
        inclusive: fc.boolean(),
        dflt: fc.option(small),
      },
      { requiredKeys: ["k", "p"] },
    ),
    fc.record({
      k: fc.constantFrom(
        "take",
        "skip",
        "takeLast",
        "skipLast",
        "elementAt",
        "retry",
        "repeat",
        "startWith",
        "endWith",
        "defaultIfEmpty",
      ),
      n: fc.integer({ min: 0, max: 3 }),
    }),
    fc.record({
      k: fc.constant("bufferCount"),
      n: fc.integer({ min: 1, max: 3 }),
      every: fc.option(fc.integer({ min: 1, max: 3 })),
    }),
    fc.record({ k: fc.constant("groupBy"), n: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ k: fc.constantFrom("mergeMap", "concatMap", "switchMap", "exhaustMap"), inner: innerSpec }),
    fc.record({ k: fc.constant("catchError"), mode: fc.constantFrom("replace", "rethrow", "wrap", "retryOnce") }),
    fc.record({
      k: fc.constantFrom(
        "zipWith",
        "mergeWith",
        "concatWith",
        "withLatestFrom",
        "sequenceEqual",
        "combineLatestWith",
        "raceWith",
      ),
      s: leaf,
    }),
    fc.record({
      k: fc.constantFrom(
        "tap",
        "finalize",
        "count",
        "max",
        "min",
        "toArray",
        "isEmpty",
        "pairwise",
        "distinctUntilChanged",
        "materialize",
        "dematerialize",
        "ignoreElements",
        "throwIfEmpty",
        "share",
        "shareReplay",
      ),
    }),
  ) as fc.Arbitrary<Op>,
}));

const pipeCase = fc.record({
  t: fc.constant("pipe" as const),
  src,
  ops,
  unsubAfter: fc.option(fc.integer({ min: 1, max: 4 })),
}) as fc.Arbitrary<Case>;
const promiseCase: fc.Arbitrary<Case> = fc.record({
  t: fc.constant("promise" as const),
  src,
  ops,
  which: fc.constantFrom("first" as const, "last" as const),
});
const subjectCase: fc.Arbitrary<Case> = fc.record({
  t: fc.constant("subject" as const),
  kind: fc.constantFrom(
    "Subject" as const,
    "BehaviorSubject" as const,
    "ReplaySubject" as const,
    "AsyncSubject" as const,
  ),
  n: fc.integer({ min: 0, max: 3 }),
  script: fc.array(
    fc.tuple(
      fc.constantFrom("sub", "sub", "unsub", "next", "next", "next", "error", "complete", "value", "observed"),
      fc.integer({ min: 0, max: 3 }),
    ),
    { maxLength: 14 },
  ),
});
const timeOp: fc.Arbitrary<TimeOp> = fc.record({
  k: fc.constantFrom("debounceTime", "throttleTime", "auditTime", "delay", "bufferTime", "timeout", "sampleTime"),
  n: fc.integer({ min: 1, max: 6 }),
}) as fc.Arbitrary<TimeOp>;
const marble = fc
  .tuple(
    fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom(..."abcdefgh")), { maxLength: 7 }),
    fc.constantFrom("|", "#", "|"),
  )
  .map(([events, end]) => events.map(([gap, ch]) => "-".repeat(gap) + ch).join("") + end);
const marbleCase: fc.Arbitrary<Case> = fc.record({
  t: fc.constant("marble" as const),
  marble,
  ops: fc.array(
    fc.oneof(
      timeOp,
      ops.map((o) => o[0] ?? ({ k: "tap" } as Op)),
    ),
    { maxLength: 3 },
  ),
});

test("rxjs: plain vs instrumented (sites off, dormant, all on, no-op probes)", { timeout: 300_000 }, async (t) => {
  const b = build("rxjs");
  const s = b.stats;
  t.diagnostic(
    `rxjs@${s.version}: ${s.files} files, ${s.lines} lines (${s.codeLines} code), ${s.functions} functions, ${s.sites} sites, ${b.fresh ? "built" : "cached"}`,
  );
  const inputs: Case[] = [
    ...generate(pipeCase, 300, 1),
    ...generate(promiseCase, 60, 2),
    ...generate(subjectCase, 120, 3),
    ...generate(marbleCase, 120, 4),
  ];
  const outputs = await runVariants(b, "rxjs", "all", inputs);
  t.diagnostic(summary(outputs, inputs));
  assertSameBehaviour(outputs, inputs, "rxjs");
});
