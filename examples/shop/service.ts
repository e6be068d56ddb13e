/**
 * The shop service: a few clients checking out in a loop, as a live service under traffic would,
 * printing its throughput every second. Nothing here mentions probes: the loader instruments the
 * code, and specs written to the store (`diagnose specs add`) switch probes on while it runs.
 */
import { checkout } from "./src/checkout.js";

const SKUS = ["apple", "pear", "fig", "kiwi", "banana"];
const CLIENTS = 4;
const REPORT_MS = Number(process.env["SHOP_REPORT_MS"] ?? 1000);

let served = 0;
let running = true;

async function client(offset: number): Promise<void> {
  for (let i = offset; running; i += CLIENTS) {
    await checkout(SKUS.slice(0, 1 + (i % SKUS.length)), i % 3 === 0 ? 10 : 0);
    served++;
  }
}

let lastCount = 0;
let lastAt = performance.now();
const reporter = setInterval(() => {
  const now = performance.now();
  const rate = ((served - lastCount) * 1000) / (now - lastAt);
  lastCount = served;
  lastAt = now;
  console.log(`[shop] ${Math.round(rate)} checkouts/s`);
}, REPORT_MS);

process.once("SIGTERM", () => {
  running = false;
  clearInterval(reporter);
});

console.log(`[shop] serving with ${CLIENTS} clients (pid ${process.pid})`);
await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
console.log(`[shop] stopped after ${served} checkouts`);
// A real service closes its server and exits; nothing else it started should keep it alive.
process.exit(0);
