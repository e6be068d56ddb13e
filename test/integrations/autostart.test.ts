/**
 * Autostart through the Node loader, in real child processes: with DIAGNOSE_STORE (or the
 * "diagnose" block of package.json) naming a file store, a spec written to that file is applied
 * in the running service and prints; its removal makes the service quiet again; a store that
 * cannot be opened is one line on stderr and the service runs normally. The service's code never
 * mentions Diagnose.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileStore } from "../../runtime/index.js";
import { REGISTER_URL, REPO_ROOT, tempDir } from "./helpers.js";
import { childEnv } from "../helpers/child-env.js";
import { pathToFileURL } from "node:url";
import { chooseStore } from "../../cli/store-option.js";
import { autostartConfig } from "../../integrations/node/autostart.js";

const SERVICE = `let n = 0;
export function price(qty: number): number { return qty * 3; }
const timer = setInterval(() => {
  price(++n);
  if (n === 1) console.log("service up");
}, 20);
process.on("SIGTERM", () => { clearInterval(timer); console.log("service down"); });
`;

const children: ChildProcess[] = [];
const dirs: { remove(): void }[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs) d.remove();
});

interface Running {
  readonly child: ChildProcess;
  out: string;
  err: string;
  waitFor(re: RegExp, ms?: number): Promise<void>;
  exited: Promise<number | null>;
}

function startService(dir: string, env: Record<string, string>, importUrl = REGISTER_URL): Running {
  const child = spawn(process.execPath, ["--import", importUrl, "service.ts"], { cwd: dir, env: childEnv(env) });
  children.push(child);
  const r: Running = {
    child,
    out: "",
    err: "",
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
    waitFor(re, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${re} in:\n${r.out}\n--- stderr:\n${r.err}`)),
          ms,
        );
        const check = (): void => {
          if (re.test(r.out)) {
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

function project(pkg: Record<string, unknown> = {}): string {
  const t = tempDir("autostart");
  dirs.push(t);
  writeFileSync(join(t.dir, "package.json"), JSON.stringify({ name: "shop", type: "module", ...pkg }));
  writeFileSync(join(t.dir, "service.ts"), SERVICE);
  return t.dir;
}

async function addSpec(file: string, id: string, value: string): Promise<void> {
  const store = fileStore(file);
  try {
    await store.put(id, {
      target: "service.ts:price",
      instrument: { type: "log", name: "price", value },
      lifespan: null,
      lastmodified: new Date().toISOString(),
      applied: {},
    });
  } finally {
    await store.close();
  }
}

test("DIAGNOSE_STORE=file:…: a spec written to the file is applied in the running service and prints; removing it silences it", async () => {
  const dir = project();
  const s = startService(dir, { DIAGNOSE_STORE: "file:./diagnose-specs.json" });
  await s.waitFor(/service up/);
  const file = join(dir, "diagnose-specs.json");
  await addSpec(file, "p1", "result");
  await s.waitFor(/Probe \(price\) = \d+/);
  // The status reaches the store.
  const store = fileStore(file);
  try {
    const deadline = Date.now() + 5_000;
    let state: string | undefined;
    while (Date.now() < deadline) {
      const reports = await store.listStatus();
      state = reports[0]?.specs["p1"]?.state;
      if (state === "emitting") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state, "emitting");
    await store.remove("p1");
  } finally {
    await store.close();
  }
  // Quiet again: no new probe line after the removal has been applied.
  await new Promise((r) => setTimeout(r, 800));
  const count = (s.out.match(/Probe \(price\)/g) ?? []).length;
  await new Promise((r) => setTimeout(r, 400));
  assert.equal((s.out.match(/Probe \(price\)/g) ?? []).length, count);
  s.child.kill("SIGTERM");
  assert.equal(await s.exited, 0, s.err);
  assert.doesNotMatch(s.err, /diagnose:/);
});

test('the "diagnose" block of package.json starts it too, with its labels matched against selectors', async () => {
  const dir = project({ diagnose: { store: "file:./specs.json", labels: { app: "shop" } } });
  const file = join(dir, "specs.json");
  const store = fileStore(file);
  try {
    await store.put("other", {
      target: "service.ts:price",
      instrument: { type: "log", name: "other", value: "result" },
      lastmodified: new Date().toISOString(),
      selector: { app: "billing" },
    });
    await store.put("mine", {
      target: "service.ts:price",
      instrument: { type: "log", name: "mine", value: "qty" },
      lastmodified: new Date().toISOString(),
      selector: { app: "shop" },
    });
  } finally {
    await store.close();
  }
  const s = startService(dir, {});
  await s.waitFor(/Probe \(mine\) = \d+/);
  s.child.kill("SIGTERM");
  await s.exited;
  assert.doesNotMatch(s.out, /Probe \(other\)/);
});

test("a relative file: store in package.json means the same file to the service and to the CLI, from any subfolder", () => {
  const dir = project({ diagnose: { store: "file:./specs.json" } });
  const sub = join(dir, "src", "shop");
  mkdirSync(sub, { recursive: true });
  const expected = `file:${join(dir, "specs.json")}`;
  assert.equal(autostartConfig({}, sub)?.store, expected);
  assert.equal(chooseStore(undefined, {}, sub).uri, expected);
  // From the environment, a relative path is the working directory's, for both.
  const env = { DIAGNOSE_STORE: "file:./here.json" };
  assert.equal(autostartConfig(env, sub)?.store, `file:${join(sub, "here.json")}`);
  assert.equal(chooseStore(undefined, env, sub).uri, `file:${join(sub, "here.json")}`);
});

test("a store that cannot be opened: one clear line on stderr, the service runs normally", async () => {
  const dir = project();
  const s = startService(dir, { DIAGNOSE_STORE: "nosuch://x" });
  await s.waitFor(/service up/);
  s.child.kill("SIGTERM");
  assert.equal(await s.exited, 0);
  const lines = s.err.split("\n").filter((l) => l.startsWith("diagnose:"));
  assert.equal(lines.length, 1, s.err);
  assert.match(
    lines[0]!,
    /could not open the spec store "nosuch:\/\/x" \(from DIAGNOSE_STORE\); the service runs without probes from a store/,
  );
});

test("diagnose/start does the same for code built ahead of time", async () => {
  const dir = project();
  // No loader hooks here: the entry only starts the default manager on the configured store.
  const startUrl = pathToFileURL(join(REPO_ROOT, "dist", "integrations", "node", "start.js")).href;
  writeFileSync(
    join(dir, "check.mjs"),
    `const { manager } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, "dist", "runtime", "index.js")).href)});
     console.log(JSON.stringify({ started: manager.started, store: manager.store.description }));`,
  );
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith("DIAGNOSE_")) delete base[k];
  const child = spawn(process.execPath, ["--import", startUrl, "check.mjs"], {
    cwd: dir,
    env: { ...base, DIAGNOSE_STORE: "file:./specs.json" },
  });
  children.push(child);
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise((r) => child.on("exit", r));
  assert.equal(code, 0);
  const seen = JSON.parse(out) as { started: boolean; store: string };
  assert.equal(seen.started, true);
  assert.match(seen.store, /specs\.json/);
});
