/**
 * Instruments on real instrumented modules: output formats, sinks, metrics over a real UDP
 * socket, custom instruments, filters, tags, conditions, and the error paths (each one must leave
 * the probed function's result or exception exactly as without the probe).
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { Writable } from "node:stream";
import { afterEach, describe, test } from "node:test";
import {
  DogStatsD,
  ExpressionSyntaxError,
  HistogramInstrument,
  IncrementInstrument,
  Instrument,
  InstrumentManager,
  InvalidEventError,
  LineNotFoundError,
  LogInstrument,
  ProbeTestInstrument,
  probes,
  type EventNamespace,
  type Probe,
  type StatsClient,
} from "../../runtime/index.js";
import { formatLine } from "../../runtime/instruments/log.js";
import { loadInstrumented } from "../helpers/instrumented.js";

let n = 0;
const path = () => `src/instr${++n}/cart.ts`;
const attached: string[] = [];
function attach(target: string): Probe {
  attached.push(target);
  return probes.attachTo(target);
}
afterEach(() => {
  for (const t of attached.splice(0)) probes.remove(t);
});

const SRC = `export function price(qty: number, unit: number) {
  const total = qty * unit;
  return total;
}
export function fail(msg: string) {
  const e = new TypeError(msg);
  throw e;
}
export function big(n: number) { return "x".repeat(n); }
export function obj() { return { a: 1, nested: { b: [1, 2, 3] } }; }
`;
type M = {
  price(q: number, u: number): number;
  fail(m: string): never;
  big(n: number): string;
  obj(): object;
};

/** A manager that records handleError calls instead of printing. */
class RecordingManager extends InstrumentManager {
  readonly errors: [Probe, Instrument | undefined, unknown][] = [];
  override handleError(probe: Probe, instrument: Instrument | undefined, error: unknown): void {
    this.errors.push([probe, instrument, error]);
  }
}

describe("LogInstrument", () => {
  test("formats: Probe (name) = value, with tags, objects via inspect, strings raw", async () => {
    const m = await loadInstrumented<M>(SRC, path());
    const lines: string[] = [];
    const sink = (l: string) => lines.push(l);
    const p = attach(m.qualified("price"));
    const mgr = new InstrumentManager();
    mgr.tags = { host: "web1" };
    p.instruments.set("a", new LogInstrument("a", "result", { sink }));
    p.instruments.set("b", new LogInstrument("b", "result", { sink, mgr, custom: { tags: "({ qty, unit: 'eur' })" } }));
    p.start();
    m.exports.price(2, 3);
    assert.deepEqual(lines, ["Probe (a) = 6", "Probe (b)[qty=2, unit=eur, host=web1] = 6"]);
    assert.equal(formatLine("x", { a: 1, nested: { b: [1, 2] } }, {}), "Probe (x) = { a: 1, nested: { b: [ 1, 2 ] } }");
    assert.equal(formatLine("x", "raw text", {}), "Probe (x) = raw text");
    assert.equal(formatLine("x", null, {}), "Probe (x) = null");
  });

  test("undefined prints nothing; values over 2,000 characters are cut to 1,997 + '...'", async () => {
    const m = await loadInstrumented<M>(SRC, path());
    const lines: string[] = [];
    const p = attach(m.qualified("big"));
    p.instruments.set("u", new LogInstrument("u", "undefined", { sink: (l) => lines.push(l) }));
    p.instruments.set("v", new LogInstrument("v", "result", { sink: (l) => lines.push(l) }));
    p.start();
    m.exports.big(2000);
    m.exports.big(2001);
    assert.equal(lines.length, 2);
    assert.equal(lines[0], "Probe (v) = " + "x".repeat(2000));
    assert.equal(lines[1], "Probe (v) = " + "x".repeat(1997) + "...");
  });

  test("sinks: stdout by default, a stream, a logger with .info, LogInstrument.defaultSink", async () => {
    const m = await loadInstrumented<M>(SRC, path());
    const p = attach(m.qualified("price"));
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    });
    const infos: string[] = [];
    const logger = { info: (msg: string) => infos.push(msg) };
    p.instruments.set("s", new LogInstrument("s", "qty", { event: "call", sink: stream }));
    p.instruments.set("l", new LogInstrument("l", "unit", { event: "call", sink: logger }));
    p.instruments.set("d", new LogInstrument("d", "result"));
    p.start();
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    try {
      m.exports.price(4, 5);
    } finally {
      process.stdout.write = write;
    }
    assert.deepEqual(chunks, ["Probe (s) = 4\n"]);
    assert.deepEqual(infos, ["Probe (l) = 5"]);
    assert.deepEqual(out, ["Probe (d) = 20\n"]);
    const viaDefault: string[] = [];
    LogInstrument.defaultSink = (l) => viaDefault.push(l);
    try {
      m.exports.price(1, 1);
    } finally {
      LogInstrument.defaultSink = undefined;
    }
    assert.deepEqual(viaDefault, ["Probe (d) = 1"]);
  });
});

