/**
 * The instrument types a spec can name with no registration: log, hist, incr, test, and the
 * structured log (`slog`, to a sink registered in logSinks) and diagnostics_channel (`channel`)
 * instruments that docs/sinks.md documents. Each is applied from a spec and fires.
 */
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { after, before, describe, test } from "node:test";
import {
  ChannelInstrument,
  defaultInstrumentClasses,
  logSinks,
  probes,
  type ProbeRecord,
  StructuredLogInstrument,
} from "../../../runtime/index.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { specDoc, stopManagers, testManager } from "./helpers.js";

const SRC = `export function price(qty: number, unit: number) {
  return qty * unit;
}
`;
type M = { price(q: number, u: number): number };

let m: Awaited<ReturnType<typeof loadInstrumented<M>>>;
before(async () => {
  m = await loadInstrumented<M>(SRC, "src/default-types/price.ts");
});
after(async () => {
  await stopManagers();
  probes.remove(m.qualified("price"));
  logSinks.delete("default-types");
});

describe("default instrument types", () => {
  test("the table names the documented classes", () => {
    const classes = defaultInstrumentClasses();
    assert.deepEqual(Object.keys(classes).slice(0, 6), ["log", "hist", "incr", "test", "slog", "channel"]);
    assert.equal(classes["slog"], StructuredLogInstrument);
    assert.equal(classes["channel"], ChannelInstrument);
  });

  test("a spec of type slog logs fields to a registered sink, and one of type channel publishes", async () => {
    const records: ProbeRecord[] = [];
    logSinks.set("default-types", (record) => records.push(record));
    const published: unknown[] = [];
    const onMessage = (message: unknown) => published.push(message);
    subscribe("diagnose:price-channel", onMessage);
    try {
      const { mgr } = testManager();
      const t = m.qualified("price");
      mgr.specs.set(
        "s",
        specDoc(t, { type: "slog", name: "price-log", value: "{ qty, result }", custom: { sink: "default-types" } }),
      );
      mgr.specs.set("c", specDoc(t, { type: "channel", name: "price-channel", value: "result" }));
      const report = await mgr.apply();
      assert.deepEqual(report.refused, [], JSON.stringify(report));
      assert.equal(m.exports.price(3, 4), 12);
      assert.deepEqual(
        records.map((r) => [r.target, r.instrument, r.value]),
        [[t, "price-log", { qty: 3, result: 12 }]],
      );
      assert.deepEqual(
        published.map((p) => [(p as { target: string }).target, (p as { value: unknown }).value]),
        [[t, 12]],
      );
    } finally {
      unsubscribe("diagnose:price-channel", onMessage);
    }
  });
});
