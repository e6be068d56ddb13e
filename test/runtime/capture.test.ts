/**
 * Capture and redaction: bounds with explicit markers, hostile values (fast-check over nested,
 * cyclic and exotic values: no exception, no code of the program run), and redaction of nested
 * keys, arrays of objects, Map keys and expression names, on real instrumented code, including a
 * spec that tries to turn it off.
 */
import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";
import fc from "fast-check";
import {
  capture,
  CapturedError,
  configureRedaction,
  InstrumentManager,
  LogInstrument,
  probes,
  Redactor,
  REDACTED,
} from "../../runtime/index.js";
import { ProbeTestInstrument } from "../../runtime/testing/index.js";
import { formatValue } from "../../runtime/instruments/format.js";
import { loadInstrumented } from "../helpers/instrumented.js";
import { specDoc, stopManagers, testManager } from "./manager/helpers.js";

const redactor = new Redactor();
afterEach(stopManagers);
after(stopManagers);

/** Values whose every touch of user code is counted. */
function hostile(counter: { n: number; armed: boolean; where?: string | undefined }): unknown[] {
  // Counts only while capture runs (fast-check itself looks at generated values).
  const hit = (): never => {
    if (counter.armed) counter.n++, (counter.where ??= new Error("ran").stack);
    return undefined as never;
  };
  const trapAll = new Proxy(
    {},
    { get: hit, has: hit, ownKeys: hit, getOwnPropertyDescriptor: hit, getPrototypeOf: hit },
  );
  const getter = Object.defineProperty({}, "x", { get: hit, enumerable: true });
  class Sneaky extends Uint8Array {
    static get [Symbol.species](): undefined {
      return hit();
    }
  }
  const sneaky = new Sneaky(300);
  Object.defineProperty(sneaky, "length", { get: hit });
  const err = new Error("outer", { cause: new TypeError("inner") });
  Object.defineProperty(err, "message", { get: hit });
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic["self"] = cyclic;
  const map = new Map<unknown, unknown>([
    [trapAll, getter],
    ["k", cyclic],
  ]);
  map.set("size", hit); // a key named like the getter
  const withToJSON = { toJSON: hit, valueOf: hit, toString: hit, [Symbol.toPrimitive]: hit };
  const protoProxy = Object.create(trapAll) as object;
  const date = new Date(0);
  Object.defineProperty(date, "getTime", { value: hit });
  const re = /x/g;
  Object.defineProperty(re, "source", { get: hit });
  return [
    trapAll,
    getter,
    sneaky,
    Buffer.from("hello"),
    err,
    cyclic,
    map,
    new Set([trapAll, getter]),
    withToJSON,
    protoProxy,
    date,
    re,
    new WeakMap(),
    Promise.resolve(1),
    hit,
    new Float64Array(3),
    new ArrayBuffer(8),
    new DataView(new ArrayBuffer(4)),
  ];
}

