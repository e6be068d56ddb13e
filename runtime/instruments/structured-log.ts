/**
 * StructuredLogInstrument: hands each event to a structured sink as fields (target, instrument,
 * event, value, tags) plus the formatted line, so pino, winston or a JSON-lines stream keep the
 * value as data instead of text. Sinks for pino and winston live in "diagnose/pino" and
 * "diagnose/winston"; `jsonLinesSink` here needs no package.
 *
 * The value and tags a sink receives are captured copies (bounded, secret names redacted:
 * outgoing.ts), never the program's own objects.
 *
 * Specs cannot carry a logger object, so a spec names a sink registered in `logSinks`:
 * `custom: { sink: "audit" }` after `logSinks.set("audit", pinoSink(logger))`.
 */
import type { Tags } from "../manager/manager.js";
import type { EventNamespace } from "../expressions/namespace.js";
import { InstrumentOptionsError } from "./errors.js";
import { probedTarget } from "./channel.js";
import { formatValue } from "./format.js";
import { Instrument, type InstrumentOptions } from "./instrument.js";
import { formatLine } from "./log.js";
import { outgoingTags, outgoingValue } from "./outgoing.js";

/** One probe event as structured fields. */
export interface ProbeRecord {
  /** The qualified name of the probed function. */
  readonly target: string;
  /** The instrument's name. */
  readonly instrument: string;
  readonly event: string;
  readonly value: unknown;
  readonly tags: Tags;
  /** The line LogInstrument would print: `Probe (name)[k=v] = value`. */
  readonly message: string;
}

/** Receives one record per event. */
export type StructuredSink = (record: ProbeRecord) => unknown;

/** Sinks a spec can name with `custom.sink`. */
export const logSinks: Map<string, StructuredSink> = new Map();

export interface StructuredLogOptions extends InstrumentOptions {
  /** A sink, or the name of one in `logSinks` (resolved at each event). Default: `custom.sink`, else `StructuredLogInstrument.defaultSink`. */
  sink?: StructuredSink | string;
}

export class StructuredLogInstrument extends Instrument {
  /** The sink of every StructuredLogInstrument without its own; undefined means `jsonLinesSink()`. */
  static defaultSink: StructuredSink | undefined = undefined;
  /** This instrument's own sink (or sink name), if any. */
  sink: StructuredSink | string | undefined;

  constructor(name: string, value: string, options: StructuredLogOptions = {}) {
    super(name, value, options);
    const named = options.sink ?? this.custom["sink"];
    if (named !== undefined && typeof named !== "function" && (typeof named !== "string" || named === "")) {
      throw new InstrumentOptionsError(
        `The sink of instrument ${JSON.stringify(name)} must be a function or the name of a sink in logSinks, got ${formatValue(named)}.`,
      );
    }
    this.sink = named as StructuredSink | string | undefined;
  }

  override fire(namespace: EventNamespace): void {
    const raw = this.evaluate(namespace);
    if (raw === undefined) return;
    const value = outgoingValue(this, raw);
    const tags = outgoingTags(this, this.evaluateTags(namespace));
    const sink = this.resolveSink();
    sink({
      target: probedTarget(namespace),
      instrument: this.name,
      event: this.event,
      value,
      tags,
      message: formatLine(this.name, value, tags),
    });
  }

  private resolveSink(): StructuredSink {
    const own = this.sink;
    if (typeof own === "function") return own;
    if (typeof own === "string") {
      const found = logSinks.get(own);
      if (found === undefined) {
        throw new InstrumentOptionsError(
          `Instrument ${JSON.stringify(this.name)} names the log sink ${JSON.stringify(own)}, which is not registered: ` +
            `call logSinks.set(${JSON.stringify(own)}, sink) before applying the spec.`,
        );
      }
      return found;
    }
    return StructuredLogInstrument.defaultSink ?? (fallback ??= jsonLinesSink());
  }
}

let fallback: StructuredSink | undefined;

/**
 * A sink writing one JSON object per line to `out` (default process.stdout), with a `time` field.
 * A value JSON cannot represent (a cycle, a BigInt, a throwing getter) is written as its
 * formatted text instead.
 */
export function jsonLinesSink(out: { write(text: string): unknown } = process.stdout): StructuredSink {
  return (record) => {
    const time = new Date().toISOString();
    let line: string;
    try {
      line = JSON.stringify({ time, ...record }, bigintAsString);
    } catch {
      line = JSON.stringify({ time, ...record, value: formatValue(record.value) }, bigintAsString);
    }
    out.write(line + "\n");
  };
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
