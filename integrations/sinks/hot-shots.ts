/**
 * "diagnose/hot-shots": the user's own hot-shots `StatsD` client as the client of the metric
 * instruments (`hist`, `incr`), in place of Diagnose's DogStatsD client.
 *
 *   import StatsD from "hot-shots";
 *   setDefaultStatsClient(hotShotsClient(new StatsD({ prefix: "shop." })));
 */
import type { StatsClient } from "../../runtime/index.js";

/** The part of a hot-shots StatsD client this adapter calls. */
export interface HotShotsLike {
  histogram(stat: string, value: number, sampleRate?: number, tags?: Record<string, string>): unknown;
  increment(stat: string, value: number, sampleRate?: number, tags?: Record<string, string>): unknown;
}

export interface HotShotsClientOptions {
  /** Passed to every call. Default 1 (every event is sent). */
  sampleRate?: number;
}

export function hotShotsClient(client: HotShotsLike, options: HotShotsClientOptions = {}): StatsClient {
  const rate = options.sampleRate ?? 1;
  // Passing the sample rate explicitly keeps hot-shots from guessing which argument holds the tags.
  return {
    histogram: (name, value, tags) => client.histogram(name, value, rate, tags),
    increment: (name, value, tags) => client.increment(name, value, rate, tags),
  };
}
