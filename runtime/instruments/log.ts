/**
 * LogInstrument: one line per event, `Probe (name) = value`, or `Probe (name)[k=v, k2=v2] = value`
 * when tags are set. An undefined value prints nothing. Always one line (see format.ts).
 */
import type { EventNamespace } from "../expressions/namespace.js";
import { escapeControls, formatValue, truncate } from "./format.js";
import { Instrument, type InstrumentOptions } from "./instrument.js";

/**
 * Where log lines go: a stream-like object (`write(line + "\n")`), a function (called with the
 * line), or a logger with `.info` such as pino or console (called with the line).
 */
export type LogSink = ((line: string) => unknown) | { info(line: string): unknown } | { write(text: string): unknown };

export interface LogInstrumentOptions extends InstrumentOptions {
  /** Default: `LogInstrument.defaultSink`, else process.stdout. */
  sink?: LogSink;
}

export class LogInstrument extends Instrument {
  /** The sink of every LogInstrument without its own; undefined means process.stdout. */
  static defaultSink: LogSink | undefined = undefined;
  /** This instrument's own sink, if any. */
  sink: LogSink | undefined;

  constructor(name: string, value: string, options: LogInstrumentOptions = {}) {
    super(name, value, options);
    this.sink = options.sink;
  }

  override fire(namespace: EventNamespace): void {
    const value = this.evaluate(namespace);
    if (value === undefined) return;
    this.emit(formatLine(this.name, value, this.evaluateTags(namespace)));
  }

  /** Sends one finished line to the sink. */
  protected emit(line: string): void {
    const sink = this.sink ?? LogInstrument.defaultSink ?? process.stdout;
    if (typeof sink === "function") sink(line);
    else if ("info" in sink && typeof sink.info === "function") sink.info(line);
    else (sink as { write(text: string): unknown }).write(line + "\n");
  }
}

/**
 * `Probe (name) = value` / `Probe (name)[k=v, …] = value`, value and tags cut at 2,000 characters,
 * on one line whatever the value holds.
 */
export function formatLine(name: string, value: unknown, tags: Record<string, unknown>): string {
  const keys = Object.keys(tags);
  const tagText = keys.length === 0 ? "" : "[" + truncate(keys.map((k) => `${escapeControls(k)}=${formatValue(tags[k])}`).join(", ")) + "]";
  return `Probe (${escapeControls(name)})${tagText} = ${truncate(formatValue(value))}`;
}
