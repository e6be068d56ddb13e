/**
 * Outgoing: redaction of what an instrument sends out of the process or to other code (log lines,
 * structured sinks, metric tags, diagnostics_channel messages, span attributes). Every sender goes
 * through here, so none can forget it:
 *
 * - tags: `Instrument.evaluateTags` gives tags whose secret-named keys hold "[Redacted]", and
 *   every tag value "[Redacted]" when the tags expression reads a secret name (`{ user: req.token }`);
 * - values: `outgoingValue` gives a captured copy (bounded, secret keys redacted, no code of the
 *   program run), or REDACTED whole when the value expression reads a secret name;
 * - metric values: `refuseSecretValue` refuses, at construction (so at apply time for a spec), a
 *   metric whose value expression reads a secret name: a number cannot carry a marker.
 *
 * The word list is the manager's (`configureRedaction`, code only): no spec field reaches it.
 * Known limits: a value is redacted by the name it is read by or stored under, so a secret passed
 * positionally (`args[1]`) or quoted inside an error's message is sent as it is.
 */
import type { Tags } from "../manager/manager.js";
import { capture, REDACTED, type CaptureLimits } from "../capture/capture.js";
import { redactorOf } from "../capture/redact.js";
import { InstrumentOptionsError } from "./errors.js";
import type { Instrument } from "./instrument.js";

/** What a redacted tag holds (tags are primitives: the marker's text). */
export const REDACTED_TAG: string = REDACTED.text;

/**
 * `tags` with secret-named keys (or all values, when the tags expression reads a secret) replaced
 * by REDACTED_TAG; the same object when nothing is secret. @internal
 */
export function redactTags(inst: Instrument, tags: Tags): Tags {
  const redactor = redactorOf(inst.mgr);
  if (!redactor.enabled) return tags;
  const expr = inst.tagsExpression;
  const all = expr !== undefined && redactor.secretRead(expr.source) !== undefined;
  let out: Tags | undefined;
  for (const key of Object.keys(tags)) {
    if (all || redactor.isSecret(key)) (out ??= { ...tags })[key] = REDACTED_TAG;
  }
  return out ?? tags;
}

/** The value an instrument may send: REDACTED when its expression reads a secret, else a captured copy. */
export function outgoingValue(inst: Instrument, value: unknown, limits?: CaptureLimits): unknown {
  const redactor = redactorOf(inst.mgr);
  if (redactor.secretRead(inst.value) !== undefined) return REDACTED;
  return capture(value, redactor, limits);
}

/** Tags an instrument may send as structured data: nested values captured too (`{ req: {…} }`). */
export function outgoingTags(inst: Instrument, tags: Tags, limits?: CaptureLimits): Tags {
  for (const key in tags) {
    // Tags are primitives by type, but a tags expression can give anything: capture objects.
    if (typeof tags[key] === "object") {
      return capture(tags, redactorOf(inst.mgr), limits) as Tags;
    }
  }
  return tags;
}

/**
 * Throws when a metric's value expression reads a secret name (`session.token.length` is refused
 * too: a metric of a secret is derived from it). Called by metric instruments' constructors.
 */
export function refuseSecretValue(inst: Instrument): void {
  const name = redactorOf(inst.mgr).secretRead(inst.value);
  if (name === undefined) return;
  throw new InstrumentOptionsError(
    `Instrument ${JSON.stringify(inst.name)} is a metric whose value ${JSON.stringify(inst.value)} reads ` +
      `${JSON.stringify(name)}, a name that looks secret: a metric value cannot be redacted, so it is refused. ` +
      `Measure something that is not secret; the word list is set by code (configureRedaction), never by a spec.`,
  );
}
