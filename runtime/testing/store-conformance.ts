/**
 * The conformance suite every SpecStore passes: memory, file, MongoDB, Redis, PostgreSQL, or a
 * third party's. Call it at the top level of a node:test file:
 *
 *   import { storeConformance } from "diagnose/testing";
 *   storeConformance("my store", async () => myStore({ namespace: randomName() }));
 *
 * `open` must return a new, empty store each time (a private namespace, folder, key prefix or
 * schema); the suite closes every store it opened.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { types } from "node:util";
import { DiagnoseError } from "../../errors/index.js";
import type { AppliedStatus, SpecDocument } from "../manager/spec.js";
import type { ProcessReport, SpecStore, StoreChange } from "../manager/stores/contract.js";
import { SpecConflictError } from "../manager/stores/errors.js";

export interface StoreConformanceOptions {
  /** The store must have a change feed (`watch`); default: test it only when the store has one. */
  readonly requireWatch?: boolean;
  /** How long a change may take to reach `watch`, in ms (default 2000). */
  readonly watchTimeoutMs?: number;
  /** How many process ids report status at once in the concurrency case (default 24). */
  readonly concurrentReporters?: number;
  /** How long any one call may take before the suite calls it hung, in ms (default 5000). */
  readonly callTimeoutMs?: number;
}