describe("metric instruments over a real UDP listener", () => {
  test("histogram and increment lines with k:v tags, floats allowed; undefined sends nothing", async () => {
    const server = createSocket("udp4");
    server.bind(0, "127.0.0.1");
    await once(server, "listening");
    const port = server.address().port;
    const got: string[] = [];
    server.on("message", (msg) => got.push(String(msg)));
    const client = new DogStatsD({ host: "127.0.0.1", port });
    try {
      const m = await loadInstrumented<M>(SRC, path());
      const p = attach(m.qualified("price"));
      p.instruments.set(
        "h",
        new HistogramInstrument("shop.price.total", "result / 4", { client, custom: { tags: "({ qty })" } }),
      );
      p.instruments.set("c", new IncrementInstrument("shop.price.calls", "1", { client }));
      p.instruments.set("u", new HistogramInstrument("shop.never", "undefined", { client }));
      p.start();
      m.exports.price(3, 1);
      const deadline = Date.now() + 2000;
      while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(got.sort(), ["shop.price.calls:1|c", "shop.price.total:0.75|h|#qty:3"]);
    } finally {
      client.close();
      server.close();
    }
  });

  test("DogStatsD defaults come from DD_AGENT_HOST / DD_DOGSTATSD_PORT", () => {
    const saved = [process.env["DD_AGENT_HOST"], process.env["DD_DOGSTATSD_PORT"]];
    process.env["DD_AGENT_HOST"] = "10.0.0.7";
    process.env["DD_DOGSTATSD_PORT"] = "9125";
    try {
      const c = new DogStatsD();
      assert.equal(c.host, "10.0.0.7");
      assert.equal(c.port, 9125);
    } finally {
      if (saved[0] === undefined) delete process.env["DD_AGENT_HOST"];
      else process.env["DD_AGENT_HOST"] = saved[0];
      if (saved[1] === undefined) delete process.env["DD_DOGSTATSD_PORT"];
      else process.env["DD_DOGSTATSD_PORT"] = saved[1];
    }
    const d = new DogStatsD();
    assert.equal(d.port, Number(process.env["DD_DOGSTATSD_PORT"] ?? 8125));
  });

  test("a hot-shots-like client is used when passed; a non-numeric value disables the instrument", async () => {
    const calls: unknown[][] = [];
    const client: StatsClient = {
      histogram: (...a) => calls.push(["h", ...a]),
      increment: (...a) => calls.push(["c", ...a]),
    };
    const m = await loadInstrumented<M>(SRC, path());
    const mgr = new RecordingManager();
    const p = attach(m.qualified("price"));
    const h = new HistogramInstrument("t", "elapsed", { client, mgr });
    const bad = new IncrementInstrument("bad", "'text'", { client, mgr });
    p.instruments.set("h", h).set("bad", bad);
    p.start();
    assert.equal(m.exports.price(1, 2), 2);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![0], "h");
    assert.equal(typeof calls[0]![2], "number");
    assert.equal(bad.disabled, true);
    assert.match(String(mgr.errors[0]![2]), /non-numeric/);
  });
});

