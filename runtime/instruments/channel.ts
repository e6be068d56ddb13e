/**
 * ChannelInstrument: publishes each event on the `node:diagnostics_channel` channel
 * `diagnose:<name>` as `{ target, event, value, tags }`, for any subscriber (an APM agent, a test,
 * a custom exporter). Nothing is evaluated while the channel has no subscriber. The value and tags
 * are captured copies (bounded, secret names redacted: outgoing.ts): a subscriber may export them.
 */
import { channel, type Channel } from "node:diagnostics_channel";
import type { Tags } from "../manager/manager.js";
import { EventNamespace } from "../expressions/namespace.js";
import { Instrument, type InstrumentOptions } from "./instrument.js";
import { outgoingTags, outgoingValue } from "./outgoing.js";

/** What a subscriber of `diagnose:<name>` receives. */
export interface ChannelMessage {
  /** The qualified name of the probed function. */
  readonly target: string;
  readonly event: string;
  readonly value: unknown;
  readonly tags: Tags;
}

/** The channel name of an instrument named `name`. */
export function channelName(name: string): string {
  return `diagnose:${name}`;
}

// Read through the prototype: a parameter called `target` shadows the event's own name.
const TARGET = Object.getOwnPropertyDescriptor(EventNamespace.prototype, "target")?.get;

/** The probed function's qualified name, whatever the function's own names are. */
export function probedTarget(namespace: EventNamespace): string {
  return TARGET === undefined ? "" : String(TARGET.call(namespace));
}

export class ChannelInstrument extends Instrument {
  /** The channel this instrument publishes on. */
  readonly channel: Channel;

  constructor(name: string, value: string, options: InstrumentOptions = {}) {
    super(name, value, options);
    this.channel = channel(channelName(name));
  }

  override fire(namespace: EventNamespace): void {
    if (!this.channel.hasSubscribers) return;
    const value = outgoingValue(this, this.evaluate(namespace));
    const tags = outgoingTags(this, this.evaluateTags(namespace));
    const message: ChannelMessage = { target: probedTarget(namespace), event: this.event, value, tags };
    // diagnostics_channel rethrows a subscriber's error on nextTick, never into this call.
    this.channel.publish(message);
  }
}
