/**
 * The tool-free sinks on real instrumented code: the diagnostics_channel instrument, the
 * structured log instrument (in code and from a spec naming a sink), per-request scoping behind a
 * real HTTP server with two concurrent requests, and attachAll with its detach handle.
 */
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { once } from "node:events";
import { createServer, get, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, describe, test } from "node:test";
import {
  attachAll,
  ChannelInstrument,
  channelName,
  jsonLinesSink,
  logSinks,
  ProbeTestInstrument,
  probes,
  scopable,
  scope,
  scoped,
  StructuredLogInstrument,
  LogInstrument,
  type ChannelMessage,
  type ProbeRecord,
} from "../../runtime/index.js";
import { formatValue } from "../../runtime/instruments/format.js";
import { loadInstrumented } from "../helpers/instrumented.js";
import { specDoc, stopManagers, testManager } from "./manager/helpers.js";

const SRC = `export function price(qty: number, unit: number) {
  const total = qty * unit;
  return total;
}
export function target(target: string) { return target.length; }
export async function slow(ms: number, tenant: string) {
  await new Promise((r) => setTimeout(r, ms));
  return tenant;
}
`;
type M = {
  price(q: number, u: number): number;
  target(t: string): number;
  slow(ms: number, tenant: string): Promise<string>;
};

let n = 0;
const load = () => loadInstrumented<M>(SRC, `src/sinks${++n}/cart.ts`);
const attached: string[] = [];
afterEach(async () => {
  for (const t of attached.splice(0)) probes.remove(t);
  await stopManagers();
});

describe("ChannelInstrument", () => {
  test("publishes { target, event, value, tags } on diagnose:<name> to subscribers", async () => {
    const m = await load();
    const t = m.qualified("price");
    attached.push(t);
    const name = `prices${n}`;
    probes.attachTo(t).instruments.set("c", new ChannelInstrument(name, "result", { custom: { tags: "({ qty })" } }));
    probes.attachTo(t).start();
    const got: ChannelMessage[] = [];
    const onMessage = (msg: unknown) => got.push(msg as ChannelMessage);
    assert.equal(m.exports.price(2, 3), 6, "no subscriber: the call is unchanged");
    subscribe(channelName(name), onMessage);
    try {
      assert.equal(m.exports.price(4, 5), 20);
    } finally {
      unsubscribe(channelName(name), onMessage);
    }
    m.exports.price(1, 1);
    assert.deepEqual(got, [{ target: t, event: "return", value: 20, tags: { qty: 4 } }]);
  });

  test("a parameter named `target` does not hide the probed function's name", async () => {
    const m = await load();
    const t = m.qualified("target");
    attached.push(t);
    const name = `shadow${n}`;
    {
      const p = probes.attachTo(t);
      p.instruments.set("c", new ChannelInstrument(name, "target"));
      p.start();
    }
    const got: ChannelMessage[] = [];
    const onMessage = (msg: unknown) => got.push(msg as ChannelMessage);
    subscribe(channelName(name), onMessage);
    m.exports.target("abc");
    unsubscribe(channelName(name), onMessage);
    assert.equal(got[0]?.target, t);
    assert.equal(got[0]?.value, "abc");
  });
});

describe("StructuredLogInstrument", () => {
  test("hands structured fields to a sink, and JSON lines through jsonLinesSink", async () => {
    const m = await load();
    const t = m.qualified("price");
    attached.push(t);
    const records: ProbeRecord[] = [];
    const lines: string[] = [];
    const p = probes.attachTo(t);
    p.instruments.set(
      "a",
      new StructuredLogInstrument("cart", "({ qty, total: result })", {
        sink: (r) => records.push(r),
        custom: { tags: "({ unit })" },
      }),
    );
    p.instruments.set(
      "b",
      new StructuredLogInstrument("big", "10n ** 20n", {
        sink: jsonLinesSink({ write: (s: string) => lines.push(s) }),
      }),
    );
    p.start();
    m.exports.price(3, 7);
    assert.equal(records.length, 1);
    const { message: _message, ...fields } = records[0]!;
    assert.deepEqual(fields, {
      target: t,
      instrument: "cart",
      event: "return",
      value: { qty: 3, total: 21 },
      tags: { unit: 7 },
    });
    assert.match(records[0]!.message, /^Probe \(cart\)\[unit=7\] = /);
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(parsed["value"], "100000000000000000000");
    assert.equal(parsed["target"], t);
  });

  test("a spec names a registered sink with custom.sink; an unknown name disables the instrument", async () => {
    const m = await load();
    const t = m.qualified("price");
    attached.push(t);
    const records: ProbeRecord[] = [];
    logSinks.set("test-sink", (r) => records.push(r));
    const { mgr, lines } = testManager();
    mgr.instrumentClasses.slog = StructuredLogInstrument;
    mgr.specs.set("s1", specDoc(t, { type: "slog", name: "fromspec", value: "result", custom: { sink: "test-sink" } }));
    mgr.specs.set("s2", specDoc(t, { type: "slog", name: "missing", value: "result", custom: { sink: "nope" } }));
    await mgr.apply();
    assert.equal(m.exports.price(2, 5), 10);
    logSinks.delete("test-sink");
    assert.deepEqual(
      records.map((r) => [r.instrument, r.value]),
      [["fromspec", 10]],
    );
    assert.ok(
      lines.some((l) => l.includes('"nope"') && l.includes("logSinks.set")),
      lines.join("\n"),
    );
  });
});

