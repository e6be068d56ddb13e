/**
 * Metric instruments: HistogramInstrument and IncrementInstrument send DogStatsD metrics named after
 * the instrument, with the instrument's tags as `k:v`. Values must be finite numbers (floats are
 * fine, e.g. `elapsed`); an undefined value sends nothing; anything else is an error that disables
 * the instrument. Secret-named tags are sent as "[Redacted]"; a value expression reading a secret
 * name is refused (outgoing.ts).
 */
import type { EventNamespace } from "../expressions/namespace.js";
import { InstrumentValueError } from "./errors.js";
import { defaultStatsClient, type StatsClient } from "./dogstatsd.js";
import { formatValue, truncate } from "./format.js";
import { Instrument, type InstrumentOptions } from "./instrument.js";
import { refuseSecretValue } from "./outgoing.js";

export interface MetricInstrumentOptions extends InstrumentOptions {
  /** Default: the shared client (see `setDefaultStatsClient`; DD_AGENT_HOST / DD_DOGSTATSD_PORT). */
  client?: StatsClient;
}

/** Base of the DogStatsD instruments. */
export abstract class StatsdInstrument extends Instrument {
  /** This instrument's own client, if any. */
  client: StatsClient | undefined;

  constructor(name: string, value: string, options: MetricInstrumentOptions = {}) {
    super(name, value, options);
    refuseSecretValue(this);
    this.client = options.client;
  }

  override fire(namespace: EventNamespace): void {
    const raw = this.evaluate(namespace);
    if (raw === undefined) return;
    const value = typeof raw === "bigint" ? Number(raw) : raw;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new InstrumentValueError(
        `Instrument ${JSON.stringify(this.name)} cannot send the non-numeric metric ${truncate(formatValue(raw), 200)}.`,
      );
    }
    const tags = this.evaluateTags(namespace);
    this.emit(this.client ?? defaultStatsClient(), value, stringTags(tags));
  }

  protected abstract emit(client: StatsClient, value: number, tags: Record<string, string> | undefined): void;
}

function stringTags(tags: Record<string, unknown>): Record<string, string> | undefined {
  const keys = Object.keys(tags);
  if (keys.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = String(tags[k]);
  return out;
}

/** Sends the value as a DogStatsD histogram (`name:value|h|#k:v`). */
export class HistogramInstrument extends StatsdInstrument {
  protected override emit(client: StatsClient, value: number, tags: Record<string, string> | undefined): void {
    client.histogram(this.name, value, tags);
  }
}

/** Counts: adds the value (usually the expression "1") to a DogStatsD counter (`name:1|c|#k:v`). */
export class IncrementInstrument extends StatsdInstrument {
  protected override emit(client: StatsClient, value: number, tags: Record<string, string> | undefined): void {
    client.increment(this.name, value, tags);
  }
}
