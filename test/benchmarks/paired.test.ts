/**
 * The pure parts of the benchmark's two noise fixes: time ratios paired by round (paired.ts) and
 * reading callgrind's total / choosing the counted variants (instructions.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { instructionVariants, parseCollected } from "../../benchmarks/instructions.js";
import { pairByRound, pairedExtraPerHit, pairedRatio } from "../../benchmarks/paired.js";
import { VARIANTS, variantByName } from "../../benchmarks/variants.js";

test("a ratio divides each round's variant process by plain's process of the same round", () => {
  // Round 0: plain's process was the lucky fast one. "Best process" pooling would divide the
  // variant's best (20) by plain's best (10) and report 2×; pairing by round reports 1×.
  const r = pairedRatio([20, 20, 20], [10, 20, 20]);
  assert.deepEqual(r.perRound, [2, 1, 1]);
  assert.equal(r.median, 1);
  assert.equal(r.min, 1);
  assert.equal(r.max, 2);
});

test("the median is over rounds, the spread is their min and max", () => {
  const r = pairedRatio([11, 30, 12, 9, 50], [10, 20, 10, 10, 10]);
  assert.deepEqual(r.perRound, [1.1, 1.5, 1.2, 0.9, 5]);
  assert.equal(r.median, 1.2);
  assert.equal(r.min, 0.9);
  assert.equal(r.max, 5);
});

test("a round where either process failed is left out, not counted as zero", () => {
  const r = pairedRatio([null, 4, 6, 8], [2, 2, 2, undefined]);
  assert.deepEqual(r.perRound, [null, 2, 3, null]);
  assert.equal(r.median, 2.5);
  assert.equal(r.min, 2);
  assert.equal(r.max, 3);
  const none = pairedRatio([null], [1]);
  assert.ok(Number.isNaN(none.median));
  assert.deepEqual(none.perRound, [null]);
});

test("rounds missing at the end of one side are unpaired", () => {
  assert.deepEqual(pairByRound([1, 2, 3], [1], (a, b) => a - b).perRound, [0, null, null]);
});

test("extra ns per hit pairs the variant with its off state of the same round", () => {
  // Off state drifts from 100 to 200 ns/op between rounds; the probe adds 10 then 20 ns/op.
  const r = pairedExtraPerHit([110, 220], [100, 200], 10);
  assert.deepEqual(r.perRound, [1, 2]);
  assert.equal(r.median, 1.5);
});

test("callgrind's total is read from its closing summary, not from other numbers on stderr", () => {
  const stderr = [
    "==4242== Callgrind, a call-graph generating cache profiler",
    "==4242== Command: node --predictable child.js {}",
    "some program output: Collected : 5",
    "==4242== Events    : Ir",
    "==4242== Collected : 766767109",
    "==4242== ",
    "==4242== I   refs:      766,767,109",
  ].join("\n");
  assert.equal(parseCollected(stderr), 766767109);
  assert.equal(parseCollected("==1== Callgrind\n==1== Events : Ir\n"), undefined);
});

test("the counted variants: plain, untouched and on-off by default; istanbul only when asked for", () => {
  assert.deepEqual(instructionVariants(VARIANTS, false), ["plain", "untouched", "on-off"]);
  const asked = ["plain", "istanbul", "call-noop", "untouched"].map(variantByName);
  // call-noop is an active probe (its cost is far above timing noise): never counted.
  assert.deepEqual(instructionVariants(asked, true), ["plain", "istanbul", "untouched"]);
});