describe("scope", () => {
  let server: Server | undefined;
  after(() => server?.close());

  test("a scoped instrument fires only for the request inside scope.run, with two concurrent requests", async () => {
    const m = await load();
    const t = m.qualified("slow");
    attached.push(t);
    const inst = scoped(new ProbeTestInstrument("dbg", "tenant"));
    {
      const p = probes.attachTo(t);
      p.instruments.set("s", inst);
      p.start();
    }
    server = createServer((req, res) => {
      const handle = async () => {
        const tenant = String(req.headers["x-tenant"]);
        res.end(await m.exports.slow(tenant === "a" ? 40 : 20, tenant));
      };
      if (req.headers["x-debug"] === "1") void scope.run("debug", handle);
      else void handle();
    });
    server.listen(0);
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    const request = (headers: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        get({ port, headers }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve(body));
        }).on("error", reject);
      });
    const bodies = await Promise.all([request({ "x-tenant": "a", "x-debug": "1" }), request({ "x-tenant": "b" })]);
    assert.deepEqual(bodies, ["a", "b"]);
    assert.deepEqual(inst.results, ["a"]);
  });

  test("scope.run nests labels; scopable() honours custom.scope from specs", async () => {
    assert.equal(scope.has(), false);
    scope.run("a", () => scope.run(["b"], () => assert.deepEqual([...scope.labels()].sort(), ["a", "b"])));
    const m = await load();
    const t = m.qualified("price");
    attached.push(t);
    const out: string[] = [];
    const { mgr } = testManager();
    mgr.instrumentClasses.log = scopable(LogInstrument);
    LogInstrument.defaultSink = (line) => out.push(line);
    try {
      mgr.specs.set(
        "s",
        specDoc(t, { type: "log", name: "only-tenant-x", value: "result", custom: { scope: "tenant-x" } }),
      );
      await mgr.apply();
      m.exports.price(1, 2);
      scope.run("tenant-x", () => m.exports.price(3, 3));
      // The spec updated in place: another scope, then none.
      mgr.specs.set(
        "s",
        specDoc(t, { type: "log", name: "only-tenant-x", value: "result", custom: { scope: "tenant-y" } }),
      );
      await mgr.apply();
      scope.run("tenant-x", () => m.exports.price(4, 4));
      scope.run("tenant-y", () => m.exports.price(5, 5));
      mgr.specs.set("s", specDoc(t, { type: "log", name: "only-tenant-x", value: "result" }));
      await mgr.apply();
      m.exports.price(6, 6);
    } finally {
      LogInstrument.defaultSink = undefined;
    }
    assert.deepEqual(out, ["Probe (only-tenant-x) = 9", "Probe (only-tenant-x) = 25", "Probe (only-tenant-x) = 36"]);
  });
});

