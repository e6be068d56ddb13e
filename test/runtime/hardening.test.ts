/**
 * Issue 10, run-time items: what a hostile or careless instrument, value or target could do to
 * user code or to the reports, on real instrumented modules. Each test failed before its fix.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { setImmediate as tick } from "node:timers/promises";
import { after, afterEach, describe, test } from "node:test";
import {
  Instrument,
  InstrumentManager,
  InstrumentOptionsError,
  LogInstrument,
  ProbeTestInstrument,
  TargetNotLoadedError,
  UnknownNameError,
  probes,
  sensor,
  type EventNamespace,
  type Probe,
} from "../../runtime/index.js";
import { formatLine } from "../../runtime/instruments/log.js";
import { loadInstrumented, type InstrumentedModule } from "../helpers/instrumented.js";

let n = 0;
const path = (name = "mod") => `src/hard${++n}/${name}.ts`;
const attached: string[] = [];
function attach(target: string): Probe {
  attached.push(target);
  return probes.attachTo(target);
}
const roots: string[] = [];
async function load<T>(source: string, modulePath = path()): Promise<InstrumentedModule<T>> {
  const m = await loadInstrumented<T>(source, modulePath);
  roots.push(m.root);
  return m;
}
afterEach(() => {
  for (const t of attached.splice(0)) probes.remove(t);
});
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A manager that records handleError calls instead of printing. */
class RecordingManager extends InstrumentManager {
  readonly errors: { instrument: string | undefined; error: unknown }[] = [];
  override handleError(_probe: Probe, instrument: Instrument | undefined, error: unknown): void {
    this.errors.push({ instrument: instrument?.name, error });
  }
}

/** Collects unhandled rejections while `body` runs and a few turns after it. */
async function unhandledDuring(body: () => Promise<void> | void): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on("unhandledRejection", onRejection);
  try {
    await body();
    for (let i = 0; i < 5; i++) await tick();
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  return seen;
}

const SRC = `export function add(a: number, b: number) {
  const s = a + b;
  return s;
}
export async function pass(x: unknown) {
  return x;
}
export function deep(n: number) {
  return n + 1;
}
`;
type M = { add(a: number, b: number): number; pass(x: unknown): Promise<unknown>; deep(n: number): number };

describe("1. async failures are observed", () => {
  test("an async fire() that rejects disables the instrument and is reported, no unhandled rejection", async () => {
    const m = await load<M>(SRC);
    const mgr = new RecordingManager();
    class AsyncFire extends Instrument {
      override async fire(): Promise<void> {
        await Promise.resolve();
        throw new Error("async fire failed");
      }
    }
    const inst = new AsyncFire("af", "a", { event: "call", mgr });
    const p = attach(m.qualified("add"));
    p.instruments.set("af", inst);
    p.start();
    const unhandled = await unhandledDuring(() => {
      assert.equal(m.exports.add(1, 2), 3);
    });
    assert.deepEqual(unhandled, []);
    assert.equal(inst.errorCount, 1);
    assert.equal(inst.status, "disabled");
    assert.equal(mgr.errors.length, 1);
    assert.match(String((mgr.errors[0]!.error as Error).message), /async fire failed/);
    assert.equal(m.exports.add(1, 2), 3);
    assert.equal(p.status, "idle", "the probe switched off with its last instrument");
  });

  test("a value or tags expression giving a rejected promise disables the instrument", async () => {
    const m = await load<M>(SRC);
    const mgr = new RecordingManager();
    const value = new ProbeTestInstrument("v", "Promise.reject(new Error('value rejected'))", { event: "call", mgr });
    const tags = new ProbeTestInstrument("t", "a", {
      event: "call",
      mgr,
      custom: { tags: "Promise.reject(new Error('tags rejected'))" },
    });
    const p = attach(m.qualified("add"));
    p.instruments.set("v", value).set("t", tags);
    p.start();
    const unhandled = await unhandledDuring(() => {
      assert.equal(m.exports.add(2, 2), 4);
    });
    assert.deepEqual(unhandled, []);
    assert.equal(value.errorCount, 1);
    assert.equal(tags.errorCount, 1);
    assert.deepEqual(mgr.errors.map((e) => e.instrument).sort(), ["t", "v"]);
  });

  test("a condition giving a promise is an error, not truthy; its rejection is not unhandled", async () => {
    const m = await load<M>(SRC);
    const mgr = new RecordingManager();
    const resolved = new ProbeTestInstrument("r", "a", {
      event: "call",
      mgr,
      custom: { condition: "Promise.resolve(false)" },
    });
    const rejected = new ProbeTestInstrument("j", "a", {
      event: "call",
      mgr,
      custom: { condition: "Promise.reject(new Error('c'))" },
    });
    const p = attach(m.qualified("add"));
    p.instruments.set("r", resolved).set("j", rejected);
    p.start();
    const unhandled = await unhandledDuring(() => {
      assert.equal(m.exports.add(3, 3), 6);
    });
    assert.deepEqual(unhandled, []);
    assert.deepEqual(resolved.results, [], "a promise is not a true condition");
    assert.deepEqual(rejected.results, []);
    assert.equal(resolved.status, "disabled");
    assert.equal(rejected.status, "disabled");
    assert.match((resolved.lastError as Error).message, /condition .* gave a promise/);
    assert.equal(mgr.errors.length, 2);
  });
});

