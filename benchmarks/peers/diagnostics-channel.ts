/**
 * Peer: a `diagnostics_channel` publish guarded by `hasSubscribers`, as orchestrion-js /
 * TracingChannel instrumentation injects it (here at the entry of the probed function only, with
 * the message built after the guard: the best case for that design).
 */
import { channel, subscribe } from "node:diagnostics_channel";

export const CHANNEL = "diagnose-bench:probed";

/** The module header the dc build prepends (after the source's imports is not needed: it is an import). */
export function dcHeader(): string {
  return `import { channel as $bench_channel } from "node:diagnostics_channel";\nconst $bench_dc = $bench_channel(${JSON.stringify(CHANNEL)});\n`;
}

/** The guard the dc build inserts at the start of the probed function's body. */
export function dcGuard(params: readonly string[]): string {
  return ` if ($bench_dc.hasSubscribers) $bench_dc.publish({ self: this, args: [${params.join(", ")}] });`;
}

/** Subscribes one no-op subscriber; returns a hit counter. */
export function subscribeNoop(): { hits: number } {
  const counter = { hits: 0 };
  // Keep a strong reference to the channel: subscribers of a collected channel are dropped.
  (globalThis as Record<string, unknown>)["__benchChannel"] = channel(CHANNEL);
  subscribe(CHANNEL, () => {
    counter.hits++;
  });
  return counter;
}
