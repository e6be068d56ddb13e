// `npm run demo` (builds first): switch a probe on in a running service from outside it, and off
// again. The shop service (service.ts) runs in its own process through the diagnose loader, with
// DIAGNOSE_STORE pointing at a spec file; this script only runs the real `diagnose` CLI.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const CLI = join(repo, "dist", "cli", "diagnose.js");
const REGISTER = pathToFileURL(join(repo, "dist", "integrations", "node", "register.js")).href;
const SPEC_ID = "cart-total";
const TARGET = "src/cart.ts:Cart.total";
/** Every wait is bounded: the demo fails with a message rather than hang. */
const WAIT_MS = 8000;

// The example resolves `diagnose` like an application that installed it (demo.ts imports it).
const link = join(here, "node_modules", "diagnose");
if (!existsSync(link)) {
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(repo, link, "dir");
}

const tmp = mkdtempSync(join(tmpdir(), "diagnose-demo-"));
const storeUri = `file:${join(tmp, "diagnose-specs.json")}`;
const env = { ...process.env };
for (const key of Object.keys(env)) if (key.startsWith("DIAGNOSE_")) delete env[key];
env.DIAGNOSE_STORE = storeUri;

const started = performance.now();
const clock = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const say = (line) => console.log(`${clock()}  ${line}`);
const heading = (text) => console.log(`\n== ${text}`);

// --- the service -------------------------------------------------------------------------------
const rates = { before: [], during: [], after: [] };
let phase = "warmup";
let skipRate = false;
let probeLines = 0;
let lastProbeAt = 0;
let firstProbe;
let serving = false;
const waiters = new Set();
const notify = () => {
  for (const w of waiters) w();
};

const service = spawn(process.execPath, ["--enable-source-maps", "--import", REGISTER, "service.ts"], {
  cwd: here,
  env,
  stdio: ["ignore", "pipe", "pipe"],
});
let serviceExited = false;
service.on("exit", () => {
  serviceExited = true;
  notify();
});
createInterface({ input: service.stdout }).on("line", (line) => {
  const rate = /^\[shop\] (\d+) checkouts\/s$/.exec(line);
  if (rate !== null) {
    if (phase in rates && !skipRate) rates[phase].push(Number(rate[1]));
    skipRate = false;
    say(`service | ${line}`);
  } else if (line.startsWith("Probe (")) {
    probeLines++;
    lastProbeAt = performance.now();
    firstProbe ??= lastProbeAt;
    if (probeLines <= 3) say(`service | ${line}`);
    else if (probeLines === 4) say("service | … (further probe lines counted, not shown)");
  } else {
    if (line.startsWith("[shop] serving")) serving = true;
    say(`service | ${line}`);
  }
  notify();
});
createInterface({ input: service.stderr }).on("line", (line) => say(`service ! ${line}`));

/** Resolves when `test()` holds, checked on every service line and every 50 ms (calling `poll` too). */
function until(what, test, ms = WAIT_MS, poll = undefined) {
  return new Promise((resolve, reject) => {
    const check = () => {
      poll?.();
      if (test()) done(resolve);
      else if (serviceExited) done(() => reject(new Error(`the service exited while waiting for ${what}`)));
    };
    const done = (f) => {
      waiters.delete(check);
      clearInterval(timer);
      clearTimeout(timeout);
      f();
    };
    const timer = setInterval(check, 50);
    const timeout = setTimeout(() => done(() => reject(new Error(`no ${what} within ${ms} ms`))), ms);
    waiters.add(check);
    check();
  });
}

/** Enters a phase; the rate line that straddles the change is not counted. */
function enter(next) {
  phase = next;
  skipRate = true;
}

// --- the CLI -----------------------------------------------------------------------------------
/** Runs `diagnose …args` as its own process, printing the command and its output. */
function diagnose(args, { quiet = false } = {}) {
  if (!quiet) say(`$ npx diagnose ${args.map((a) => (/[\s"'{}()*>]/.test(a) ? `'${a}'` : a)).join(" ")}`);
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: here, env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      if (!quiet) {
        for (const line of stdout.trimEnd().split("\n")) if (line !== "") console.log(`         ${line}`);
        for (const line of stderr.trimEnd().split("\n")) if (line !== "") console.log(`       ! ${line}`);
      }
      resolve({ code, stdout, stderr });
    });
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

async function main() {
  heading(`1. the shop service runs under the loader; its probes come from ${storeUri}`);
  await until("service start", () => serving);
  // The first second is warm-up (JIT); count the next ones as plain speed.
  await sleep(1100);
  enter("before");
  await until("two throughput lines", () => rates.before.length >= 2);

  heading(`2. add a probe from outside: log what ${TARGET} returns`);
  const add = await diagnose([
    "specs",
    "add",
    SPEC_ID,
    "--target",
    TARGET,
    "--type",
    "log",
    "--value",
    "result",
    "--tags",
    "{ discount: discountPercent }",
    "--lifespan",
    "10",
  ]);
  const written = performance.now();
  if (add.code !== 0) throw new Error(`diagnose specs add exited with ${add.code}`);
  enter("during");
  await until("probe line from the service", () => firstProbe !== undefined);
  say(
    `the service printed the probe's first line ${Math.max(0, Math.round(firstProbe - written))} ms after the spec was written`,
  );
  await until("two throughput lines with the probe on", () => rates.during.length >= 2);

  heading("3. diagnose status: applied and emitting in the service's process");
  await until("status 'emitting'", () => lastStatus.includes('"emitting"'), WAIT_MS, pollStatus);
  await diagnose(["status"]);

  heading("4. remove the probe: the service is quiet again");
  const rm = await diagnose(["specs", "rm", SPEC_ID]);
  const removed = performance.now();
  if (rm.code !== 0) throw new Error(`diagnose specs rm exited with ${rm.code}`);
  const linesAtRemove = probeLines;
  await until("quiet (no probe line for 500 ms)", () => performance.now() - Math.max(lastProbeAt, removed) > 500);
  say(
    `quiet: the last probe line came ${Math.max(0, Math.round(lastProbeAt - removed))} ms after the spec was removed (${probeLines} probe lines in all, ${probeLines - linesAtRemove} after the removal)`,
  );
  enter("after");
  await until("two throughput lines after the removal", () => rates.after.length >= 2);

  heading("5. throughput (checkouts/s, median of the samples)");
  const [b, d, a] = [median(rates.before), median(rates.during), median(rates.after)];
  console.log(
    `before ${b}   with the probe ${d} (${(d / b).toFixed(2)}x)   after ${a} (${(a / b).toFixed(2)}x of before)`,
  );
}

let lastStatus = "";
let statusInFlight = false;
/** Polls `diagnose status --json` in the background while `until` waits (status reports are debounced). */
function pollStatus() {
  if (statusInFlight) return;
  statusInFlight = true;
  diagnose(["status", SPEC_ID, "--json"], { quiet: true }).then((r) => {
    lastStatus = r.stdout;
    statusInFlight = false;
    notify();
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let exitCode = 0;
try {
  await main();
  heading(`done in ${((performance.now() - started) / 1000).toFixed(1)} s: no code change, no restart`);
} catch (error) {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  service.kill("SIGTERM");
  const killer = setTimeout(() => service.kill("SIGKILL"), 3000);
  if (!serviceExited) await new Promise((resolve) => service.once("exit", resolve));
  clearTimeout(killer);
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
