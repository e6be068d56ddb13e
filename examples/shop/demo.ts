/**
 * The demo service: a checkout loop built with the diagnose loader. Probes are switched on and
 * off by qualified name while it runs, and each phase prints what they observed.
 */
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { HistogramInstrument, IncrementInstrument, LogInstrument, DogStatsD, probes } from "diagnose";
import { ProbeTestInstrument } from "diagnose/testing";
import { checkout } from "./src/checkout.js";

const SKUS = ["apple", "pear", "fig", "kiwi", "banana"];

async function load(requests: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < requests; i++) {
    await checkout(SKUS.slice(0, 1 + (i % SKUS.length)), i % 3 === 0 ? 10 : 0);
  }
  return performance.now() - started;
}

function heading(text: string): void {
  console.log(`\n== ${text}`);
}

// A real DogStatsD listener on loopback receives the metric probes' packets.
const statsd = createSocket("udp4");
const packets: string[] = [];
statsd.on("message", (msg) => packets.push(...msg.toString().split("\n")));
statsd.bind(0, "127.0.0.1");
await once(statsd, "listening");
const client = new DogStatsD({ host: "127.0.0.1", port: statsd.address().port });

heading("1. no probes: the service runs on dormant sites");
console.log(`200 checkouts in ${(await load(200)).toFixed(1)} ms`);

heading("2. log the result of Cart.total and the running sum at its line 20");
const total = probes.attachTo("src/cart.ts:Cart.total");
total.instruments.set(
  "total",
  new LogInstrument("cart.total", "result", { custom: { tags: "({ discount: discountPercent })" } }),
);
total.instruments.set("sum", new LogInstrument("cart.sum", "sum", { event: "line:20" }));
total.start();
await load(3);
total.stop();
console.log(`probe state after stop(): ${total.status}`);

heading("3. count and time checkout() into DogStatsD, for a few calls");
const co = probes.attachTo("src/checkout.ts:checkout");
co.instruments.set("calls", new IncrementInstrument("shop.checkout.calls", "1", { client }));
co.instruments.set("elapsed", new HistogramInstrument("shop.checkout.ms", "elapsed", { client }));
const recorder = new ProbeTestInstrument("totals", "result.total");
co.instruments.set("totals", recorder);
co.start();
await load(5);
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(`statsd listener received ${packets.length} packets, e.g. ${packets.slice(0, 2).join("  ")}`);
console.log(`recorded totals: ${JSON.stringify(recorder.results)}`);

heading("4. an instrument with a lifespan expires and the site goes back to off by itself");
co.instruments.clear();
co.instruments.set("short", new LogInstrument("checkout.id", "result.id", { expires: new Date(Date.now() + 100) }));
co.start();
await load(2);
await new Promise((resolve) => setTimeout(resolve, 150));
await load(2); // prints nothing: expired
console.log(`probes: ${JSON.stringify(probes.list().map((p) => ({ target: p.target, status: p.status })))}`);

heading("5. all off again");
probes.stopAll();
console.log(`200 checkouts in ${(await load(200)).toFixed(1)} ms`);
statsd.close();
client.close?.();
