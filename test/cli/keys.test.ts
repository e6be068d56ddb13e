/**
 * Signed specs from the command line, with the real CLI and real processes: `keys generate`,
 * `specs add --sign-key`, `specs verify`, and a service started through the loader with
 * DIAGNOSE_VERIFY_KEYS that applies the signed spec written by the CLI to its file store and
 * refuses an unsigned one (the refusal in its status, nothing printed for it).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileStore } from "../../runtime/manager/stores/file.js";
import { CLI, REGISTER_URL, tempDir } from "../integrations/helpers.js";
import { childEnv } from "../helpers/child-env.js";

const SERVICE = `let n = 0;
export function price(qty: number): number { return qty * 3; }
const timer = setInterval(() => {
  price(++n);
  if (n === 1) console.log("service up");
}, 20);
process.on("SIGTERM", () => { clearInterval(timer); console.log("service down"); });
`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const children: ChildProcess[] = [];
let project: { dir: string; remove(): void };
let dir: string;
let storeFile: string;

function cli(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: childEnv(env),
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const store = (): string => `file:${storeFile}`;

before(() => {
  project = tempDir("keys");
  dir = project.dir;
  storeFile = join(dir, "specs.json");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "shop", type: "module" }));
  writeFileSync(join(dir, "service.ts"), SERVICE);
});
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  project.remove();
});

let keyId = "";

describe("diagnose keys generate", () => {
  test("writes a private key (owner-only) and a public key, and prints the key id", () => {
    const r = cli(["keys", "generate", "--out", "keys/team"]);
    assert.equal(r.status, 0, r.stderr);
    const m = /^key id ([0-9a-f]{16})$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    keyId = m[1]!;
    assert.match(readFileSync(join(dir, "keys", "team.key"), "utf8"), /^-----BEGIN PRIVATE KEY-----/);
    assert.match(readFileSync(join(dir, "keys", "team.pub"), "utf8"), /^-----BEGIN PUBLIC KEY-----/);
    if (process.platform !== "win32") assert.equal(statSync(join(dir, "keys", "team.key")).mode & 0o777, 0o600);
  });

  test("never overwrites a key without --force (exit 2); --json prints the paths", () => {
    const before = readFileSync(join(dir, "keys", "team.key"), "utf8");
    const r = cli(["keys", "generate", "--out", "keys/team"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /team\.key exists; nothing was written \(--force replaces it/);
    assert.equal(readFileSync(join(dir, "keys", "team.key"), "utf8"), before);
    const j = cli(["keys", "generate", "--out", "other", "--json"]);
    assert.equal(j.status, 0, j.stderr);
    const out = JSON.parse(j.stdout) as { keyId: string; privateKey: string; publicKey: string };
    assert.match(out.keyId, /^[0-9a-f]{16}$/);
    assert.ok(existsSync(out.privateKey) && existsSync(out.publicKey));
    assert.equal(cli(["keys"]).status, 2);
  });
});

describe("diagnose specs add --sign-key and specs verify", () => {
  test("signs before writing: the stored spec carries { keyId, sig } and verifies", () => {
    const r = cli([
      "specs",
      "add",
      "signed",
      "--target",
      "service.ts:price",
      "--value",
      "result",
      "--sign-key",
      "keys/team.key",
      "--store",
      store(),
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`added spec signed .*signed with key ${keyId}`));
    const stored = JSON.parse(readFileSync(storeFile, "utf8")) as unknown;
    assert.match(
      JSON.stringify(stored),
      new RegExp(`"signature":\\{"keyId":"${keyId}","sig":"[A-Za-z0-9+/]{86}=="\\}`),
    );
    const v = cli(["specs", "verify", "--public-key", "keys/team.pub", "--store", store()]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout, `ok       signed (key ${keyId})\n`);
    // DIAGNOSE_VERIFY_KEYS is the default, as for services.
    assert.equal(cli(["specs", "verify", "signed", "--store", store()], { DIAGNOSE_VERIFY_KEYS: "keys" }).status, 0);
  });

  test("--key-id names the key in the signature; a verifier that knows it by that id accepts it", () => {
    const r = cli([
      "specs",
      "add",
      "named",
      "--target",
      "service.ts:price",
      "--value",
      "qty",
      "--sign-key",
      "keys/team.key",
      "--key-id",
      "team-2026",
      "--store",
      store(),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const ring = join(dir, "ring.json");
    writeFileSync(
      ring,
      JSON.stringify({
        keys: [{ keyId: "team-2026", publicKey: readFileSync(join(dir, "keys", "team.pub"), "utf8") }],
      }),
    );
    const v = cli(["specs", "verify", "named", "--public-key", ring, "--store", store()]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const other = cli(["specs", "verify", "named", "--public-key", "keys/team.pub", "--store", store()]);
    assert.equal(other.status, 3);
    assert.match(
      other.stdout,
      /REFUSED {2}named: The spec is signed with key "team-2026", which this process does not trust/,
    );
    cli(["specs", "rm", "named", "--store", store()]);
  });

  test("a spec changed in the store after signing is reported by verify (exit 3), unsigned ones too", () => {
    const text = readFileSync(storeFile, "utf8");
    try {
      writeFileSync(
        storeFile,
        text.replace('"value":"result"', '"value":"qty"').replace('"value": "result"', '"value": "qty"'),
      );
      assert.notEqual(readFileSync(storeFile, "utf8"), text, "the store file was changed");
      const v = cli(["specs", "verify", "--public-key", "keys/team.pub", "--store", store()]);
      assert.equal(v.status, 3, v.stdout + v.stderr);
      assert.match(v.stdout, /REFUSED {2}signed: The signature \(key "[0-9a-f]{16}"\) does not match the spec/);
      assert.match(v.stderr, /1 of 1 spec\(s\) would be refused/);
    } finally {
      writeFileSync(storeFile, text);
    }
    assert.equal(
      cli(["specs", "add", "plain", "--target", "service.ts:price", "--value", "result", "--store", store()]).status,
      0,
    );
    const v = cli(["specs", "verify", "plain", "--public-key", "keys/team.pub", "--store", store(), "--json"]);
    assert.equal(v.status, 3);
    const out = JSON.parse(v.stdout) as { specs: { id: string; ok: boolean; error?: string }[] };
    assert.deepEqual(
      out.specs.map((s) => [s.id, s.ok]),
      [["plain", false]],
    );
    assert.match(out.specs[0]!.error!, /not signed/);
    assert.equal(cli(["specs", "rm", "plain", "--store", store()]).status, 0);
  });

  test("usage errors: no key (2), a missing key file (2), a public key to sign with (2), no such spec (5)", () => {
    const noKey = cli(["specs", "verify", "--store", store()]);
    assert.equal(noKey.status, 2);
    assert.match(noKey.stderr, /specs verify needs --public-key FILE\|DIR \(or DIAGNOSE_VERIFY_KEYS\)/);
    const missing = cli([
      "specs",
      "add",
      "x",
      "--target",
      "service.ts:price",
      "--value",
      "result",
      "--sign-key",
      "nope.key",
      "--store",
      store(),
    ]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read --sign-key .*nope\.key/);
    const pub = cli([
      "specs",
      "add",
      "x",
      "--target",
      "service.ts:price",
      "--value",
      "result",
      "--sign-key",
      "keys/team.pub",
      "--store",
      store(),
    ]);
    assert.equal(pub.status, 2);
    assert.match(pub.stderr, /--sign-key .*team\.pub could not be read as a private key/);
    assert.equal(
      cli([
        "specs",
        "add",
        "x",
        "--target",
        "service.ts:price",
        "--value",
        "result",
        "--key-id",
        "k",
        "--store",
        store(),
      ]).status,
      2,
    );
    assert.equal(cli(["specs", "verify", "nosuch", "--public-key", "keys/team.pub", "--store", store()]).status, 5);
    assert.ok(
      !JSON.stringify(JSON.parse(readFileSync(storeFile, "utf8"))).includes('"x"'),
      "nothing was written for x",
    );
  });
});

interface Running {
  readonly child: ChildProcess;
  out: string;
  err: string;
  waitFor(re: RegExp, where?: "out" | "err", ms?: number): Promise<void>;
  exited: Promise<number | null>;
}

function startService(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ["--import", REGISTER_URL, "service.ts"], { cwd: dir, env: childEnv(env) });
  children.push(child);
  const r: Running = {
    child,
    out: "",
    err: "",
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
    waitFor(re, where = "out", ms = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${re} in:\n${r.out}\n--- stderr:\n${r.err}`)),
          ms,
        );
        const check = (): void => {
          if (re.test(where === "out" ? r.out : r.err)) {
            clearTimeout(timer);
            resolve();
          } else setTimeout(check, 20);
        };
        check();
      });
    },
  };
  child.stdout!.on("data", (d: Buffer) => (r.out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (r.err += d.toString()));
  return r;
}

async function statusOf(id: string): Promise<{ state: string; err: string | null } | undefined> {
  const s = fileStore(storeFile);
  try {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const found = (await s.listStatus())[0]?.specs[id];
      if (found !== undefined || Date.now() > deadline) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await s.close();
  }
}

describe("end to end: a service started with DIAGNOSE_VERIFY_KEYS", () => {
  test("applies the spec signed by the CLI and refuses an unsigned one, with the reason in its status", async () => {
    mkdirSync(join(dir, "trusted"), { recursive: true });
    copyFileSync(join(dir, "keys", "team.pub"), join(dir, "trusted", "team.pub"));
    const s = startService({ DIAGNOSE_STORE: `file:./specs.json`, DIAGNOSE_VERIFY_KEYS: "./trusted" });
    await s.waitFor(/service up/);
    // The spec "signed" from above is already in the store.
    await s.waitFor(/Probe \(signed\) = \d+/);
    const add = cli(["specs", "add", "unsigned", "--target", "service.ts:price", "--value", "qty", "--store", store()]);
    assert.equal(add.status, 0, add.stderr);
    let status: { state: string; err: string | null } | undefined;
    const deadline = Date.now() + 8_000;
    while (Date.now() < deadline) {
      status = await statusOf("unsigned");
      if (status?.state === "error") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status?.state, "error");
    assert.match(status?.err ?? "", /not signed, and this process requires signed specs/);
    assert.doesNotMatch(s.out, /Probe \(unsigned\)/);
    s.child.kill("SIGTERM");
    assert.equal(await s.exited, 0, s.err);
    assert.equal(cli(["specs", "rm", "unsigned", "--store", store()]).status, 0);
  });

  test("keys that cannot be loaded: one line on stderr, and no spec is applied unverified", async () => {
    const s = startService({ DIAGNOSE_STORE: `file:./specs.json`, DIAGNOSE_VERIFY_KEYS: "./no-such-keys" });
    await s.waitFor(/service up/);
    await s.waitFor(/signed specs are required but the keys could not be loaded/, "err");
    await new Promise((r) => setTimeout(r, 700));
    assert.doesNotMatch(s.out, /Probe \(/);
    s.child.kill("SIGTERM");
    assert.equal(await s.exited, 0, s.err);
  });
});