describe("5. hostile thenables returned by an async function", () => {
  async function outcome(p: Promise<unknown>): Promise<{ ok: boolean; value: unknown }> {
    try {
      return { ok: true, value: await p };
    } catch (e) {
      return { ok: false, value: e };
    }
  }

  /** Runs `make()` through `pass` unprobed, then probed with a "return" instrument: same outcome, same counts. */
  async function compare(make: () => { value: unknown; count(): number }) {
    const m = await load<M>(SRC);
    const plainCase = make();
    const plain = await outcome(m.exports.pass(plainCase.value));
    const rec = new ProbeTestInstrument("r", "result");
    const p = attach(m.qualified("pass"));
    p.instruments.set("r", rec);
    p.start();
    const probedCase = make();
    const probed = await outcome(m.exports.pass(probedCase.value));
    for (let i = 0; i < 3; i++) await tick();
    return { plain, probed, plainCount: plainCase.count(), probedCount: probedCase.count(), rec, p };
  }

  test("a `then` getter that throws: the caller sees the getter's error, read once", async () => {
    const r = await compare(() => {
      let reads = 0;
      const value = {
        get then() {
          reads++;
          throw new Error("then-getter");
        },
      };
      return { value, count: () => reads };
    });
    assert.equal(r.plain.ok, false);
    assert.equal(r.probed.ok, false);
    assert.equal((r.probed.value as Error).message, "then-getter");
    assert.equal(r.probedCount, r.plainCount);
    assert.equal(r.p.status, "active");
  });

  test("a Proxy whose traps throw: the caller sees what it would unprobed, not a value we threw", async () => {
    const r = await compare(() => {
      let gets = 0;
      const value = new Proxy(
        {},
        {
          getPrototypeOf() {
            throw "gpo-trap";
          },
          get(_t, key) {
            if (key === "then") gets++;
            throw "get-trap";
          },
          has() {
            throw "has-trap";
          },
          ownKeys() {
            throw "ownKeys-trap";
          },
        },
      );
      return { value, count: () => gets };
    });
    assert.deepEqual(r.probed, r.plain);
    assert.equal(r.probed.value, "get-trap");
    assert.equal(r.probedCount, r.plainCount);
    assert.equal(r.p.status, "active");
  });

  test("a Promise subclass's constructor runs as often as unprobed", async () => {
    const r = await compare(() => {
      let constructed = 0;
      class Counted<T> extends Promise<T> {
        constructor(executor: (res: (v: T) => void, rej: (e: unknown) => void) => void) {
          constructed++;
          super(executor);
        }
      }
      const value = Counted.resolve(41);
      return { value, count: () => constructed };
    });
    assert.deepEqual(r.probed, r.plain);
    assert.equal(r.probed.value, 41);
    assert.equal(r.probedCount, r.plainCount);
    assert.deepEqual(r.rec.results, [41]);
  });

  test("a fake promise (a plain thenable) does not fail the probe; its value is recorded", async () => {
    const r = await compare(() => {
      let calls = 0;
      // Inherits from Promise.prototype (so `instanceof Promise`) without being a promise.
      const value = Object.assign(Object.create(Promise.prototype) as object, {
        then(resolve: (v: unknown) => void) {
          calls++;
          resolve(7);
        },
      });
      return { value, count: () => calls };
    });
    assert.deepEqual(r.probed, { ok: true, value: 7 });
    assert.equal(r.probedCount, r.plainCount, "`then` called once");
    assert.deepEqual(r.rec.results, [7]);
    assert.equal(r.p.status, "active");
    assert.equal(r.rec.errorCount, 0);
  });

  test("a thenable whose `then` throws when called: the caller sees that error", async () => {
    const r = await compare(() => ({
      value: {
        then() {
          throw new Error("then-call");
        },
      },
      count: () => 0,
    }));
    assert.equal(r.probed.ok, false);
    assert.equal((r.probed.value as Error).message, "then-call");
    assert.equal(r.p.status, "active");
  });
});

