/**
 * "diagnose/opentelemetry" with the real SDK: spans around sync and async probed functions (parent
 * from the active context, attributes, error status and exception event, timing), metrics through
 * a MeterProvider and its in-memory exporter, and the no-op path before any SDK is registered.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { context, metrics, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { otelMetricInstruments, SpanInstrument } from "../../../integrations/sinks/opentelemetry.js";
import { InstrumentOptionsError, manager, probes } from "../../../runtime/index.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { specDoc, stopManagers, testManager } from "../../runtime/manager/helpers.js";

const SRC = `export function price(qty: number, unit: number) {
  if (qty < 0) throw new RangeError("negative quantity");
  return qty * unit;
}
export async function load(id: string, fail: boolean) {
  await new Promise((r) => setTimeout(r, 15));
  if (fail) throw new Error("not found: " + id);
  return { id };
}
`;
type M = { price(q: number, u: number): number; load(id: string, fail: boolean): Promise<{ id: string }> };

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
let m: Awaited<ReturnType<typeof loadInstrumented<M>>>;
const attached: string[] = [];

before(async () => {
  m = await loadInstrumented<M>(SRC, "src/otel/cart.ts");
});
after(async () => {
  for (const t of attached) probes.remove(t);
  await stopManagers();
  await tracerProvider.shutdown();
  trace.disable();
  context.disable();
  metrics.disable();
});

const hrMs = (t: readonly [number, number]) => t[0] * 1000 + t[1] / 1e6;

describe("SpanInstrument", () => {
  test("without an SDK it is a no-op and the call is unchanged", () => {
    const t = m.qualified("price");
    attached.push(t);
    const p = probes.attachTo(t);
    const inst = new SpanInstrument("price", "({ qty })");
    p.instruments.set("span", inst);
    p.start();
    assert.equal(m.exports.price(2, 3), 6);
    assert.equal(inst.status, "live");
    assert.equal(exporter.getFinishedSpans().length, 0);
    p.instruments.delete("span");
  });

  test("a span per call, child of the active span, with attributes and ERROR status on throw", () => {
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    trace.setGlobalTracerProvider(tracerProvider);
    exporter.reset();
    const t = m.qualified("price");
    const p = probes.attachTo(t);
    p.instruments.set("span", new SpanInstrument("price", "({ qty, unit })", { custom: { tags: '({ shop: "eu" })' } }));
    p.start();
    const parent = trace.getTracer("test").startSpan("request");
    context.with(trace.setSpan(context.active(), parent), () => {
      assert.equal(m.exports.price(2, 3), 6);
      assert.throws(() => m.exports.price(-1, 3), RangeError);
    });
    parent.end();
    const spans = exporter.getFinishedSpans().filter((s) => s.name === "price");
    assert.equal(spans.length, 2);
    const [ok, bad] = spans as [(typeof spans)[0], (typeof spans)[0]];
    assert.deepEqual(ok.attributes, { qty: 2, unit: 3, shop: "eu", "code.function": t });
    assert.equal(ok.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(ok.spanContext().traceId, parent.spanContext().traceId);
    assert.equal(ok.status.code, SpanStatusCode.UNSET);
    assert.equal(bad.status.code, SpanStatusCode.ERROR);
    assert.equal(bad.status.message, "negative quantity");
    assert.equal(bad.events[0]?.name, "exception");
    assert.equal(bad.events[0]?.attributes?.["exception.message"], "negative quantity");
    p.instruments.delete("span");
  });

  test("async functions: the span covers the awaited time and ends when the promise settles", async () => {
    exporter.reset();
    const t = m.qualified("load");
    attached.push(t);
    const p = probes.attachTo(t);
    p.instruments.set("span", new SpanInstrument("load", "({ id })"));
    p.start();
    const parent = trace.getTracer("test").startSpan("request");
    await context.with(trace.setSpan(context.active(), parent), async () => {
      const results = await Promise.allSettled([
        m.exports.load("a", false),
        m.exports.load("b", true),
        m.exports.load("c", false),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "fulfilled"],
      );
    });
    parent.end();
    const spans = exporter.getFinishedSpans().filter((s) => s.name === "load");
    assert.equal(spans.length, 3);
    const byId = new Map(spans.map((s) => [s.attributes["id"], s]));
    assert.equal(byId.get("b")?.status.code, SpanStatusCode.ERROR);
    assert.equal(byId.get("a")?.status.code, SpanStatusCode.UNSET);
    for (const s of spans) {
      assert.equal(s.parentSpanContext?.spanId, parent.spanContext().spanId);
      const ms = hrMs(s.endTime) - hrMs(s.startTime);
      assert.ok(ms >= 10 && ms < 5_000, `span lasted ${ms} ms`);
    }
  });

  test("from a spec (safe expressions), and a non-return event is refused", async () => {
    exporter.reset();
    const t = m.qualified("price");
    const { mgr } = testManager();
    mgr.instrumentClasses.span = SpanInstrument;
    mgr.specs.set("s", specDoc(t, { type: "span", name: "spec-span", value: "{ q: qty }" }));
    const report = await mgr.apply();
    assert.equal(m.exports.price(4, 1), 4);
    assert.deepEqual(
      exporter.getFinishedSpans().map((s) => [s.name, s.attributes["q"]]),
      [["spec-span", 4]],
      JSON.stringify(report),
    );
    assert.throws(() => new SpanInstrument("x", "1", { event: "call" }), InstrumentOptionsError);
  });

  test("importing diagnose/opentelemetry is all a spec needs to name span, otel_counter and otel_histogram", async () => {
    exporter.reset();
    const t = m.qualified("price");
    const { mgr } = testManager();
    // Nothing registered by hand: the import added the types to every manager's defaults.
    assert.equal(mgr.instrumentClasses["span"], SpanInstrument);
    assert.equal(typeof mgr.instrumentClasses["otel_counter"], "function");
    assert.equal(typeof mgr.instrumentClasses["otel_histogram"], "function");
    assert.equal(manager.instrumentClasses["span"], SpanInstrument, "the default manager has it too");
    mgr.specs.set("default-span", specDoc(t, { type: "span", name: "default-span", value: "{ u: unit }" }));
    mgr.specs.set("default-calls", specDoc(t, { type: "otel_counter", name: "default_calls", value: "1" }));
    const report = await mgr.apply();
    assert.deepEqual(report.refused, [], JSON.stringify(report));
    assert.equal(m.exports.price(2, 5), 10);
    assert.deepEqual(
      // The earlier test's manager still has its span on this function.
      exporter
        .getFinishedSpans()
        .filter((s) => s.name === "default-span")
        .map((s) => [s.name, s.attributes["u"]]),
      [["default-span", 5]],
    );
  });
});

describe("otelMetricInstruments", () => {
  test("counters and histograms through the SDK's in-memory exporter, with a cap on attribute sets", async () => {
    const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const otel = otelMetricInstruments({ meter: provider.getMeter("diagnose-test"), maxLabelSets: 2 });
    const t = m.qualified("price");
    const p = probes.attachTo(t);
    p.instruments.set("c", new otel.Counter("price_calls", "1", { custom: { tags: "({ unit })" } }));
    p.instruments.set("h", new otel.Histogram("price_total", "result"));
    p.start();
    for (const unit of [1, 1, 2, 3, 3]) m.exports.price(5, unit);
    await reader.forceFlush();
    const all = metricExporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const counter = all.find((x) => x.descriptor.name === "price_calls");
    const hist = all.find((x) => x.descriptor.name === "price_total");
    assert.deepEqual(counter?.dataPoints.map((d) => [d.attributes["unit"], d.value]).sort(), [
      ["1", 2],
      ["2", 1],
    ]);
    assert.equal(otel.dropped(), 2, "unit=3 is a third attribute set past the cap of 2");
    const h = hist?.dataPoints[0]?.value as { count: number; sum: number } | undefined;
    assert.equal(h?.count, 5);
    assert.equal(h?.sum, 50);
    p.instruments.clear();
    await provider.shutdown();
  });

  test("the global meter: a no-op before an SDK is registered, recorded after", async () => {
    const otel = otelMetricInstruments();
    const t = m.qualified("price");
    const p = probes.attachTo(t);
    const inst = new otel.Counter("global_calls", "1");
    p.instruments.set("g", inst);
    p.start();
    m.exports.price(1, 1);
    const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    m.exports.price(1, 1);
    m.exports.price(1, 1);
    await reader.forceFlush();
    const all = metricExporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    assert.equal(all.find((x) => x.descriptor.name === "global_calls")?.dataPoints[0]?.value, 2);
    assert.equal(inst.status, "live");
    p.instruments.clear();
    await provider.shutdown();
  });
});

describe("redaction", () => {
  test("span attributes: a secret-named key or tag holds the marker; a value reading a secret is one marker", async () => {
    const auth = await loadInstrumented<{ login(user: string, apiKey: string): number }>(
      "export function login(user: string, apiKey: string) { return user.length + apiKey.length; }\n",
      "src/otel-redact/auth.ts",
    );
    const t = auth.qualified("login");
    attached.push(t);
    exporter.reset();
    const tracer = tracerProvider.getTracer("redaction-test");
    const p = probes.attachTo(t);
    p.instruments.set(
      "a",
      new SpanInstrument("login", "({ user, api_key: user, nested: { password: user } })", {
        tracer,
        custom: { tags: "({ authorization: 'x', tier: 'gold' })" },
      }),
    );
    p.instruments.set("b", new SpanInstrument("key", "apiKey", { tracer }));
    p.start();
    assert.equal(auth.exports.login("ann", "k-123"), 8);
    const byName = new Map(exporter.getFinishedSpans().map((s) => [s.name, s.attributes]));
    assert.deepEqual(byName.get("login"), {
      user: "ann",
      api_key: "[Redacted]",
      nested: "{ password: [Redacted] }",
      authorization: "[Redacted]",
      tier: "gold",
      "code.function": t,
    });
    assert.deepEqual(byName.get("key"), { "diagnose.value": "[Redacted]", "code.function": t });
    assert.ok(!JSON.stringify([...byName.values()]).includes("k-123"));
  });

  test("an OpenTelemetry metric whose value reads a secret is refused at apply, with the reason in the status", async () => {
    const t = m.qualified("price");
    const { mgr } = testManager();
    mgr.specs.set("bad", specDoc(t, { type: "otel_histogram", name: "pw", value: "locals.password_length" }));
    await mgr.apply();
    const st = mgr.status()["bad"];
    assert.equal(st?.state, "error");
    assert.match(String(st?.err), /reads "password_length", a name that looks secret/);
  });
});