describe("custom instruments, filters, tags, conditions", () => {
  test("fire(namespace), finish() after every call, checkCall filters calls", async () => {
    const m = await loadInstrumented<M>(SRC, path());
    const p = attach(m.qualified("price"));
    const events: string[] = [];
    class Span extends Instrument {
      override fire(ns: EventNamespace): void {
        events.push(`fire ${ns.event} ${String(this.evaluate(ns))}`);
      }
      override finish(): void {
        events.push("finish");
      }
      override checkCall(_probe: Probe, args: readonly unknown[]): boolean {
        return args[0] !== 0;
      }
    }
    p.instruments.set("span", new Span("span", "qty", { event: "call" }));
    p.start();
    m.exports.price(2, 1);
    m.exports.price(0, 1);
    m.exports.price(3, 1);
    assert.deepEqual(events, ["fire call 2", "finish", "fire call 3", "finish"]);
  });

  test("manager checkCall (e.g. by argument) and getTags apply to every instrument of that manager", async () => {
    const m = await loadInstrumented<M>(SRC, path());
    const mgr = new (class extends InstrumentManager {
      override checkCall(_p: Probe, args: readonly unknown[]): boolean {
        return args[1] === 10;
      }
      override getTags() {
        return { env: "test" };
      }
    })();
    const p = attach(m.qualified("price"));
    const rec = new ProbeTestInstrument("r", "result", { mgr, custom: { tags: "({ env: 'mine', qty })" } });
    p.instruments.set("r", rec);
    p.start();
    m.exports.price(1, 1);
    m.exports.price(2, 10);
    assert.deepEqual(rec.log, [[{ env: "test", qty: 2 }, 20]]);
  });

  test("custom.condition: fires only when truthy", async () => {
    const m = await loadInstrumented<M>(SRC, path());
    const p = attach(m.qualified("price"));
    const rec = new ProbeTestInstrument("r", "result", { custom: { condition: "result > 10" } });
    p.instruments.set("r", rec);
    p.start();
    m.exports.price(1, 1);
    m.exports.price(5, 5);
    assert.deepEqual(rec.results, [25]);
  });

  test("ProbeTestInstrument records [tags, value] pairs and results", async () => {
    const m = await loadInstrumented<M>(SRC, path());
    const p = attach(m.qualified("price"));
    const rec = new ProbeTestInstrument("r", "qty", { event: "call", custom: { tags: "({ u: unit })" } });
    p.instruments.set("r", rec);
    p.start();
    m.exports.price(1, 2);
    assert.deepEqual(rec.log, [[{ u: 2 }, 1]]);
    assert.deepEqual(rec.results, [1]);
  });
});

describe("errors at construction and attach time", () => {
  test("a syntax error in value, tags or condition is reported at construction", () => {
    assert.throws(() => new LogInstrument("x", "a +"), ExpressionSyntaxError);
    assert.throws(() => new LogInstrument("x", "a", { custom: { tags: "({" } }), ExpressionSyntaxError);
    assert.throws(() => new LogInstrument("x", "a", { custom: { condition: "1); (2" } }), ExpressionSyntaxError);
    assert.throws(() => new LogInstrument("x", ""), ExpressionSyntaxError);
    assert.throws(() => new LogInstrument("x", "a; b"), ExpressionSyntaxError);
  });

  test("a bad event is reported at construction", () => {
    for (const event of ["exit", "line:0", "line:x", "line:", "CALL"]) {
      assert.throws(() => new LogInstrument("x", "a", { event: event as "call" }), InvalidEventError, event);
    }
  });

  test("line:N without a line site: thrown by set() once the target is loaded; disabled if it was pending", async () => {
    const m = await loadInstrumented<M>(SRC, path());
    const p = attach(m.qualified("price"));
    const ok = new ProbeTestInstrument("ok", "qty", { event: "call" });
    p.instruments.set("ok", ok);
    p.start();
    assert.throws(
      () => p.instruments.set("l", new ProbeTestInstrument("l", "qty", { event: "line:40" })),
      LineNotFoundError,
    );

    const mp = path();
    const mgr = new RecordingManager();
    const q = attach(`${mp}:price`);
    const bad = new ProbeTestInstrument("bad", "qty", { event: "line:40", mgr });
    const good = new ProbeTestInstrument("good", "total", { event: "line:3" });
    q.instruments.set("bad", bad).set("good", good);
    q.start();
    assert.equal(q.status, "pending");
    const m2 = await loadInstrumented<M>(SRC, mp);
    // The registry's state-change notice (onStateChange) disabled the culprit the moment the module
    // registered, reported it to its manager, and the rest went on with a new watch: no call and
    // no instrument change was needed.
    assert.equal(bad.disabled, true);
    assert.equal(bad.errorCount, 1);
    assert.ok(bad.lastError instanceof LineNotFoundError);
    assert.deepEqual(
      mgr.errors.map(([pr, inst, err]) => [pr, inst, err instanceof LineNotFoundError]),
      [[q, bad, true]],
    );
    assert.equal(q.status, "active");
    assert.equal(m2.exports.price(2, 2), 4);
    assert.equal(m2.exports.price(2, 3), 6);
    assert.deepEqual(good.results, [4, 6]);
  });

  test("a pending probe whose only instrument names a missing line goes idle when the module loads", async () => {
    const mp = path();
    const mgr = new RecordingManager();
    const q = attach(`${mp}:price`);
    const bad = new ProbeTestInstrument("bad", "qty", { event: "line:40", mgr });
    q.instruments.set("bad", bad);
    q.start();
    assert.equal(q.status, "pending");
    const m2 = await loadInstrumented<M>(SRC, mp);
    assert.equal(bad.status, "disabled");
    assert.equal(mgr.errors.length, 1);
    assert.equal(q.status, "idle");
    assert.deepEqual(m2.sitesOn(), []);
  });
});