describe("6. near the stack limit", () => {
  test("an instrument that calls its probed function from fire: the RangeError is recorded, the instrument disabled", async () => {
    const m = await load<M>(SRC);
    const mgr = new RecordingManager();
    let fires = 0;
    class Reentrant extends Instrument {
      override fire(): void {
        fires++;
        m.exports.deep(1);
      }
    }
    const inst = new Reentrant("re", "n", { event: "call", mgr });
    const p = attach(m.qualified("deep"));
    p.instruments.set("re", inst);
    p.start();
    assert.equal(m.exports.deep(1), 2);
    assert.equal(inst.errorCount, 1);
    assert.equal(inst.status, "disabled");
    assert.ok(inst.lastError instanceof RangeError, String(inst.lastError));
    const before = fires;
    assert.equal(m.exports.deep(2), 3);
    assert.equal(fires, before, "never fires again");
    await tick();
    assert.equal(mgr.errors.length, 1, "reported once");
  });
});

describe("7. errors with hostile shapes", () => {
  test("a thrown Proxy and an Error whose message getter throws are reported on one line each", async () => {
    const m = await load<M>(SRC);
    const lines: string[] = [];
    const mgr = new InstrumentManager();
    mgr.errorOutput = { write: (l: string) => lines.push(l) };
    const hostileProxy = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
        getPrototypeOf() {
          throw new Error("trap");
        },
      },
    );
    const badMessage = new Error("x");
    Object.defineProperty(badMessage, "message", {
      get() {
        throw new Error("no message for you");
      },
    });
    class Thrower extends Instrument {
      constructor(
        name: string,
        private readonly thrown: unknown,
      ) {
        super(name, "a", { event: "call", mgr });
      }
      override fire(): void {
        throw this.thrown;
      }
    }
    const a = new Thrower("proxy", hostileProxy);
    const b = new Thrower("message", badMessage);
    const p = attach(m.qualified("add"));
    p.instruments.set("a", a).set("b", b);
    p.start();
    assert.equal(m.exports.add(1, 1), 2);
    assert.equal(a.status, "disabled");
    assert.equal(b.status, "disabled");
    assert.equal(lines.length, 2, lines.join(""));
    for (const l of lines) {
      assert.match(l, /^diagnose: instrument "(proxy|message)" of probe .* failed and was disabled: .+\n$/);
      assert.equal(l.indexOf("\n"), l.length - 1, "one line");
    }
    const listed = probes.list().find((s) => s.target === p.target)!;
    assert.equal(listed.instruments.length, 2);
    for (const i of listed.instruments) assert.equal(typeof i.lastError, "string");
  });
});

describe("7. hostile errors inside the registry", () => {
  test("a module whose hook binder throws a hostile Proxy still loads; the warning describes it", async () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
        getPrototypeOf() {
          throw new Error("trap");
        },
      },
    );
    const registry = (globalThis as unknown as Record<symbol, { register(t: unknown, b: unknown): unknown }>)[
      Symbol.for("diagnose.registry")
    ]!;
    const table = { abi: 3, h: "hostil01", m: "src/hostile-binder.ts", p: "", n: 0, f: "[]", s: "", v: "" };
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      assert.doesNotThrow(() =>
        registry.register(table, () => {
          throw hostile;
        }),
      );
      await tick();
    } finally {
      process.off("warning", onWarning);
    }
    assert.ok(
      warnings.some((w) => /could not bind the hooks of "src\/hostile-binder\.ts"/.test(w.message)),
      warnings.map((w) => w.message).join("; "),
    );
  });
});

