/** Typed errors of instruments and their options (codes stable across the package; see errors/index.ts). */
import { DiagnoseError } from "../../errors/index.js";

/** An `event` that is not "call", "return", "end" or "line:N". */
export class InvalidEventError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_INVALID_EVENT";
  readonly event: unknown;
  constructor(event: unknown) {
    super(
      InvalidEventError.CODE,
      `Invalid instrument event ${JSON.stringify(event) ?? String(event)}: use "call", "return" (the default), ` +
        `"end", or "line:N" with N a line number of the target's file.`,
    );
    this.event = event;
  }
}

/** Instrument options or a probe operation that is not of the documented shape. */
export class InstrumentOptionsError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_INSTRUMENT_OPTIONS";
  constructor(message: string) {
    super(InstrumentOptionsError.CODE, message);
  }
}

/** A value an instrument cannot send (e.g. a non-numeric metric), or tags that are not an object. */
export class InstrumentValueError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_INSTRUMENT_VALUE";
  constructor(message: string) {
    super(InstrumentValueError.CODE, message);
  }
}
