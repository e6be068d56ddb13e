import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "../../../runtime/manager/backoff.js";

/** Delays of `n` failures in a row at time `now`. */
function failures(b: Backoff, n: number, now = 0): number[] {
  return Array.from({ length: n }, () => b.failed(now));
}

test("retries double from the minimum, with jitter between half and all of each step", () => {
  const b = new Backoff(
    1_000,
    () => 60_000,
    () => 30_000,
  );
  const steps = [1_000, 2_000, 4_000, 8_000, 16_000];
  for (const [i, d] of failures(b, steps.length).entries()) {
    const step = steps[i] as number;
    assert.ok(d >= step / 2 && d <= step, `retry ${i}: ${d} ms is not within [${step / 2}, ${step}]`);
  }
});

test("the delay never passes the cap, and the cap is read on every failure so it follows an option", () => {
  let cap = 5_000;
  const b = new Backoff(
    1_000,
    () => cap,
    () => 30_000,
  );
  for (const d of failures(b, 10)) assert.ok(d <= 5_000, `${d} ms passed the 5,000 ms cap`);
  cap = 2_000;
  assert.ok(b.failed(0) <= 2_000);
  // A cap below the minimum cannot make the retries faster than the minimum allows.
  cap = 10;
  const d = b.failed(0);
  assert.ok(d >= 500 && d <= 1_000, `${d}`);
});

test("a short healthy spell keeps the backoff; a healthy period resets it to the minimum", () => {
  const b = new Backoff(
    1_000,
    () => 60_000,
    () => 30_000,
  );
  failures(b, 4, 0); // next step 16 s
  b.succeeded(1_000);
  const flapped = b.failed(2_000); // healthy for 1 s only: a flapping store
  assert.ok(flapped >= 8_000, `a flapping store got a ${flapped} ms retry`);
  b.succeeded(3_000);
  b.succeeded(20_000); // the healthy period counts from the first success
  const afterHealthy = b.failed(33_000);
  assert.ok(afterHealthy <= 1_000, `after 30 s healthy the retry is ${afterHealthy} ms`);
});