describe("capture", () => {
  test("hostile values (fast-check): never throws, runs no code of the program, stays within the size bound", () => {
    const counter: { n: number; armed: boolean; where?: string | undefined } = { n: 0, armed: false };
    const values = hostile(counter);
    const exotic = fc.integer({ min: 0, max: values.length - 1 }).map((i) => values[i]);
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: "small" },
        fc.anything(),
        exotic,
        fc.array(tie("tree"), { maxLength: 5 }),
        fc.dictionary(
          fc.oneof(fc.string(), fc.constantFrom("password", "X-Api-Key", "__proto__", "constructor")),
          tie("tree"),
          { maxKeys: 5 },
        ),
        tie("tree").map(
          (v) =>
            new Map([
              ["token", v],
              ["v", v],
            ]),
        ),
        tie("tree").map((v) => {
          const o: Record<string, unknown> = { v };
          o["cycle"] = o;
          return o;
        }),
        tie("tree").map((v) => new Error("e", { cause: v })),
      ),
    }));
    let cases = 0;
    fc.assert(
      fc.property(tree, (v) => {
        cases++;
        counter.armed = true;
        let c: unknown;
        try {
          c = capture(v, redactor, { totalSize: 4000 });
        } finally {
          counter.armed = false;
        }
        const text = formatValue(c);
        assert.ok(text.length < 40_000, `bounded: ${text.length}`);
      }),
      { numRuns: 2000 },
    );
    assert.equal(counter.n, 0, `no getter, trap, toJSON or species ran: ${counter.where}`);
    assert.equal(cases, 2000);
  });

  test("markers: getters, proxies, cycles, depth, items, string length, total size", () => {
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    const c = capture(
      {
        deep,
        get g() {
          return 1;
        },
        p: new Proxy({}, {}),
        long: "x".repeat(50),
        many: Array.from({ length: 10 }, (_, i) => i),
      },
      redactor,
      {
        depth: 3,
        items: 5,
        stringLength: 10,
      },
    ) as Record<string, unknown>;
    assert.equal(formatValue(c["g"]), "[Getter]");
    assert.equal(formatValue(c["p"]), "[Proxy]");
    assert.equal(c["long"], "xxxxxxxxxx[… 40 more characters]");
    assert.equal(formatValue(c["many"]), "[ 0, 1, 2, 3, 4, [… 5 more items] ]");
    assert.match(formatValue(c["deep"]), /\{ a: \{ b: \[Object\] \} \}/);
    const cyclic: Record<string, unknown> = {};
    cyclic["me"] = cyclic;
    assert.equal(formatValue(capture(cyclic)), "{ me: [Circular] }");
    const big = capture(
      Array.from({ length: 100 }, () => "y".repeat(100)),
      redactor,
      { totalSize: 1000 },
    ) as unknown[];
    assert.ok(big.length < 20 && formatValue(big.at(-1)) === "[… size limit]", formatValue(big));
  });

  test("exotic values: Maps, Sets, typed arrays, Buffers, errors with causes, Dates", () => {
    const c = capture({
      m: new Map([["a", 1]]),
      s: new Set([1, 2]),
      t: new Uint16Array([1, 2, 3]),
      b: Buffer.from("hi"),
      long: new Uint8Array(500),
      e: new Error("top", { cause: new RangeError("root") }),
      d: new Date(0),
    }) as Record<string, unknown>;
    assert.deepEqual(c["m"], new Map([["a", 1]]));
    assert.deepEqual(c["s"], new Set([1, 2]));
    assert.deepEqual(c["t"], new Uint16Array([1, 2, 3]));
    assert.ok(Buffer.isBuffer(c["b"]) && (c["b"] as Buffer).toString() === "hi");
    assert.equal(formatValue((c["long"] as unknown[])[1]), "[… 400 more items]");
    const e = c["e"] as CapturedError;
    assert.ok(e instanceof CapturedError);
    assert.equal(e.message, "top");
    assert.equal((e.cause as CapturedError).name, "RangeError");
    assert.equal((c["d"] as Date).getTime(), 0);
  });
});

