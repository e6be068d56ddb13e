/**
 * Signed specs on real instrumented code: a manager with `verify` applies only specs signed by a
 * trusted, unexpired key and refuses every other one (unsigned, tampered field by field, moved to
 * another id, unknown key, expired key, replayed, hostile signature values), with the reason in
 * the spec's status and nothing of it running. The canonical form is pinned, stable under key
 * order and across a JSON round trip through the file store; fast-check throws hostile signature
 * fields at the verifier.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { after, afterEach, describe, test } from "node:test";
import fc from "fast-check";
import {
  canonicalSpec,
  fileStore,
  generateSigningKeyPair,
  ManagerOptionsError,
  parseSigningKey,
  ProbeTestInstrument,
  probes,
  signSpec,
  SpecSigningError,
  trustedKey,
  verifySpecSignature,
  type Spec,
} from "../../../runtime/index.js";
import { validateSpec } from "../../../runtime/manager/validate.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { makeTempFolder } from "../../helpers/temp.js";
import { raw, sleep, specDoc, stopManagers, testManager, until } from "./helpers.js";

const SOURCE = `export function price(qty: number) { return qty * 3; }
export function other(x: number) { return x; }
`;

let n = 0;
async function load() {
  return loadInstrumented<{ price(q: number): number; other(x: number): number }>(SOURCE, `src/signing${++n}/shop.ts`);
}

function pair(): { pub: string; key: ReturnType<typeof parseSigningKey>; keyId: string } {
  const p = generateSigningKeyPair();
  return { pub: p.publicKeyPem, key: parseSigningKey(p.privateKeyPem), keyId: p.keyId };
}

const A = pair();
const B = pair();

function fired(target: string, id: string): number {
  const i = probes.get(target)?.instruments.get(id);
  return i instanceof ProbeTestInstrument ? i.results.length : 0;
}

function errOf(mgr: { status(): Record<string, { err: string | null; state: string }> }, id: string): string {
  const s = mgr.status()[id];
  assert.ok(s !== undefined, `no status for ${id}`);
  assert.equal(s.state, "error", `state of ${id}`);
  assert.ok(s.err !== null);
  return s.err;
}

afterEach(stopManagers);
after(stopManagers);

describe("a manager that verifies", () => {
  test("applies a signed spec (it fires on real code) and refuses an unsigned one, which never runs", async () => {
    const m = await load();
    const { mgr } = testManager({ verify: { keys: [A.pub] } });
    assert.equal(mgr.verifying, true);
    const price = m.qualified("price");
    mgr.specs.set("signed", signSpec("signed", specDoc(price), A.key));
    mgr.specs.set("unsigned", specDoc(price, { name: "u" }));
    const report = await mgr.apply();
    assert.deepEqual(report.attached, ["signed"]);
    assert.deepEqual(
      report.refused.map((r) => r.id),
      ["unsigned"],
    );
    assert.equal(m.exports.price(2), 6);
    assert.equal(fired(price, "signed"), 1);
    assert.equal(probes.get(price)?.instruments.has("unsigned"), false);
    assert.match(
      errOf(mgr, "unsigned"),
      /not signed, and this process requires signed specs: add it with 'diagnose specs add … --sign-key/,
    );
    // The refusal reaches the spec's status in the store.
    await mgr.flushStatus();
    assert.match(mgr.specs.get("unsigned")!.applied[mgr.processId]!.err ?? "", /not signed/);
  });

  test("off by default: unsigned specs apply, and a signature field is neither needed nor warned about", async () => {
    const m = await load();
    const { mgr, lines } = testManager();
    assert.equal(mgr.verifying, false);
    mgr.specs.set("plain", specDoc(m.qualified("price")));
    mgr.specs.set("signed", signSpec("signed", specDoc(m.qualified("other")), A.key));
    const report = await mgr.apply();
    assert.deepEqual(report.attached.sort(), ["plain", "signed"]);
    assert.deepEqual(lines, []);
  });

  test("every signed field is covered: changing any one of them after signing is refused", async () => {
    const m = await load();
    const { mgr } = testManager({ verify: { keys: [A.pub] }, labels: { app: "shop", zone: "eu" } });
    const price = m.qualified("price");
    const base = (): Spec =>
      specDoc(
        price,
        {
          type: "test",
          name: "t",
          value: "result",
          event: "return",
          custom: { tags: "{ q: qty }", condition: "qty > 0", extra: { deep: [1, 2] } },
        },
        {
          lifespan: 30,
          lastmodified: new Date("2026-01-01T00:00:00.000Z"),
          selector: { app: "shop" },
        },
      );
    const tamper: Record<string, (d: Spec) => void> = {
      target: (d) => (d.target = m.qualified("other")),
      "instrument.type": (d) => (d.instrument.type = "log"),
      "instrument.name": (d) => (d.instrument.name = "renamed"),
      "instrument.value": (d) => (d.instrument.value = "qty"),
      "instrument.event": (d) => (d.instrument.event = "call"),
      "instrument.custom.tags": (d) => (d.instrument.custom!["tags"] = "{ q: 1 }"),
      "instrument.custom.condition": (d) => (d.instrument.custom!["condition"] = "true"),
      "instrument.custom (nested)": (d) => ((d.instrument.custom!["extra"] as { deep: number[] }).deep[1] = 3),
      "instrument.custom (added key)": (d) => (d.instrument.custom!["sample"] = 1),
      lifespan: (d) => (d.lifespan = 60 * 24 * 365),
      lastmodified: (d) => (d.lastmodified = new Date(d.lastmodified.getTime() + 1)),
      selector: (d) => (d.selector = { app: "shop", zone: "eu" }),
    };
    // Signed with a current lastmodified, so no lifespan has run out before the signature is checked.
    const now = Date.now();
    for (const [field, change] of Object.entries(tamper)) {
      const id = `t-${field}`;
      const fresh = signSpec(id, { ...base(), lastmodified: new Date(now) }, A.key) as Spec;
      const copy = structuredClone(fresh);
      change(copy);
      mgr.specs.set(id, copy);
    }
    const report = await mgr.apply();
    assert.deepEqual(report.attached, []);
    assert.deepEqual(
      report.refused.map((r) => r.id).sort(),
      Object.keys(tamper)
        .map((f) => `t-${f}`)
        .sort(),
    );
    for (const r of report.refused)
      assert.match(r.err, /does not match the spec: a signed field was changed after signing/, r.id);
    m.exports.price(1);
    m.exports.other(1);
    assert.equal(probes.get(price), undefined, "no probe was created for a refused spec");
  });

  test("a signature moved to another id is refused", async () => {
    const m = await load();
    const { mgr } = testManager({ verify: { keys: [A.pub] } });
    const signed = signSpec("original", specDoc(m.qualified("price")), A.key);
    mgr.specs.set("original", signed);
    mgr.specs.set("copy", structuredClone(signed));
    const report = await mgr.apply();
    assert.deepEqual(report.attached, ["original"]);
    assert.match(errOf(mgr, "copy"), /does not match the spec: .*signature was made for another spec id/);
  });

  test("unknown key and malformed signatures: each refusal says what is wrong", async () => {
    const m = await load();
    const { mgr } = testManager({ verify: { keys: [A.pub] } });
    const price = m.qualified("price");
    const good = signSpec("x", specDoc(price), A.key);
    mgr.specs.set("by-b", signSpec("by-b", specDoc(price), B.key));
    const cases: Record<string, unknown> = {
      "sig-string": "abc",
      "sig-array": [good.signature],
      "sig-no-keyid": { sig: good.signature.sig },
      "sig-short": { keyId: A.keyId, sig: "AAAA" },
      // base64url is not the alphabet signatures are written in (one encoding per signature).
      "sig-url-alphabet": { keyId: A.keyId, sig: `-_${good.signature.sig.slice(2)}` },
      "sig-number-keyid": { keyId: 7, sig: good.signature.sig },
    };
    for (const [id, signature] of Object.entries(cases)) mgr.specs.set(id, { ...specDoc(price), signature } as Spec);
    const getter = specDoc(price);
    Object.defineProperty(getter, "signature", { get: () => good.signature, enumerable: true });
    mgr.specs.set("sig-getter", getter);
    mgr.specs.set("sig-proxy", { ...specDoc(price), signature: new Proxy({ ...good.signature }, {}) } as Spec);
    const report = await mgr.apply();
    assert.deepEqual(report.attached, []);
    assert.match(
      errOf(mgr, "by-b"),
      new RegExp(`signed with key "${B.keyId}", which this process does not trust: add that public key`),
    );
    assert.match(errOf(mgr, "sig-string"), /`signature` must be a plain \{ keyId, sig \} object/);
    assert.match(errOf(mgr, "sig-array"), /`signature` must be a plain \{ keyId, sig \} object/);
    assert.match(errOf(mgr, "sig-proxy"), /`signature` must be a plain \{ keyId, sig \} object/);
    assert.match(errOf(mgr, "sig-getter"), /`signature` is a getter/);
    assert.match(errOf(mgr, "sig-no-keyid"), /`signature.keyId` must be/);
    assert.match(errOf(mgr, "sig-number-keyid"), /`signature.keyId` must be/);
    assert.match(errOf(mgr, "sig-short"), /`signature.sig` must be a base64 Ed25519 signature/);
    assert.match(errOf(mgr, "sig-url-alphabet"), /`signature.sig` must be a base64 Ed25519 signature/);
  });

  test("rotation: two keys, one expired — the current key's specs apply, the expired key's are refused", async () => {
    const m = await load();
    const { mgr } = testManager({
      verify: {
        keys: [
          { keyId: "2025", publicKey: A.pub, notAfter: "2026-01-01T00:00:00Z" },
          { keyId: "2026", publicKey: B.pub },
        ],
      },
    });
    const price = m.qualified("price");
    mgr.specs.set("old", signSpec("old", specDoc(price), { ...A.key, keyId: "2025" }));
    mgr.specs.set("new", signSpec("new", specDoc(price, { name: "n" }), { ...B.key, keyId: "2026" }));
    const report = await mgr.apply();
    assert.deepEqual(report.attached, ["new"]);
    assert.match(
      errOf(mgr, "old"),
      /signed with key "2025", which expired at 2026-01-01T00:00:00.000Z: sign it again with a current key/,
    );
    m.exports.price(1);
    assert.equal(fired(price, "new"), 1);
    assert.equal(fired(price, "old"), 0);
  });

  test("a spec lives no longer than its key is trusted: it expires when the key does", async () => {
    const m = await load();
    const { mgr } = testManager({ verify: { keys: [{ publicKey: A.pub, notAfter: new Date(Date.now() + 300) }] } });
    const price = m.qualified("price");
    mgr.specs.set("s", signSpec("s", specDoc(price), A.key));
    assert.deepEqual((await mgr.apply()).attached, ["s"]);
    await until(() => mgr.status()["s"]?.state === "expired", 3_000, "expiry with the key");
    // The status may say expired (the instrument stops by itself) a moment before the manager's timer removes it.
    await until(() => !(probes.get(price)?.instruments.has("s") ?? false), 3_000, "removal at the key's expiry");
    // Written again after the key expired: refused.
    mgr.specs.set("s", signSpec("s", specDoc(price, { name: "again" }), A.key));
    await mgr.apply();
    assert.match(errOf(mgr, "s"), /which expired at/);
  });

  test("replay: an older signed version written back is refused, and so is a removed spec brought back unchanged", async () => {
    const m = await load();
    const { mgr } = testManager({ verify: { keys: [A.pub] } });
    const price = m.qualified("price");
    const t = Date.now();
    const v1 = signSpec("s", specDoc(price, { name: "v1" }, { lastmodified: new Date(t - 2_000) }), A.key);
    const v2 = signSpec("s", specDoc(price, { name: "v2" }, { lastmodified: new Date(t - 1_000) }), A.key);
    mgr.specs.set("s", v2);
    assert.deepEqual((await mgr.apply()).attached, ["s"]);
    mgr.specs.set("s", v1);
    await mgr.apply();
    assert.match(
      errOf(mgr, "s"),
      /lastmodified .* is older than a version this process already applied .*refused as a replay/,
    );
    m.exports.price(1);
    assert.equal(fired(price, "s"), 0, "the replayed version does not run");

    mgr.specs.set("s", v2); // the newest version itself is fine again
    assert.deepEqual((await mgr.apply()).attached, ["s"]);
    mgr.specs.delete("s");
    assert.deepEqual((await mgr.apply()).removed, ["s"]);
    mgr.specs.set("s", structuredClone(v2));
    await mgr.apply();
    assert.match(errOf(mgr, "s"), /that of a version this process already applied and saw removed/);
    const v3 = signSpec("s", specDoc(price, { name: "v3" }, { lastmodified: new Date(t) }), A.key);
    mgr.specs.set("s", v3);
    assert.deepEqual((await mgr.apply()).attached, ["s"]);
  });

  test("turning verification on re-judges what was applied unsigned", async () => {
    const m = await load();
    const { mgr } = testManager();
    mgr.specs.set("u", specDoc(m.qualified("price")));
    assert.deepEqual((await mgr.apply()).attached, ["u"]);
    mgr.configure({ verify: { keys: [A.pub] } });
    await mgr.apply();
    assert.match(errOf(mgr, "u"), /not signed/);
    assert.equal(probes.get(m.qualified("price"))?.instruments.has("u") ?? false, false);
    mgr.configure({ verify: null });
    assert.deepEqual((await mgr.apply()).attached, ["u"]);
  });

  test("bad verify options are ManagerOptionsErrors that say what to give", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    const priv = generateSigningKeyPair().privateKeyPem;
    const cases: [unknown, RegExp][] = [
      [{ keys: [] }, /`verify.keys` is empty: every spec would be refused/],
      [{}, /`verify` must be \{ keys: \[publicKey, …\] \}/],
      [{ keys: ["not a key"] }, /verify.keys\[0\] could not be read as an Ed25519 public key/],
      [{ keys: [rsa] }, /verify.keys\[0\] is a rsa key; signed specs use Ed25519/],
      [{ keys: [priv] }, /verify.keys\[0\] is a private key; give the public key/],
      [{ keys: [A.pub, A.pub] }, /two trusted keys have the id/],
      [{ keys: [{ publicKey: A.pub, notAfter: "soon" }] }, /notAfter must be a Date or an ISO 8601 date/],
      [{ keys: [{ publicKey: A.pub, keyId: "has space" }] }, /keyId must be 1 to 200 printable characters/],
    ];
    for (const [verify, message] of cases) {
      assert.throws(
        () => testManager({ verify: verify as never }),
        (e: unknown) => e instanceof ManagerOptionsError && message.test((e as Error).message),
      );
    }
    // Raw base64 (32 bytes) is a key too, with the same id as its PEM form.
    const rawKey = trustedKey(
      Buffer.from(trustedKey(A.pub).key.export({ format: "jwk" }).x!, "base64url").toString("base64"),
    );
    assert.equal(rawKey.keyId, A.keyId);
  });
});

describe("the canonical form", () => {
  const doc = (): Spec =>
    ({
      target: "src/shop/cart.ts:Cart.total",
      instrument: {
        type: "log",
        name: "total",
        value: "result",
        custom: { tags: "{ a: 1 }", b: [2, -0, 1.5e-7], a: { z: true, y: null } },
      },
      lifespan: 10,
      lastmodified: new Date("2026-03-04T05:06:07.089Z"),
      selector: { zone: "eu", app: "shop" },
      applied: {},
    }) as Spec;

  const canonical = (id: string, d: unknown): string => {
    const v = validateSpec(id, d);
    assert.ok(v.ok, v.ok ? "" : v.error);
    return canonicalSpec(id, v.spec);
  };

  test("is pinned: sorted keys, ISO UTC milliseconds, -0 as 0, absent as null", () => {
    assert.equal(
      canonical("cart", doc()),
      '{"id":"cart","instrument":{"custom":{"a":{"y":null,"z":true},"b":[2,0,1.5e-7],"tags":"{ a: 1 }"},"event":null,"name":"total",' +
        '"type":"log","value":"result"},"lastmodified":"2026-03-04T05:06:07.089Z","lifespan":10,' +
        '"selector":{"app":"shop","zone":"eu"},"target":"src/shop/cart.ts:Cart.total","v":"diagnose-spec/1"}',
    );
  });

  test("is the same whatever the key order, and a signature made on one order verifies on another", () => {
    const a = doc();
    const reordered = {
      applied: {},
      selector: { app: "shop", zone: "eu" },
      lastmodified: "2026-03-04T06:06:07.089+01:00",
      lifespan: 10,
      instrument: {
        custom: { a: { y: null, z: true }, b: [2, 0, 1.5e-7], tags: "{ a: 1 }" },
        value: "result",
        name: "total",
        type: "log",
      },
      target: "src/shop/cart.ts:Cart.total",
    };
    assert.equal(canonical("cart", reordered), canonical("cart", a));
    const signed = signSpec("cart", a, A.key);
    const v = validateSpec("cart", reordered);
    assert.ok(v.ok);
    const keys = new Map([[A.keyId, trustedKey(A.pub)]]);
    assert.equal(
      verifySpecSignature("cart", { ...reordered, signature: signed.signature }, v.spec, keys, Date.now()).ok,
      true,
    );
  });

  test("survives a JSON round trip through the file store: a verifying manager on the file applies it", async () => {
    const m = await load();
    const dir = makeTempFolder("signing");
    const store = fileStore(join(dir, "specs.json"));
    try {
      const d = specDoc(
        m.qualified("price"),
        { custom: { tags: "{ q: qty }", n: 1.1 } },
        { selector: { app: "shop" }, lifespan: 5 },
      );
      await store.put("s", signSpec("s", d, A.key));
      const back = (await store.list()).specs.find((s) => s.id === "s")!.doc;
      assert.equal(typeof back["lastmodified"] === "object" || typeof back["lastmodified"] === "string", true);
      assert.equal(canonical("s", back), canonical("s", d));
      const { mgr } = testManager({ store, verify: { keys: [A.pub] }, labels: { app: "shop" } });
      const report = await mgr.apply();
      assert.deepEqual(report.attached, ["s"]);
      assert.deepEqual(report.refused, []);
      m.exports.price(2);
      assert.equal(fired(m.qualified("price"), "s"), 1);
    } finally {
      await stopManagers();
      await store.close();
    }
  });

  test("values a signature cannot cover are refused when signing and when verifying", () => {
    const d = doc();
    d.instrument.custom = { when: new Date(), f: undefined };
    assert.throws(
      () => signSpec("c", d, A.key),
      (e: unknown) =>
        e instanceof SpecSigningError &&
        /`spec.instrument.custom.when` is not a plain object/.test((e as Error).message),
    );
    const big: Record<string, unknown> = {};
    let cur = big;
    for (let i = 0; i < 40; i++) cur = (cur["x"] = {}) as Record<string, unknown>;
    d.instrument.custom = { big };
    assert.throws(() => signSpec("c", d, A.key), /nested more than 32 levels deep/);
    d.instrument.custom = { n: Number.NaN };
    const v = validateSpec("c", d);
    assert.ok(v.ok);
    const verdict = verifySpecSignature(
      "c",
      { ...d, signature: { keyId: A.keyId, sig: "A".repeat(86) + "==" } },
      v.spec,
      new Map([[A.keyId, trustedKey(A.pub)]]),
      Date.now(),
    );
    assert.deepEqual(verdict, {
      ok: false,
      error: "The spec cannot be verified: `spec.instrument.custom.n` is NaN; only finite numbers can be signed.",
    });
  });
});

describe("fuzz: hostile signature fields", () => {
  test("never a crash, never applied, always a refusal with a sentence", async (t) => {
    const m = await load();
    const price = m.qualified("price");
    const base = specDoc(price);
    const good = signSpec("f", base, A.key).signature;
    const keys = new Map([[A.keyId, trustedKey(A.pub)]]);
    const v = validateSpec("f", base);
    assert.ok(v.ok);
    const hostile = fc.oneof(
      fc.anything({
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
        withNullPrototype: true,
        withSparseArray: true,
      }),
      fc.record({
        keyId: fc.oneof(fc.constant(A.keyId), fc.string(), fc.anything()),
        sig: fc.oneof(fc.string(), fc.base64String(), fc.anything()),
      }),
      fc
        .uint8Array({ minLength: 64, maxLength: 64 })
        .map((b) => ({ keyId: A.keyId, sig: Buffer.from(b).toString("base64") })),
      fc.record({ keyId: fc.constant(A.keyId), sig: fc.constant(good.sig) }).map(
        (s) =>
          new Proxy(s, {
            get: () => {
              throw new Error("trap");
            },
          }),
      ),
      // The good signature with its last byte changed (whatever that byte was).
      fc.constant({ keyId: A.keyId, sig: good.sig.slice(0, -4) + (good.sig.endsWith("AA==") ? "AQ==" : "AA==") }),
    );
    let tried = 0;
    let refused = 0;
    let leaked = 0;
    fc.assert(
      fc.property(hostile, (signature) => {
        tried++;
        const doc = { ...base, signature };
        let verdict: ReturnType<typeof verifySpecSignature>;
        try {
          verdict = verifySpecSignature("f", doc, v.spec, keys, Date.now());
        } catch {
          leaked++;
          return false;
        }
        if (verdict.ok) return false;
        refused++;
        return typeof verdict.error === "string" && verdict.error.length > 20 && !verdict.error.includes("undefined");
      }),
      { numRuns: 3_000 },
    );
    assert.equal(leaked, 0);
    assert.equal(refused, tried);
    t.diagnostic(`hostile signatures: tried ${tried}, refused ${refused}, leaked ${leaked}`);

    // Through the manager too: a batch of hostile specs, none attached, each refused in its status.
    const { mgr } = testManager({ verify: { keys: [A.pub] } });
    const samples = fc.sample(hostile, 200);
    for (const [i, signature] of samples.entries()) mgr.specs.set(`h${i}`, raw({ ...specDoc(price), signature }));
    const report = await mgr.apply();
    assert.deepEqual(report.attached, []);
    assert.equal(report.refused.length, samples.length);
    for (const r of report.refused) assert.ok(r.err.length > 20);
    m.exports.price(1);
    assert.equal(probes.get(price), undefined);
    await sleep(0);
  });
});