describe("8. newcomer traps", () => {
  test("a name the event cannot have is refused when the instrument is built, naming the event's names", () => {
    for (const [value, event] of [
      ["elapsed", "call"],
      ["result", "call"],
      ["args.length + end", "call"],
      ["hotspots", "end"],
      ["result", "line:3"],
    ] as const) {
      assert.throws(
        () => new ProbeTestInstrument("x", value, { event }),
        (err: unknown) => {
          assert.ok(err instanceof InstrumentOptionsError, String(err));
          assert.match((err as Error).message, new RegExp(`is not defined at the "${event}" event`));
          assert.match((err as Error).message, /Names there: event, target, args/);
          return true;
        },
        `${value} at ${event}`,
      );
    }
    // Fine where the event has them, and an object literal's key is not a read.
    new ProbeTestInstrument("ok", "elapsed", { event: "return" });
    new ProbeTestInstrument("ok", "result", { event: "end" });
    new ProbeTestInstrument("ok", "({ result: args.length })", { event: "call" });
  });

  test("UnknownNameError at a call event does not list return-only names", async () => {
    const m = await load<M>(SRC);
    const inst = new ProbeTestInstrument("u", "nosuchname", { event: "call", mgr: new RecordingManager() });
    const p = attach(m.qualified("add"));
    p.instruments.set("u", inst);
    p.start();
    m.exports.add(1, 2);
    assert.ok(inst.lastError instanceof UnknownNameError);
    const message = (inst.lastError as Error).message;
    assert.match(message, /Names here: a, b, event, target, args/);
    for (const name of ["result", "elapsed", "threw", "hotspots"])
      assert.doesNotMatch(message, new RegExp(`\\b${name}\\b`));
  });

  test("a typo in the module part: the pending probe warns with the nearest registered modules", async () => {
    const m = await load<M>(SRC, "src/hardtypo/cart.ts");
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const p = attach("src/hardtypo/crat.ts:add");
      p.instruments.set("r", new ProbeTestInstrument("r", "result"));
      p.start();
      assert.equal(p.status, "pending");
      await tick();
    } finally {
      process.off("warning", onWarning);
    }
    const w = warnings.find((x) => (x as { code?: string }).code === "DIAGNOSE_PROBE_PENDING");
    assert.ok(w, "a warning");
    assert.match(
      w.message,
      /src\/hardtypo\/crat\.ts:add is pending: no registered module is named "src\/hardtypo\/crat\.ts" and there is no such file under /,
    );
    assert.match(w.message, new RegExp(m.modulePath.replace(/[.]/g, "\\.")));
  });

  test("sensor() on a target that never loaded fails, and leaves nothing attached", () => {
    const target = "src/never/loaded.ts:f";
    assert.throws(() => sensor(target), TargetNotLoadedError);
    assert.equal(probes.get(target)?.instruments.size ?? 0, 0);
    assert.notEqual(probes.get(target)?.status, "pending");
    probes.remove(target);
  });

  test("spread in an expression keeps the name after `...`", async () => {
    const m = await load<M>(SRC);
    const inst = new ProbeTestInstrument("s", "[...args].length + Math.max(...[a, b])", { event: "call" });
    const p = attach(m.qualified("add"));
    p.instruments.set("s", inst);
    p.start();
    m.exports.add(4, 9);
    assert.equal(inst.errorCount, 0, String(inst.lastError));
    assert.deepEqual(inst.results, [11]);
  });
});

describe("10. instrument changes are batched, not rebuilt per change", () => {
  /** Counts the probe's rebuilds (the O(instruments) step) while `body` runs. */
  function countRebuilds(p: Probe, body: () => void): number {
    const proto = Object.getPrototypeOf(p) as { rebuild: () => void };
    const original = proto.rebuild;
    let count = 0;
    proto.rebuild = function (this: Probe) {
      if (this === p) count++;
      original.call(this);
    };
    try {
      body();
    } finally {
      proto.rebuild = original;
    }
    return count;
  }

  test("attaching 4,000 instruments to a started probe rebuilds a bounded number of times", async () => {
    const m = await load<M>(SRC);
    const p = attach(m.qualified("add"));
    p.instruments.set("first", new ProbeTestInstrument("first", "a", { event: "call" }));
    p.start();
    const insts = Array.from({ length: 4000 }, (_, i) => new ProbeTestInstrument(`i${i}`, "a", { event: "call" }));
    const t0 = performance.now();
    const rebuilds = countRebuilds(p, () => {
      insts.forEach((inst, i) => p.instruments.set(`k${i}`, inst));
      m.exports.add(1, 1);
    });
    const ms = performance.now() - t0;
    assert.ok(rebuilds <= 2, `${rebuilds} rebuilds`);
    assert.ok(
      insts.every((i) => i.results.length === 1),
      "every new instrument fired at the next call",
    );
    assert.ok(ms < 3000, `${ms} ms`);
  });

  test("one call with 2,000 failing instruments rebuilds a bounded number of times", async () => {
    const m = await load<M>(SRC);
    const mgr = new RecordingManager();
    class Failing extends Instrument {
      override fire(): void {
        throw new Error("fail");
      }
    }
    const p = attach(m.qualified("add"));
    for (let i = 0; i < 2000; i++) p.instruments.set(`f${i}`, new Failing(`f${i}`, "a", { event: "call", mgr }));
    p.start();
    const rebuilds = countRebuilds(p, () => {
      assert.equal(m.exports.add(2, 3), 5);
    });
    assert.ok(rebuilds <= 1, `${rebuilds} rebuilds inside the call`);
    assert.equal(mgr.errors.length, 2000);
    assert.equal(p.status, "idle");
  });
});

