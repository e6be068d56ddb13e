/** A probe's snapshot: its live instruments bucketed by event, and the watch options they need. */
import { Instrument } from "../instruments/instrument.js";
import type { Slot, Snapshot } from "./dispatch.js";

/** Buckets live slots by event and derives what the watch must switch on. @internal */
export function bucket(all: Slot[]): Snapshot {
  const call: Slot[] = [];
  const ret: Slot[] = [];
  const end: Slot[] = [];
  const lines = new Map<number, Slot[]>();
  const finishers: Slot[] = [];
  let hotspots = false;
  let timing = false;
  let retClock = false;
  let endClock = false;
  let filtering = false;
  let callExpires = false;
  let retExpires = false;
  for (const slot of all) {
    const inst = slot.inst;
    if (slot.filtered) filtering = true;
    // Entry time: names that need it, or an expiring "call" instrument (checked against frame.start).
    if (inst.needsStart() || (inst.eventKind === "call" && slot.deadline !== Infinity)) timing = true;
    switch (inst.eventKind) {
      case "call":
        call.push(slot);
        if (slot.deadline !== Infinity) callExpires = true;
        break;
      case "return":
        ret.push(slot);
        if (slot.deadline !== Infinity) retExpires = true;
        if (inst.mentions("hotspots")) hotspots = true;
        if (inst.needsEnd()) retClock = true;
        break;
      case "end":
        end.push(slot);
        if (inst.needsEnd()) endClock = true;
        break;
      case "line": {
        const l = inst.line!;
        let list = lines.get(l);
        if (list === undefined) lines.set(l, (list = []));
        list.push(slot);
        break;
      }
    }
    if (inst.finish !== Instrument.prototype.finish) finishers.push(slot);
  }
  const lineKeys = [...lines.keys()].sort((a, b) => a - b);
  const lineSlots = lineKeys.map((l) => lines.get(l)!);
  const callPlain = !filtering && !hotspots && !callExpires;
  const retPlain = !retExpires;
  return {
    all,
    call,
    ret,
    end,
    lineKeys,
    lineSlots,
    finishers,
    hotspots,
    filtering,
    timing,
    retClock,
    endClock,
    callPlain,
    retPlain,
  };
}

/** @internal */
export interface ProbeWatchOptions {
  exits: boolean;
  lines: readonly number[] | "all";
  timing: boolean;
}

/** @internal */
export function watchOptionsOf(s: Snapshot): ProbeWatchOptions {
  return {
    exits: s.ret.length > 0 || s.end.length > 0 || s.finishers.length > 0 || s.hotspots,
    lines: s.hotspots ? "all" : s.lineKeys,
    timing: s.timing,
  };
}

/** @internal */
export function sameOptions(a: ProbeWatchOptions, b: ProbeWatchOptions): boolean {
  if (a.exits !== b.exits || a.timing !== b.timing) return false;
  if (a.lines === "all" || b.lines === "all") return a.lines === b.lines;
  return a.lines.length === b.lines.length && a.lines.every((l, i) => l === (b.lines as readonly number[])[i]);
}