describe("attachAll", () => {
  test("attaches one instrument to every matching function and detaches them all", async () => {
    const m = await load();
    const made: ProbeTestInstrument[] = [];
    const handle = attachAll(
      (fn) => {
        const inst = new ProbeTestInstrument(fn.target, "1");
        made.push(inst);
        return inst;
      },
      { filter: m.modulePath + ":" },
    );
    try {
      assert.deepEqual(
        [...handle.targets].sort(),
        [m.qualified("price"), m.qualified("slow"), m.qualified("slow.Promise()"), m.qualified("target")].sort(),
      );
      m.exports.price(1, 1);
      m.exports.target("x");
      assert.deepEqual(made.map((i) => [i.name, i.results.length]).sort(), [
        [m.qualified("price"), 1],
        [m.qualified("slow"), 0],
        [m.qualified("slow.Promise()"), 0],
        [m.qualified("target"), 1],
      ]);
    } finally {
      handle.detach();
    }
    assert.equal(probes.list().filter((s) => s.target.startsWith(m.modulePath)).length, 0);
    assert.deepEqual(m.sitesOn(), []);
    m.exports.price(1, 1);
    assert.equal(made.find((i) => i.name === m.qualified("price"))?.results.length, 1);
  });

  test("a RegExp filter and explicit targets (a manifest's names, loaded or not)", async () => {
    const m = await load();
    const a = attachAll(() => new ProbeTestInstrument("x", "1"), {
      filter: /:price$/,
      targets: [m.qualified("price"), m.qualified("slow"), "src/never/loaded.ts:f"],
    });
    try {
      assert.deepEqual(a.targets, [m.qualified("price")]);
    } finally {
      a[Symbol.dispose]();
    }
    const b = attachAll(() => new ProbeTestInstrument("x", "1"), { targets: ["src/never/loaded.ts:f"] });
    assert.equal(probes.get("src/never/loaded.ts:f")?.status, "pending");
    b.detach();
    assert.equal(probes.get("src/never/loaded.ts:f"), undefined);
  });
});

describe("redaction of what is sent", () => {
  const AUTH = `export function login(user: string, req: { token: string; headers: Record<string, string> }) {
  return user.length + req.token.length;
}
`;
  type A = { login(user: string, req: { token: string; headers: Record<string, string> }): number };
  const REQ = { token: "tok-123", headers: { cookie: "sid=9", accept: "json" } };

  test("a real diagnostics_channel subscriber receives the marker for secret keys, tags and expressions", async () => {
    const m = await loadInstrumented<A>(AUTH, `src/sinks${++n}/auth.ts`);
    const t = m.qualified("login");
    attached.push(t);
    const name = `auth${n}`;
    const p = probes.attachTo(t);
    p.instruments.set("c", new ChannelInstrument(name, "req", { custom: { tags: "({ user, session: user })" } }));
    p.instruments.set("d", new ChannelInstrument(`${name}-tok`, "req.token"));
    p.start();
    const got: ChannelMessage[] = [];
    const onMessage = (msg: unknown) => got.push(msg as ChannelMessage);
    subscribe(channelName(name), onMessage);
    subscribe(channelName(`${name}-tok`), onMessage);
    try {
      assert.equal(m.exports.login("ann", REQ), 10);
    } finally {
      unsubscribe(channelName(name), onMessage);
      unsubscribe(channelName(`${name}-tok`), onMessage);
    }
    assert.equal(got.length, 2);
    assert.equal(formatValue(got[0]!.value), "{ token: [Redacted], headers: { cookie: [Redacted], accept: 'json' } }");
    assert.deepEqual(got[0]!.tags, { user: "ann", session: "[Redacted]" });
    assert.equal(formatValue(got[1]!.value), "[Redacted]");
    assert.equal(REQ.token, "tok-123", "the program's own object is untouched");
  });

  test("jsonLinesSink writes the marker for a secret key, a secret tag and an expression reading a secret", async () => {
    const m = await loadInstrumented<A>(AUTH, `src/sinks${++n}/auth.ts`);
    const t = m.qualified("login");
    attached.push(t);
    const lines: string[] = [];
    const sink = jsonLinesSink({ write: (s: string) => lines.push(s) });
    const p = probes.attachTo(t);
    p.instruments.set(
      "a",
      new StructuredLogInstrument("req", "req", { sink, custom: { tags: "({ x_auth_token: 1 })" } }),
    );
    p.instruments.set("b", new StructuredLogInstrument("cookie", 'req.headers["cookie"]', { sink }));
    p.start();
    m.exports.login("ann", REQ);
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(a?.["value"], { token: "[Redacted]", headers: { cookie: "[Redacted]", accept: "json" } });
    assert.deepEqual(a?.["tags"], { x_auth_token: "[Redacted]" });
    assert.equal(b?.["value"], "[Redacted]");
    assert.ok(!lines.join("").includes("tok-123") && !lines.join("").includes("sid=9"), lines.join(""));
  });
});
