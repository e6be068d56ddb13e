/**
 * The memory store: the conformance suite, and what only it does — a Map users write directly,
 * versions derived from content, status written into the documents.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { memoryStore } from "../../../runtime/manager/stores/memory.js";
import type { SpecDocument } from "../../../runtime/manager/spec.js";
import { storeConformance } from "../../../runtime/testing/store-conformance.js";

storeConformance("memory", async () => memoryStore(), { requireWatch: true });

function doc(target: string): SpecDocument {
  return {
    target,
    instrument: { type: "log", name: "n", value: "result", event: "return", custom: {} },
    lifespan: 10,
    lastmodified: new Date(1000),
    applied: {},
  };
}

describe("memory store", () => {
  it("starts from a Map, entries or an object", async () => {
    for (const initial of [
      new Map([["a", doc("src/a.ts:f")]]),
      [["a", doc("src/a.ts:f")]] as const,
      { a: doc("src/a.ts:f") },
    ]) {
      const store = memoryStore(initial);
      assert.deepEqual(
        (await store.list()).specs.map((s) => s.id),
        ["a"],
      );
      await store.close();
    }
  });

  it("sees specs written directly into `specs`, with versions from their content", async () => {
    const store = memoryStore();
    const d = doc("src/a.ts:f");
    store.specs.set("instr-1", d);
    const s1 = await store.list();
    assert.equal(s1.specs[0]?.doc, d, "the document is the one the user set");
    const v1 = s1.specs[0]?.version;
    // An in-place edit changes the version and the revision without any put().
    d["target"] = "src/a.ts:g";
    const s2 = await store.list();
    assert.notEqual(s2.specs[0]?.version, v1);
    assert.notEqual(s2.revision, s1.revision);
    // The same content under a new object keeps its version: versions are content, not identity.
    store.specs.set("instr-1", { ...d, applied: { other: 1 } });
    const s3 = await store.list();
    assert.equal(s3.specs[0]?.version, s2.specs[0]?.version, "`applied` is not part of the version");
    assert.equal(s3.revision, s2.revision);
    // Compare-and-set works against a version the user's own write produced.
    await assert.rejects(store.put("instr-1", doc("src/x.ts:y"), { expectedVersion: v1! }));
    await store.put("instr-1", doc("src/x.ts:y"), { expectedVersion: s3.specs[0]!.version });
  });

  it("finds every in-place edit of a document it listed before (versions are cached per document)", async () => {
    const store = memoryStore();
    const d = doc("src/a.ts:f") as Record<string, unknown> & { instrument: Record<string, unknown> };
    d.instrument["custom"] = { tags: ["a", "b"] };
    store.specs.set("s", d);
    const first = await store.list();
    const v0 = first.specs[0]!.version;
    const again = await store.list();
    assert.equal(again.specs[0]!.version, v0);
    assert.equal(again.revision, first.revision);
    assert.equal(again.specs[0], first.specs[0], "an unchanged entry is reused");

    const seen = new Set([v0]);
    const changed = async (what: string) => {
      const v = (await store.list()).specs[0]!.version;
      assert.ok(!seen.has(v), `${what} gives a new version`);
      seen.add(v);
    };
    d.instrument["value"] = "result * 2";
    await changed("a nested string");
    (d.instrument["custom"] as { tags: string[] }).tags[1] = "c";
    await changed("an array element");
    (d["lastmodified"] as Date).setTime(2000);
    await changed("a date's time");
    d["extra"] = undefined;
    await changed("a key added, even with an undefined value");
    delete d["extra"];
    d["lifespan"] = 11;
    await changed("a number");
    d.instrument["custom"] = { tags: ["a", "c"] };
    const sameContent = (await store.list()).specs[0]!.version;
    assert.ok(seen.has(sameContent), "a replaced nested object with equal content keeps the version");
    d.instrument["custom"] = { tags: ["a", "c"], more: 1 };
    await changed("a replaced nested object");

    // `applied` is not content: writing it keeps the version and the revision.
    const before = await store.list();
    (d["applied"] as Record<string, unknown>)["p"] = { state: "applied" };
    const after = await store.list();
    assert.equal(after.specs[0]!.version, before.specs[0]!.version);
    assert.equal(after.revision, before.revision);

    // A value turned into a getter: not run, and the document gets an opaque version.
    let ran = 0;
    Object.defineProperty(d, "target", { get: () => ++ran, enumerable: true, configurable: true });
    await changed("a getter");
    await store.list();
    assert.equal(ran, 0, "no getter ran");
    // Readable again: fingerprinted by content again, so the edit back to an earlier content is seen.
    Object.defineProperty(d, "target", { value: "src/a.ts:f", writable: true, enumerable: true, configurable: true });
    const readable = (await store.list()).specs[0]!.version;
    assert.ok(!readable.startsWith("opaque"));
    // A nested object swapped for a Proxy: no trap runs.
    let trapped = 0;
    d.instrument = new Proxy(
      { ...d.instrument },
      { ownKeys: () => (trapped++, []), getOwnPropertyDescriptor: () => (trapped++, undefined) },
    );
    const proxied = (await store.list()).specs[0]!.version;
    assert.notEqual(proxied, readable, "a nested Proxy changes the version (to the document's opaque one)");
    assert.equal(trapped, 0);
    await store.close();
  });

  it("gives equal content under another id or object the same version after caching", async () => {
    const store = memoryStore();
    const a = doc("src/a.ts:f");
    store.specs.set("a", a);
    await store.list();
    (a as Record<string, unknown>)["target"] = "src/a.ts:g";
    store.specs.set("b", doc("src/a.ts:g"));
    const s = await store.list();
    assert.equal(s.specs[0]!.version, s.specs[1]!.version);
    await store.close();
  });

  it("writes each process's status into `doc.applied[processId]`, and drops it when a later report leaves the spec out", async () => {
    const store = memoryStore();
    const d = doc("src/a.ts:f");
    store.specs.set("s", d);
    const at = new Date();
    await store.reportStatus({
      processId: "h:1",
      labels: {},
      at,
      specs: { s: { lm: new Date(1000), err: null, state: "applied", hits: 0, at } },
    });
    await store.reportStatus({
      processId: "__proto__",
      labels: {},
      at,
      specs: { s: { lm: null, err: "x", state: "error", hits: 0, at } },
    });
    const applied = d["applied"] as Record<string, { state: string }>;
    assert.equal(applied["h:1"]?.state, "applied");
    assert.ok(Object.hasOwn(applied, "__proto__"), "a hostile process id is a plain key");
    assert.equal(Object.getPrototypeOf(applied), Object.prototype);
    await store.reportStatus({ processId: "h:1", labels: {}, at, specs: {} });
    assert.equal(Object.hasOwn(applied, "h:1"), false);
    // A re-put keeps the statuses of the processes that reported on it.
    await store.put("s", doc("src/a.ts:g"));
    assert.ok(Object.hasOwn(store.specs.get("s")?.["applied"] as object, "__proto__"));
  });

  it("writes statuses into the documents detached from the caller's report, hostile keys as plain keys", async () => {
    const store = memoryStore();
    store.specs.set("a", doc("src/a.ts:f"));
    store.specs.set("b", doc("src/a.ts:g"));
    const at = new Date(5000);
    const lm = new Date(1000);
    const extra = { nested: [1, { deep: true }] };
    const status = { lm, err: null, state: "applied", hits: 2, at, extra };
    const weird = JSON.parse('{"__proto__": {"x": 1}, "state": "error"}') as Record<string, unknown>;
    await store.reportStatus({ processId: "p", labels: {}, at, specs: { a: status, b: weird } as never });
    const a = (store.specs.get("a")!["applied"] as Record<string, typeof status>)["p"]!;
    const b = (store.specs.get("b")!["applied"] as Record<string, Record<string, unknown>>)["p"]!;
    assert.deepEqual(a, status);
    assert.notEqual(a, status);
    assert.ok(Object.hasOwn(b, "__proto__"), "a __proto__ key stays a plain key");
    assert.equal(Object.getPrototypeOf(b), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(b, "__proto__")?.value, { x: 1 });
    // The caller's objects are not the store's: editing one changes nothing in the other.
    lm.setTime(0);
    extra.nested.push(3);
    status.state = "error";
    assert.equal(a.lm.getTime(), 1000);
    assert.equal(a.extra.nested.length, 2);
    assert.equal(a.state, "applied");
    const [report] = await store.listStatus();
    const listed = report!.specs["a"] as unknown as typeof status;
    assert.equal(listed.lm.getTime(), 1000);
    assert.notEqual(listed, a, "listStatus() hands out copies");
  });

  it("gives a snapshot the same revision whether it is read at once or after later lists", async () => {
    const store = memoryStore([["a", doc("src/a.ts:f")]]);
    const unread = await store.list();
    const again = await store.list();
    const read = (await store.list()).revision;
    assert.equal(again.revision, read);
    assert.equal(unread.revision, read);
    assert.deepEqual(Object.keys(unread), ["specs", "revision"], "revision is an own enumerable key");
    (store.specs.get("a")!["instrument"] as Record<string, unknown>)["value"] = "args";
    const edited = await store.list();
    assert.notEqual(edited.revision, read);
    (store.specs.get("a")!["instrument"] as Record<string, unknown>)["value"] = "result";
    assert.equal((await store.list()).revision, read);
  });

  it("lists hostile documents set directly without running their code", async () => {
    const store = memoryStore();
    let ran = 0;
    const getter = doc("src/a.ts:f");
    Object.defineProperty(getter, "x", { enumerable: true, get: () => ++ran });
    const proxy = new Proxy(doc("src/a.ts:f"), {
      get: () => ++ran,
      ownKeys: () => {
        ran++;
        return [];
      },
      getOwnPropertyDescriptor: () => {
        ran++;
        return undefined;
      },
    });
    const frozen = Object.freeze(doc("src/a.ts:f"));
    store.specs.set("getter", getter).set("proxy", proxy).set("frozen", frozen);
    const a = await store.list();
    const b = await store.list();
    assert.equal(ran, 0, "no getter or trap ran");
    assert.deepEqual(
      a.specs.map((s) => s.version),
      b.specs.map((s) => s.version),
      "opaque versions are stable",
    );
    const at = new Date();
    await store.reportStatus({
      processId: "p",
      labels: {},
      at,
      specs: {
        getter: { lm: null, err: null, state: "pending", hits: 0, at },
        proxy: { lm: null, err: null, state: "pending", hits: 0, at },
        frozen: { lm: null, err: null, state: "pending", hits: 0, at },
      },
    });
    assert.equal(ran, 0);
    assert.equal((await store.listStatus()).length, 1);
  });

  it("rings the change feed for Map writes, once per turn", async () => {
    const store = memoryStore();
    let rings = 0;
    const sub = store.watch((c) => {
      if (c.kind === "changed") rings++;
    });
    store.specs.set("a", doc("src/a.ts:f"));
    store.specs.set("b", doc("src/a.ts:f"));
    store.specs.delete("a");
    await new Promise((r) => setImmediate(r));
    assert.equal(rings, 1);
    store.specs.clear();
    await new Promise((r) => setImmediate(r));
    assert.equal(rings, 2);
    sub.close();
    await store.close();
  });
});
