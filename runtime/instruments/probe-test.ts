/** ProbeTestInstrument: records what it sees, for tests. */
import type { EventNamespace } from "../expressions/namespace.js";
import type { Tags } from "../manager/manager.js";
import { capture, REDACTED } from "../capture/capture.js";
import { redactorOf } from "../capture/redact.js";
import { Instrument } from "./instrument.js";

export class ProbeTestInstrument extends Instrument {
  /** One `[tags, value]` pair per event, oldest first (the values themselves, for assertions). */
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
    const redactor = redactorOf(this.mgr);
    this.captured.push([
      capture(tags, redactor),
      redactor.namesSecret(this.value) ? REDACTED : capture(value, redactor),
    ]);
  }

  /** The recorded values, oldest first. */
  get results(): unknown[] {
    return this.log.map(([, value]) => value);
  }
}
