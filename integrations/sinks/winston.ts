/**
 * "diagnose/winston": a structured sink for the user's own winston logger. Each event is one log
 * entry with the fields `probe` (target, instrument, event, value, tags) and `message` (the line
 * LogInstrument would print).
 *
 *   logSinks.set("winston", winstonSink(logger));           // for specs: custom: { sink: "winston" }
 */
import type { ProbeRecord, StructuredSink } from "../../runtime/index.js";

/** The part of a winston Logger this sink calls: `logger.log({ level, message, ...meta })`. */
export interface WinstonLike {
  log(entry: { level: string; message: string; [field: string]: unknown }): unknown;
}

export interface WinstonSinkOptions {
  /** Default "info". */
  level?: string;
}

export function winstonSink(logger: WinstonLike, options: WinstonSinkOptions = {}): StructuredSink {
  const level = options.level ?? "info";
  return (record: ProbeRecord) => {
    const { message, ...probe } = record;
    logger.log({ level, message, probe });
  };
}
