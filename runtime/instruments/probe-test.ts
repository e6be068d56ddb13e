/** ProbeTestInstrument: records what it sees, for tests. */
import type { EventNamespace } from "../expressions/namespace.js";
import type { Tags } from "../manager/manager.js";
import { capture } from "../capture/capture.js";
import { redactorOf } from "../capture/redact.js";
import { Instrument } from "./instrument.js";
import { outgoingValue } from "./outgoing.js";

export class ProbeTestInstrument extends Instrument {
  /**
   * One `[tags, value]` pair per event, oldest first: the values themselves, for assertions (the
   * tags as every instrument gets them, secret-named ones redacted).
   */
  readonly log: [Tags, unknown][] = [];
  /**
   * One `[tags, value]` pair per event as a recorder keeps it: captured (bounded, secrets
   * redacted, no code of the program run; see runtime/capture).
   */
  readonly captured: [unknown, unknown][] = [];

  override fire(namespace: EventNamespace): void {
    const value = this.evaluate(namespace);
    const tags = { ...this.evaluateTags(namespace) };
    this.log.push([tags, value]);
    this.captured.push([capture(tags, redactorOf(this.mgr)), outgoingValue(this, value)]);
  }

  /** The recorded values, oldest first. */
  get results(): unknown[] {
    return this.log.map(([, value]) => value);
  }
}
