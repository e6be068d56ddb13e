/** ProbeTestInstrument: records what it sees, for tests. */
import type { EventNamespace } from "../expressions/namespace.js";
import type { Tags } from "../manager/manager.js";
import { Instrument } from "./instrument.js";

export class ProbeTestInstrument extends Instrument {
  /** One `[tags, value]` pair per event, oldest first. */
  readonly log: [Tags, unknown][] = [];

  override fire(namespace: EventNamespace): void {
    const value = this.evaluate(namespace);
    this.log.push([{ ...this.evaluateTags(namespace) }, value]);
  }

  /** The recorded values, oldest first. */
  get results(): unknown[] {
    return this.log.map(([, value]) => value);
  }
}