describe("redaction", () => {
  test("nested keys, arrays of objects, Map keys; case- and separator-insensitive", () => {
    const c = capture({
      user: { name: "ann", password: "hunter2", profile: { api_key: "k1" } },
      headers: { "X-Api-Key": "k2", Authorization: "Bearer x", accept: "*/*" },
      sessions: [{ id: 1 }, { id: 2 }],
      list: [
        { token: "t1", ok: 1 },
        { refreshToken: "t2", ok: 2 },
      ],
      m: new Map<unknown, unknown>([
        ["Set-Cookie", "c=1"],
        ["plain", "v"],
        [1, "one"],
      ]),
    });
    const text = formatValue(c);
    for (const secret of ["hunter2", "k1", "k2", "Bearer", "t1", "t2", "c=1"])
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    assert.ok(text.includes("ann") && text.includes("*/*") && text.includes("plain") && text.includes("one"), text);
    assert.equal((c as { sessions: unknown }).sessions, REDACTED, "a key naming sessions is redacted whole");
    const r = new Redactor({ extraWords: ["ssn"] });
    assert.equal(formatValue(capture({ SSN: "123", x: 1 }, r)), "{ SSN: [Redacted], x: 1 }");
    assert.equal(formatValue(capture({ password: "p" }, new Redactor({ enabled: false }))), "{ password: 'p' }");
  });

  test("secretRead: a name read is secret, an object literal's key is not a read", () => {
    assert.equal(redactor.secretRead("args[0].password"), "password");
    assert.equal(redactor.secretRead('req.headers["x-api-key"]'), "x-api-key");
    assert.equal(redactor.secretRead("({ user: req.sessionToken })"), "sessionToken");
    assert.equal(redactor.secretRead("({ token })"), "token", "a shorthand property reads the name");
    assert.equal(redactor.secretRead("({ token: n, 'api-key': 1 })"), undefined);
    assert.equal(redactor.secretRead("result * 2"), undefined);
    assert.equal(new Redactor({ enabled: false }).secretRead("password"), undefined);
  });

  test("in log lines on real instrumented code: values, tags, and an expression naming a secret", async () => {
    const m = await loadInstrumented<{ login(req: unknown): boolean }>(
      `export function login(req: { user: string; password: string; headers: Record<string, string> }): boolean { return req.user.length > 0; }\n`,
      "src/redact1/auth.ts",
    );
    const lines: string[] = [];
    const p = probes.attachTo(m.qualified("login"));
    p.instruments.set(
      "whole",
      new LogInstrument("whole", "args[0]", {
        sink: (l) => lines.push(l),
        custom: { tags: "({ sessionId: 's9', user: args[0].user })" },
      }),
    );
    p.instruments.set("named", new LogInstrument("named", "args[0].password", { sink: (l) => lines.push(l) }));
    p.start();
    try {
      assert.equal(
        m.exports.login({ user: "ann", password: "hunter2", headers: { cookie: "sid=1", "x-request-id": "r1" } }),
        true,
      );
    } finally {
      p.stop();
    }
    assert.equal(lines.length, 2);
    assert.equal(
      lines[0],
      "Probe (whole)[sessionId=[Redacted], user=ann] = { user: 'ann', password: [Redacted], headers: { cookie: [Redacted], 'x-request-id': 'r1' } }",
    );
    assert.equal(lines[1], "Probe (named) = [Redacted]");
  });

  test("a spec cannot turn it off; code can, per manager", async () => {
    const path = "src/redact2/auth.ts";
    const m = await loadInstrumented<{ login(req: unknown): boolean }>(
      `export function login(req: { token: string }): boolean { return req.token !== ""; }\n`,
      path,
    );
    const { mgr } = testManager();
    mgr.specs.set(
      "s1",
      specDoc(m.qualified("login"), {
        value: "args[0]",
        custom: { redact: false, redaction: { enabled: false }, secretWords: [] },
      }),
    );
    await mgr.start();
    m.exports.login({ token: "abc" });
    const inst = [...(probes.get(m.qualified("login"))?.instruments.values() ?? [])][0] as ProbeTestInstrument;
    assert.ok(inst instanceof ProbeTestInstrument);
    assert.equal(formatValue(inst.captured[0]![1]), "{ token: [Redacted] }");
    const open = new InstrumentManager();
    configureRedaction(open, { enabled: false });
    const rec = new ProbeTestInstrument("r", "args[0]", { mgr: open });
    const p2 = probes.attachTo(m.qualified("login"));
    p2.instruments.set("r", rec);
    p2.start();
    m.exports.login({ token: "abc" });
    p2.instruments.delete("r");
    assert.equal(formatValue(rec.captured[0]![1]), "{ token: 'abc' }");
  });
});