describe("errors never reach user code", () => {
  async function setup(inst: (mgr: RecordingManager) => Instrument, target = "price") {
    const m = await loadInstrumented<M>(SRC, path());
    const mgr = new RecordingManager();
    const p = attach(m.qualified(target));
    const i = inst(mgr);
    p.instruments.set("i", i);
    p.start();
    return { m, mgr, p, i };
  }
  function assertDisabledOnce(i: Instrument, mgr: RecordingManager, p: Probe, pattern: RegExp) {
    assert.equal(i.disabled, true);
    assert.equal(i.status, "disabled");
    assert.equal(i.errorCount, 1);
    assert.ok(i.lastErrorAt instanceof Date);
    assert.match(String((i.lastError as Error).message ?? i.lastError), pattern);
    assert.equal(mgr.errors.length, 1);
    assert.equal(mgr.errors[0]![0], p);
    assert.equal(mgr.errors[0]![1], i);
    assert.equal(p.status, "idle", "the last live instrument is gone: sites off");
  }

  test("value expression throws", async () => {
    const { m, mgr, p, i } = await setup((mgr) => new ProbeTestInstrument("v", "result.nope.deeper", { mgr }));
    assert.equal(m.exports.price(2, 3), 6);
    assert.equal(m.exports.price(2, 3), 6);
    assertDisabledOnce(i, mgr, p, /deeper|undefined/);
  });

  test("unknown bare name", async () => {
    const { m, mgr, p, i } = await setup((mgr) => new ProbeTestInstrument("v", "nosuchname", { mgr, event: "call" }));
    assert.equal(m.exports.price(2, 3), 6);
    assertDisabledOnce(i, mgr, p, /nosuchname/);
  });

  test("tags expression throws or gives a non-object", async () => {
    const { m, mgr, p, i } = await setup(
      (mgr) => new LogInstrument("t", "result", { mgr, custom: { tags: "42" }, sink: () => {} }),
    );
    assert.equal(m.exports.price(2, 3), 6);
    assertDisabledOnce(i, mgr, p, /object of tags/);
  });

  test("condition throws", async () => {
    const { m, mgr, p, i } = await setup(
      (mgr) =>
        new ProbeTestInstrument("c", "result", { mgr, custom: { condition: "(() => { throw new Error('cond') })()" } }),
    );
    assert.equal(m.exports.price(2, 3), 6);
    assertDisabledOnce(i, mgr, p, /cond/);
  });

  test("checkCall throws", async () => {
    const { m, mgr, p, i } = await setup(
      (mgr) =>
        new (class extends ProbeTestInstrument {
          override checkCall(): boolean {
            throw new Error("check");
          }
        })("k", "result", { mgr }),
    );
    assert.equal(m.exports.price(2, 3), 6);
    assertDisabledOnce(i, mgr, p, /check/);
  });

  test("fire throws (also when the probed function throws: its error reaches the caller unchanged)", async () => {
    const { m, mgr, p, i } = await setup(
      (mgr) =>
        new (class extends Instrument {
          override fire(): void {
            throw new Error("fire");
          }
        })("f", "result", { mgr }),
      "fail",
    );
    let caught: unknown;
    try {
      m.exports.fail("boom");
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof TypeError);
    assert.equal((caught as Error).message, "boom");
    assertDisabledOnce(i, mgr, p, /fire/);
  });

  test("finish throws", async () => {
    const { m, mgr, p, i } = await setup(
      (mgr) =>
        new (class extends ProbeTestInstrument {
          override finish(): void {
            throw new Error("finish");
          }
        })("f", "qty", { mgr, event: "call" }),
    );
    assert.equal(m.exports.price(2, 3), 6);
    assert.deepEqual((i as ProbeTestInstrument).results, [2]);
    assertDisabledOnce(i, mgr, p, /finish/);
  });

  test("handleError itself throws: still nothing reaches the caller", async () => {
    const m = await loadInstrumented<M>(SRC, path());
    const mgr = new (class extends InstrumentManager {
      override handleError(): void {
        throw new Error("handler");
      }
    })();
    const p = attach(m.qualified("price"));
    const i = new ProbeTestInstrument("v", "nope.nope", { mgr });
    p.instruments.set("i", i);
    p.start();
    assert.equal(m.exports.price(2, 3), 6);
    assert.equal(i.disabled, true);
  });

  test("the default handleError writes one stderr line naming the probe and the error; enable() re-arms", async () => {
    const m = await loadInstrumented<M>(SRC, path());
    const lines: string[] = [];
    const mgr = new InstrumentManager();
    mgr.errorOutput = { write: (l: string) => lines.push(l) };
    const p = attach(m.qualified("price"));
    const i = new ProbeTestInstrument("v", "result.a.b", { mgr });
    p.instruments.set("i", i);
    p.start();
    m.exports.price(1, 1);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^diagnose: instrument "v" of probe src\/instr\d+\/cart\.ts:price failed and was disabled: TypeError: .*\n$/,
    );
    i.enable();
    assert.equal(p.status, "active");
    m.exports.price(1, 1);
    assert.equal(i.errorCount, 2);
    assert.equal(lines.length, 2);
  });

  test("an async function whose return instrument throws: same settled value", async () => {
    const src = `export async function get(x: number) { await null; return x + 1; }`;
    const m = await loadInstrumented<{ get(x: number): Promise<number> }>(src, path());
    const mgr = new RecordingManager();
    const p = attach(m.qualified("get"));
    p.instruments.set("i", new ProbeTestInstrument("v", "result.x.y", { mgr }));
    p.start();
    assert.equal(await m.exports.get(1), 2);
    assert.equal(mgr.errors.length, 1);
  });
});

describe("redaction of metric tags over a real UDP listener", () => {
  test("a secret-named tag is sent as the marker; a value reading a secret is refused", async () => {
    const server = createSocket("udp4");
    server.bind(0, "127.0.0.1");
    await once(server, "listening");
    const got: string[] = [];
    server.on("message", (msg) => got.push(String(msg)));
    const client = new DogStatsD({ host: "127.0.0.1", port: server.address().port });
    const mgr = new InstrumentManager();
    mgr.tags = { env: "prod", db_password: "hunter2" };
    try {
      const m = await loadInstrumented<M>(SRC, path());
      const p = attach(m.qualified("price"));
      p.instruments.set(
        "h",
        new HistogramInstrument("price", "result", { client, mgr, custom: { tags: "({ qty, apiToken: unit })" } }),
      );
      p.start();
      m.exports.price(3, 2);
      const deadline = Date.now() + 2000;
      while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(got, ["price:6|h|#qty:3,apiToken:[Redacted],env:prod,db_password:[Redacted]"]);
      assert.throws(
        () => new IncrementInstrument("n", "args[0].secret ? 1 : 0", { client }),
        /reads "secret", a name that looks secret/,
      );
    } finally {
      client.close();
      server.close();
    }
  });
});