/** Captured at import, so fake timers installed by a test framework cannot stall the suite. */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** Registers the cases every store must pass, in a `describe` block named after the store. */
export function storeConformance(
  name: string,
  open: () => Promise<SpecStore>,
  options: StoreConformanceOptions = {},
): void {
  const watchTimeoutMs = options.watchTimeoutMs ?? 2000;
  const reporters = options.concurrentReporters ?? 24;
  const callTimeoutMs = options.callTimeoutMs ?? 5000;
  const opened: SpecStore[] = [];

  async function fresh(): Promise<SpecStore> {
    const store = await open();
    opened.push(store);
    return store;
  }

  function within<T>(what: string, promise: Promise<T>, ms = callTimeoutMs): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = realSetTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => realClearTimeout(timer));
  }

  describe(`store conformance: ${name}`, () => {
    after(async () => {
      for (const store of opened.splice(0)) await within("close()", store.close()).catch(() => {});
    });

    it("starts empty, and equal reads give equal revisions", async () => {
      const store = await fresh();
      assert.equal(typeof store.description, "string");
      const a = await store.list();
      const b = await store.list();
      assert.deepEqual(a.specs, []);
      assert.equal(typeof a.revision, "string");
      assert.equal(a.revision, b.revision);
    });

    it("put, list and remove a spec", async () => {
      const store = await fresh();
      const doc = spec("src/a.ts:f");
      const version = await store.put("s1", doc);
      assert.equal(typeof version, "string");
      const { specs } = await store.list();
      assert.equal(specs.length, 1);
      const [stored] = specs;
      assert.equal(stored?.id, "s1");
      assert.equal(stored?.version, version);
      assert.equal(stored?.doc["target"], "src/a.ts:f");
      assert.deepEqual(stored?.doc["instrument"], doc["instrument"]);
      assert.equal(stored?.doc["lifespan"], 10);
      assert.equal(await store.remove("s1"), true);
      assert.equal(await store.remove("s1"), false);
      assert.deepEqual((await store.list()).specs, []);
    });

    it("keeps several specs apart, and a put replaces only its own id", async () => {
      const store = await fresh();
      await store.put("a", spec("src/a.ts:f"));
      await store.put("b", spec("src/b.ts:g"));
      await store.put("a", spec("src/a.ts:h"));
      const byId = new Map((await store.list()).specs.map((s) => [s.id, s.doc["target"]]));
      assert.deepEqual(Object.fromEntries(byId), { a: "src/a.ts:h", b: "src/b.ts:g" });
    });

    it("compare-and-set with null: only a new id is written", async () => {
      const store = await fresh();
      const v1 = await store.put("s", spec("src/a.ts:f"), { expectedVersion: null });
      await assert.rejects(store.put("s", spec("src/a.ts:g"), { expectedVersion: null }), (e: unknown) => {
        assert.ok(e instanceof SpecConflictError, String(e));
        assert.equal(e.id, "s");
        assert.equal(e.actualVersion, v1);
        return true;
      });
      assert.equal((await store.list()).specs[0]?.doc["target"], "src/a.ts:f");
    });

    it("compare-and-set with a stale version is refused; with the current one it wins", async () => {
      const store = await fresh();
      const v1 = await store.put("s", spec("src/a.ts:f", new Date(1000)));
      const v2 = await store.put("s", spec("src/a.ts:f", new Date(2000)), { expectedVersion: v1 });
      assert.notEqual(v2, v1, "a changed document gets a new version");
      await assert.rejects(store.put("s", spec("src/a.ts:stale"), { expectedVersion: v1 }), SpecConflictError);
      await assert.rejects(store.remove("s", { expectedVersion: v1 }), SpecConflictError);
      await assert.rejects(store.put("missing", spec("src/a.ts:f"), { expectedVersion: v1 }), SpecConflictError);
      const { specs } = await store.list();
      assert.equal(specs[0]?.version, v2);
      assert.equal((specs[0]!.doc["lastmodified"] as Date).getTime(), 2000);
      assert.equal(await store.remove("s", { expectedVersion: v2 }), true);
    });

    it("two writers racing on one version: exactly one wins", async () => {
      const store = await fresh();
      const v1 = await store.put("s", spec("src/a.ts:f"));
      const results = await Promise.allSettled(
        [1, 2, 3, 4].map((i) => store.put("s", spec(`src/a.ts:w${i}`), { expectedVersion: v1 })),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
      for (const r of results)
        if (r.status === "rejected") assert.ok(r.reason instanceof SpecConflictError, String(r.reason));
    });

    it("the revision changes on put and remove, not on re-reads or status reports", async () => {
      const store = await fresh();
      const r0 = (await store.list()).revision;
      await store.put("s", spec("src/a.ts:f"));
      const r1 = (await store.list()).revision;
      assert.notEqual(r1, r0);
      assert.equal((await store.list()).revision, r1);
      await store.put("s", spec("src/a.ts:g"));
      const r2 = (await store.list()).revision;
      assert.notEqual(r2, r1);
      await store.put("t", spec("src/a.ts:g"));
      const r3 = (await store.list()).revision;
      assert.notEqual(r3, r2);
      await store.remove("t");
      const r4 = (await store.list()).revision;
      assert.notEqual(r4, r3);
      assert.equal(r4, (await store.list()).revision);
    });

    it("revives the dates it stored", async () => {
      const store = await fresh();
      const lm = new Date("2026-03-04T05:06:07.089Z");
      await store.put("s", spec("src/a.ts:f", lm));
      await store.reportStatus(report("p1", { s: status(lm, "applied") }));
      const doc = (await store.list()).specs[0]?.doc;
      assert.ok(types.isDate(doc?.["lastmodified"]));
      assert.equal((doc!["lastmodified"] as Date).getTime(), lm.getTime());
      const applied = (doc!["applied"] as Record<string, AppliedStatus>)["p1"];
      assert.ok(types.isDate(applied?.lm) && types.isDate(applied.at), JSON.stringify(applied));
      assert.equal(applied.lm.getTime(), lm.getTime());
      const [r] = await store.listStatus();
      assert.ok(types.isDate(r?.at));
      assert.ok(types.isDate(r.specs["s"]?.lm));
    });

    it("keeps unknown fields as they are", async () => {
      const store = await fresh();
      const doc = {
        ...spec("src/a.ts:f"),
        owner: "ana",
        ticket: { id: 42, tags: ["a", "b"], nested: { deep: [1, 2.5, null, true] } },
        note: "ünïcödé ✓ 漢字",
        empty: {},
        nothing: null,
      };
      await store.put("s", doc);
      const got = (await store.list()).specs[0]?.doc;
      for (const key of ["owner", "ticket", "note", "empty", "nothing"] as const)
        assert.deepEqual(got?.[key], doc[key], key);
      assert.deepEqual((got!["instrument"] as Record<string, unknown>)["custom"], { tags: "{}", extra: [1, 2] });
    });

    it("stores documents of any shape, unvalidated, and special ids", async () => {
      const store = await fresh();
      const odd: Record<string, SpecDocument> = {
        types: { target: 42, instrument: "nope", lifespan: "ten", lastmodified: "not a date", selector: [1] },
        empty: {},
        big: { ...spec("src/a.ts:f"), blob: "x".repeat(200_000) },
        protoKey: JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}') as SpecDocument,
      };
      const ids = [
        "types",
        "empty",
        "big",
        "protoKey",
        "__proto__",
        "constructor",
        "a/b\\c",
        "../x",
        "ünï côdé",
        "a.b$c",
      ];
      const kinds = Object.keys(odd);
      for (const [i, id] of ids.entries())
        await store.put(id, odd[Object.hasOwn(odd, id) ? id : (kinds[i % kinds.length] as string)] as SpecDocument);
      const { specs } = await store.list();
      assert.deepEqual(specs.map((s) => s.id).sort(), [...ids].sort());
      const byId = new Map(specs.map((s) => [s.id, s.doc]));
      assert.equal(byId.get("types")?.["target"], 42);
      assert.equal(byId.get("types")?.["lifespan"], "ten");
      assert.equal(byId.get("types")?.["lastmodified"], "not a date");
      assert.equal((byId.get("big")!["blob"] as string).length, 200_000);
      const proto = byId.get("protoKey") as SpecDocument;
      assert.ok(Object.hasOwn(proto, "__proto__"), "a __proto__ key is kept as a plain key");
      assert.equal(({} as Record<string, unknown>)["polluted"], undefined, "no prototype pollution");
      assert.equal(Object.getPrototypeOf(byId.get("__proto__")), Object.prototype);
      for (const id of ids) assert.equal(await store.remove(id), true, id);
    });

    it("hostile documents and arguments never throw synchronously nor break the store", async () => {
      const store = await fresh();
      const cyclic: Record<string, unknown> = { ...spec("src/a.ts:f") };
      cyclic["self"] = cyclic;
      const getter = { ...spec("src/a.ts:f") };
      Object.defineProperty(getter, "boom", {
        enumerable: true,
        get: () => {
          throw new Error("getter ran");
        },
      });
      const proxy = new Proxy(
        {},
        {
          get: () => {
            throw new Error("trap ran");
          },
          ownKeys: () => {
            throw new Error("trap ran");
          },
        },
      );
      const hostile: unknown[] = [
        cyclic,
        getter,
        proxy,
        { ...spec("src/a.ts:f"), n: 10n },
        { f: () => 1 },
        null,
        5,
        "doc",
        [],
      ];
      for (const [i, doc] of hostile.entries()) {
        let promise: Promise<string> | undefined;
        assert.doesNotThrow(() => {
          promise = store.put(`h${i}`, doc as SpecDocument);
        }, `put #${i} threw synchronously`);
        await within(`put #${i}`, promise!).then(
          () => {},
          (e: unknown) => assert.ok(e instanceof DiagnoseError, `put #${i} rejected with ${String(e)}`),
        );
      }
      for (const bad of ["", 7, null, "x".repeat(100_000)]) {
        let promise: Promise<unknown> | undefined;
        assert.doesNotThrow(() => {
          promise = store.put(bad as string, spec("src/a.ts:f"));
        });
        await assert.rejects(within("put(bad id)", promise!), DiagnoseError);
      }
      let bad: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        bad = store.reportStatus({ processId: "", labels: {}, at: new Date(), specs: {} });
      });
      await assert.rejects(within("reportStatus(bad)", bad!), DiagnoseError);
      const { specs } = await within("list()", store.list());
      for (const s of specs) assert.equal(typeof s.version, "string");
      await store.put("fine", spec("src/a.ts:f"));
      assert.ok((await store.list()).specs.some((s) => s.id === "fine"));
    });

    it("status reports from many processes at once are all kept, and a report replaces its process's last", async () => {
      const store = await fresh();
      const lm = new Date(5000);
      await store.put("s", spec("src/a.ts:f", lm));
      await store.put("t", spec("src/a.ts:g", lm));
      const ids = Array.from({ length: reporters }, (_, i) => `host-${i % 3}:${1000 + i}`);
      await Promise.all(ids.map((pid) => store.reportStatus(report(pid, { s: status(lm, "applied", 1) }))));
      await Promise.all(
        ids.map((pid, i) => store.reportStatus(report(pid, { s: status(lm, "emitting", i + 2) }, { app: "shop" }))),
      );
      const statuses = await store.listStatus();
      assert.deepEqual(statuses.map((r) => r.processId).sort(), [...ids].sort());
      for (const r of statuses) {
        const i = ids.indexOf(r.processId);
        assert.deepEqual(r.labels, { app: "shop" });
        assert.equal(r.specs["s"]?.state, "emitting");
        assert.equal(r.specs["s"]?.hits, i + 2);
      }
      const docs = new Map((await store.list()).specs.map((s) => [s.id, s.doc]));
      const applied = docs.get("s")?.["applied"] as Record<string, AppliedStatus>;
      assert.deepEqual(Object.keys(applied).sort(), [...ids].sort());
      assert.equal(applied[ids[0]!]?.state, "emitting");
      assert.equal(Object.keys((docs.get("t")?.["applied"] ?? {}) as object).length, 0);
    });

    it("listStatus returns every field of a report", async () => {
      const store = await fresh();
      const at = new Date("2026-01-02T03:04:05.000Z");
      const st: AppliedStatus = { lm: null, err: 'No function "src/a.ts:x".', state: "error", hits: 0, at };
      await store.reportStatus({ processId: "p:1", labels: { app: "shop", zone: "eu" }, at, specs: { s: st } });
      const [r] = await store.listStatus();
      assert.equal(r?.processId, "p:1");
      assert.deepEqual(r.labels, { app: "shop", zone: "eu" });
      assert.equal(r.at.getTime(), at.getTime());
      assert.deepEqual(r.specs["s"], st);
    });

    it("watch rings after a put and a remove, survives a throwing listener, and stops when closed", async (t) => {
      const store = await fresh();
      if (store.watch === undefined) {
        if (options.requireWatch === true) assert.fail(`${name} has no watch()`);
        t.skip(`${name} has no change feed`);
        return;
      }
      const thrower = store.watch(() => {
        throw new Error("listener failed");
      });
      let changes: StoreChange[] = [];
      let wake: (() => void) | undefined;
      const sub = store.watch((c) => {
        changes.push(c);
        wake?.();
      });
      const ring = async (what: string, write: () => Promise<unknown>): Promise<void> => {
        changes = [];
        const rang = new Promise<void>((resolve) => (wake = resolve));
        await write();
        await within(`a change after ${what}`, rang, watchTimeoutMs);
        assert.ok(
          changes.some((c) => c.kind === "changed" || c.kind === "reconnected"),
          JSON.stringify(changes),
        );
      };
      await ring("put", () => store.put("s", spec("src/a.ts:f")));
      await ring("remove", () => store.remove("s"));
      thrower.close();
      sub.close();
      sub.close();
      changes = [];
      await store.put("t", spec("src/a.ts:f"));
      await new Promise((resolve) => realSetTimeout(resolve, 200));
      assert.ok(!changes.some((c) => c.kind === "changed"), "a closed subscription is not called");
    });

    it("close is idempotent, and no call after close hangs", async () => {
      const store = await fresh();
      await store.put("s", spec("src/a.ts:f"));
      const sub = store.watch?.(() => {});
      await within("close()", store.close());
      await within("second close()", store.close());
      sub?.close();
      const calls: [string, () => Promise<unknown>][] = [
        ["list", () => store.list()],
        ["put", () => store.put("t", spec("src/a.ts:f"))],
        ["remove", () => store.remove("s")],
        ["reportStatus", () => store.reportStatus(report("p", {}))],
        ["listStatus", () => store.listStatus()],
      ];
      for (const [what, call] of calls) {
        let promise: Promise<unknown> | undefined;
        assert.doesNotThrow(() => {
          promise = call();
        }, what);
        await within(`${what}() after close`, promise!).then(
          () => {},
          (e: unknown) => assert.ok(e instanceof DiagnoseError, `${what}() after close rejected with ${String(e)}`),
        );
      }
    });
  });
}

function spec(target: string, lastmodified = new Date("2026-01-01T00:00:00.000Z")): SpecDocument {
  return {
    target,
    instrument: { type: "log", name: "probe", value: "result", event: "return", custom: { tags: "{}", extra: [1, 2] } },
    lifespan: 10,
    lastmodified,
    applied: {},
  };
}

function status(lm: Date | null, state: AppliedStatus["state"], hits = 0): AppliedStatus {
  return { lm, err: null, state, hits, at: new Date() };
}

function report(
  processId: string,
  specs: Record<string, AppliedStatus>,
  labels: Record<string, string> = {},
): ProcessReport {
  return { processId, labels, at: new Date(), specs };
}