describe("11. LogInstrument output is bounded and one line", () => {
  test("a value with 300,000 keys costs about what listing its keys does, not formatting each", () => {
    const big: Record<string, number> = {};
    for (let i = 0; i < 300_000; i++) big[`k${i}`] = i;
    // Listing the keys (V8's own work, no formatter can skip it) is the floor; util.inspect formats
    // every entry before the line is cut, several times that.
    const t0 = performance.now();
    Object.keys(big);
    const keys = performance.now() - t0;
    const t1 = performance.now();
    const line = formatLine("big", big, {});
    const format = performance.now() - t1;
    assert.ok(line.length <= "Probe (big) = ".length + 2000);
    assert.match(line, /^Probe \(big\) = \{ k0: 0, k1: 1, /);
    assert.ok(format < 2.5 * keys + 50, `formatting took ${format} ms, listing the keys ${keys} ms`);
  });

  test('strings cannot forge lines, errors print one line, an empty string prints ""', () => {
    assert.equal(formatLine("s", "a\nProbe (fake) = 1", {}), "Probe (s) = a\\nProbe (fake) = 1");
    assert.equal(formatLine("s", "", {}), 'Probe (s) = ""');
    assert.equal(formatLine("e", new TypeError("bad\nthing"), {}), "Probe (e) = TypeError: bad thing");
    assert.equal(
      formatLine("o", { e: new Error("inner"), s: "x\ny" }, { t: "a\nb" }),
      "Probe (o)[t=a\\nb] = { e: Error: inner, s: 'x\\ny' }",
    );
    const line = formatLine(
      "g",
      {
        get secret() {
          throw new Error("never called");
        },
      },
      {},
    );
    assert.equal(line, "Probe (g) = { secret: [Getter] }");
    assert.equal(
      formatLine(
        "a",
        Array.from({ length: 150 }, (_, i) => i),
        {},
      ).endsWith(", 99, ... 50 more items ]"),
      true,
    );
  });

  test("hotspots.worst prints its source text, not [Getter]", async () => {
    const m = await load<{ work(): number }>(`export function work() {
  let acc = 0;
  for (let i = 0; i < 1000; i++) acc += i;
  return acc;
}
`);
    const lines: string[] = [];
    const p = attach(m.qualified("work"));
    p.instruments.set("h", new LogInstrument("h", "hotspots.worst", { sink: (l) => lines.push(l) }));
    p.start();
    // Source lines are read relative to the working directory (the project root in a service).
    const cwd = process.cwd();
    process.chdir(m.root);
    try {
      m.exports.work();
    } finally {
      process.chdir(cwd);
    }
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0]!, /Getter/);
    assert.match(lines[0]!, /source: '(let acc = 0;|for \(let i = 0; i < 1000; i\+\+\) acc \+= i;|return acc;)'/);
  });
});

describe("LogInstrument fires through a custom fire too", () => {
  test("a namespace read in fire is the event's", async () => {
    const m = await load<M>(SRC);
    const seen: unknown[] = [];
    class Reader extends Instrument {
      override fire(ns: EventNamespace): void {
        seen.push(ns.event, (ns as unknown as { a: number }).a);
      }
    }
    const p = attach(m.qualified("add"));
    p.instruments.set("r", new Reader("r", "a", { event: "call" }));
    p.start();
    m.exports.add(5, 1);
    assert.deepEqual(seen, ["call", 5]);
  });
});
