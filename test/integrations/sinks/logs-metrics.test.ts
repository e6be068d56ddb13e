/**
 * The log and metric adapters with the real packages: pino and winston writing to in-process
 * streams (structured fields, not only the line), prom-client counters and histograms (re-applied
 * and replaced specs, bounded label sets), and a hot-shots client sending over a real UDP socket.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { after, afterEach, describe, test } from "node:test";
import StatsD from "hot-shots";
import { pino } from "pino";
import client from "prom-client";
import winston from "winston";
import { hotShotsClient } from "../../../integrations/sinks/hot-shots.js";
import { pinoSink } from "../../../integrations/sinks/pino.js";
import { prometheusInstruments } from "../../../integrations/sinks/prometheus.js";
import { winstonSink } from "../../../integrations/sinks/winston.js";
import {
  HistogramInstrument,
  IncrementInstrument,
  logSinks,
  probes,
  StructuredLogInstrument,
} from "../../../runtime/index.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { specDoc, stopManagers, testManager } from "../../runtime/manager/helpers.js";

const SRC = `export function price(qty: number, unit: number, tenant: string) {
  return qty * unit;
}
`;
type M = { price(q: number, u: number, tenant: string): number };

let n = 0;
const attached: string[] = [];
async function probed(): Promise<{ m: M; target: string }> {
  const loaded = await loadInstrumented<M>(SRC, `src/lm${++n}/cart.ts`);
  const target = loaded.qualified("price");
  attached.push(target);
  return { m: loaded.exports, target };
}
afterEach(async () => {
  for (const t of attached.splice(0)) probes.remove(t);
  await stopManagers();
});

function collector(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("log sinks", () => {
  test("pino: one entry per event with the probe's fields and the formatted message", async () => {
    const { m, target } = await probed();
    const out = collector();
    const logger = pino({ base: null, timestamp: false }, out.stream);
    const p = probes.attachTo(target);
    p.instruments.set(
      "l",
      new StructuredLogInstrument("cart", "({ qty, total: result })", {
        sink: pinoSink(logger, { level: "warn" }),
        custom: { tags: "({ tenant })" },
      }),
    );
    p.start();
    assert.equal(m.price(2, 4, "acme"), 8);
    assert.deepEqual(out.lines(), [
      {
        level: 40,
        probe: { target, instrument: "cart", event: "return", value: { qty: 2, total: 8 }, tags: { tenant: "acme" } },
        msg: "Probe (cart)[tenant=acme] = { qty: 2, total: 8 }",
      },
    ]);
  });

  test("winston from a spec naming a registered sink", async () => {
    const { m, target } = await probed();
    const out = collector();
    const logger = winston.createLogger({
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream: out.stream })],
    });
    logSinks.set("winston", winstonSink(logger));
    const { mgr } = testManager();
    mgr.instrumentClasses.slog = StructuredLogInstrument;
    mgr.specs.set("s", specDoc(target, { type: "slog", name: "w", value: "unit", custom: { sink: "winston" } }));
    await mgr.apply();
    m.price(1, 9, "x");
    logSinks.delete("winston");
    await new Promise((r) => setImmediate(r));
    const [entry] = out.lines();
    assert.equal(entry?.["level"], "info");
    assert.equal(entry?.["message"], "Probe (w) = 9");
    assert.deepEqual(entry?.["probe"], { target, instrument: "w", event: "return", value: 9, tags: {} });
  });
});

describe("prometheus", () => {
  const registry = new client.Registry();
  after(() => registry.clear());

  test("counters and histograms; re-applying and replacing a spec never throws duplicate registration", async () => {
    const { m, target } = await probed();
    const prom = prometheusInstruments(client, { registry, maxLabelSets: 2, buckets: [1, 10, 100] });
    const { mgr, lines } = testManager();
    mgr.instrumentClasses.prom_counter = prom.Counter;
    mgr.instrumentClasses.prom_histogram = prom.Histogram;
    mgr.specs.set(
      "c",
      specDoc(target, {
        type: "prom_counter",
        name: "shop.price_calls",
        value: "1",
        custom: { tags: "{ tenant: tenant }" },
      }),
    );
    mgr.specs.set("h", specDoc(target, { type: "prom_histogram", name: "price_total", value: "result" }));
    await mgr.apply();
    for (const tenant of ["a", "a", "b", "c", "d"]) m.price(2, 3, tenant);
    let text = await registry.metrics();
    assert.match(text, /^shop_price_calls\{tenant="a"\} 2$/m);
    assert.match(text, /^shop_price_calls\{tenant="b"\} 1$/m);
    assert.doesNotMatch(text, /tenant="c"/);
    assert.match(text, /^diagnose_dropped_label_sets_total\{metric="shop_price_calls"\} 2$/m);
    assert.match(text, /^price_total_count 5$/m);
    assert.match(text, /^price_total_bucket\{le="10"\} 5$/m);
    assert.equal(prom.dropped(), 2);

    // The same spec re-applied by a second manager (e.g. after a restart of the manager): same metric.
    mgr.specs.set(
      "c",
      specDoc(target, {
        type: "prom_counter",
        name: "shop.price_calls",
        value: "1",
        custom: { tags: "{ tenant: tenant }" },
      }),
    );
    await mgr.apply();
    const other = testManager();
    other.mgr.instrumentClasses.prom_counter = prom.Counter;
    other.mgr.specs.set(
      "c2",
      specDoc(target, {
        type: "prom_counter",
        name: "shop.price_calls",
        value: "1",
        custom: { tags: "{ tenant: tenant }" },
      }),
    );
    await other.mgr.apply();
    m.price(1, 1, "a");
    text = await registry.metrics();
    assert.match(text, /^shop_price_calls\{tenant="a"\} 4$/m, "both managers' instruments count into one metric");

    // Replaced with other labels: the metric is re-registered with the new label names.
    mgr.specs.set(
      "c",
      specDoc(target, {
        type: "prom_counter",
        name: "shop.price_calls",
        value: "qty",
        custom: { labels: ["unit"], tags: "{ unit: unit }" },
      }),
    );
    other.mgr.specs.delete("c2");
    await other.mgr.apply();
    await mgr.apply();
    m.price(5, 7, "a");
    text = await registry.metrics();
    assert.match(text, /^shop_price_calls\{unit="7"\} 5$/m);
    assert.deepEqual(
      lines.filter((l) => /fail|error/i.test(l)),
      [],
    );
    assert.deepEqual(
      other.lines.filter((l) => /fail|error/i.test(l)),
      [],
    );
  });

  test("a non-numeric value disables the instrument, never the call", async () => {
    const { m, target } = await probed();
    const prom = prometheusInstruments(client, { registry });
    const inst = new prom.Counter("bad_values", "tenant");
    const p = probes.attachTo(target);
    p.instruments.set("c", inst);
    p.start();
    const errors: unknown[] = [];
    inst.mgr.errorOutput = { write: (l: string) => errors.push(l) };
    try {
      assert.equal(m.price(1, 2, "t"), 2);
    } finally {
      inst.mgr.errorOutput = process.stderr;
    }
    assert.equal(inst.status, "disabled");
    assert.equal(errors.length, 1);
  });
});

describe("hot-shots", () => {
  test("a hot-shots StatsD client behind hist and incr, over a real UDP socket", async () => {
    const { m, target } = await probed();
    const socket = createSocket("udp4");
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    const received: string[] = [];
    socket.on("message", (msg) => received.push(...msg.toString().split("\n").filter(Boolean)));
    const statsd = new StatsD({
      host: "127.0.0.1",
      port: (socket.address() as AddressInfo).port,
      prefix: "shop.",
      maxBufferSize: 0,
    });
    try {
      const c = hotShotsClient(statsd);
      const p = probes.attachTo(target);
      p.instruments.set(
        "h",
        new HistogramInstrument("price", "result", { client: c, custom: { tags: "({ tenant })" } }),
      );
      p.instruments.set("i", new IncrementInstrument("calls", "1", { client: c }));
      p.start();
      m.price(3, 3, "acme");
      const deadline = Date.now() + 3_000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(received.sort(), ["shop.calls:1|c", "shop.price:9|h|#tenant:acme"]);
    } finally {
      await new Promise<void>((r) => statsd.close(() => r()));
      socket.close();
    }
  });
});

describe("redaction at the real sinks", () => {
  const AUTH = `export function login(user: string, token: string, req: { headers: Record<string, string> }) {
  return user.length + token.length + Object.keys(req.headers).length;
}
`;
  type A = { login(user: string, token: string, req: { headers: Record<string, string> }): number };
  const REQ = { headers: { authorization: "Bearer s3cr3t", accept: "json" } };

  async function authProbed(): Promise<{ m: A; target: string }> {
    const loaded = await loadInstrumented<A>(AUTH, `src/lm${++n}/auth.ts`);
    const target = loaded.qualified("login");
    attached.push(target);
    return { m: loaded.exports, target };
  }

  test("pino and winston: secret tags, nested secret keys and a value reading a secret arrive as the marker", async () => {
    const { m, target } = await authProbed();
    const pinoOut = collector();
    const winstonOut = collector();
    const logger = pino({ base: null, timestamp: false }, pinoOut.stream);
    const wlogger = winston.createLogger({
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream: winstonOut.stream })],
    });
    const p = probes.attachTo(target);
    const tags = "({ user, sessionId: 's9', who: token })";
    p.instruments.set("a", new StructuredLogInstrument("req", "req", { sink: pinoSink(logger), custom: { tags } }));
    p.instruments.set("b", new StructuredLogInstrument("tok", "token", { sink: pinoSink(logger) }));
    p.instruments.set(
      "c",
      new StructuredLogInstrument("req", "req", {
        sink: winstonSink(wlogger),
        custom: { tags: "({ user, apiKey: 1 })" },
      }),
    );
    p.start();
    assert.equal(m.login("ann", "tok-123", REQ), 12);
    await new Promise((r) => setImmediate(r));
    const [a, b] = pinoOut.lines() as { probe: { value: unknown; tags: unknown } }[];
    assert.deepEqual(a?.probe.value, { headers: { authorization: "[Redacted]", accept: "json" } });
    // The tags expression reads `token`: every tag value is redacted, whatever its key.
    assert.deepEqual(a?.probe.tags, { user: "[Redacted]", sessionId: "[Redacted]", who: "[Redacted]" });
    assert.equal(b?.probe.value, "[Redacted]");
    const [w] = winstonOut.lines() as { probe: { value: unknown; tags: unknown }; message: string }[];
    assert.deepEqual(w?.probe.value, { headers: { authorization: "[Redacted]", accept: "json" } });
    assert.deepEqual(w?.probe.tags, { user: "ann", apiKey: "[Redacted]" });
    for (const text of [JSON.stringify(pinoOut.lines()), JSON.stringify(winstonOut.lines())]) {
      assert.ok(!text.includes("s3cr3t") && !text.includes("tok-123") && !text.includes("s9"), text);
    }
  });

  test("prom-client: a secret-named label holds the marker; a metric value reading a secret is refused at apply", async () => {
    const { m, target } = await authProbed();
    const registry = new client.Registry();
    const prom = prometheusInstruments(client, { registry });
    const { mgr } = testManager();
    mgr.instrumentClasses.prom_counter = prom.Counter;
    mgr.specs.set(
      "ok",
      specDoc(target, {
        type: "prom_counter",
        name: "logins",
        value: "1",
        custom: { tags: "({ user, session_token: user })" },
      }),
    );
    mgr.specs.set("bad", specDoc(target, { type: "prom_counter", name: "token_len", value: "token.length" }));
    await mgr.apply();
    m.login("ann", "tok-123", REQ);
    const text = await registry.metrics();
    assert.match(text, /^logins\{session_token="\[Redacted\]",user="ann"\} 1$/m);
    assert.doesNotMatch(text, /token_len/);
    const bad = mgr.status()["bad"];
    assert.equal(bad?.state, "error");
    assert.match(String(bad?.err), /reads "token", a name that looks secret/);
    registry.clear();
  });

  test("hot-shots over a real UDP socket: a secret-named tag is sent as the marker", async () => {
    const { m, target } = await authProbed();
    const socket = createSocket("udp4");
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    const received: string[] = [];
    socket.on("message", (msg) => received.push(...msg.toString().split("\n").filter(Boolean)));
    const statsd = new StatsD({ host: "127.0.0.1", port: (socket.address() as AddressInfo).port, maxBufferSize: 0 });
    try {
      const p = probes.attachTo(target);
      p.instruments.set(
        "i",
        new IncrementInstrument("logins", "1", {
          client: hotShotsClient(statsd),
          custom: { tags: "({ user, password: user })" },
        }),
      );
      p.start();
      m.login("ann", "tok-123", REQ);
      const deadline = Date.now() + 3_000;
      while (received.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(received, ["logins:1|c|#user:ann,password:[Redacted]"]);
      assert.throws(
        () => new HistogramInstrument("tok", "token.length", { client: hotShotsClient(statsd) }),
        /a metric value cannot be redacted/,
      );
    } finally {
      await new Promise<void>((r) => statsd.close(() => r()));
      socket.close();
    }
  });
});
