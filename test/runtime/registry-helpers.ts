/** Shared by the registry tests: fixture locations, flag reads, a recording watcher. */
import type { CallFrame, SiteInfo, Watcher } from "../../runtime/registry/index.js";

/** test/fixtures/registry/<name>, from dist/test/runtime/ (fixtures are not compiled). */
export function fixture(name: string): URL {
  return new URL(`../../../test/fixtures/registry/${name}`, import.meta.url);
}

/** The built registry module (dist/runtime/registry/index.js). */
export const RUNTIME_URL = new URL("../../runtime/registry/index.js", import.meta.url);

/** Current value of a flag in this realm. */
export function flag(hash: string, id: number): unknown {
  return (globalThis as Record<string, unknown>)[`$dg_${hash}_${id}`];
}

export function flags(hash: string, count: number): boolean[] {
  return Array.from({ length: count }, (_, id) => flag(hash, id) === true);
}

/** Ids of the sites whose flag is on. */
export function onSites(hash: string, count: number): number[] {
  return flags(hash, count).flatMap((on, id) => (on ? [id] : []));
}

export type Event =
  | { kind: "entry"; frame: CallFrame; args: readonly unknown[]; self: unknown }
  | { kind: "line"; frame: CallFrame | undefined; site: SiteInfo; locals: unknown[] }
  | { kind: "return"; frame: CallFrame | undefined; site: SiteInfo; value: unknown; locals: unknown[] }
  | { kind: "throw"; frame: CallFrame | undefined; site: SiteInfo; error: unknown; locals: unknown[] }
  | { kind: "error"; error: unknown; where: string };

/** A watcher that records every call it gets; `extra` overrides single methods. */
export function recorder(extra: Partial<Watcher> = {}): Watcher & { events: Event[] } {
  const events: Event[] = [];
  return {
    events,
    onEntry(frame) {
      events.push({ kind: "entry", frame, args: frame.args, self: frame.self });
    },
    onLine(frame, site, locals) {
      events.push({ kind: "line", frame, site, locals: [...locals] });
    },
    onReturn(frame, site, value, locals) {
      events.push({ kind: "return", frame, site, value, locals: [...locals] });
    },
    onThrow(frame, site, error, locals) {
      events.push({ kind: "throw", frame, site, error, locals: [...locals] });
    },
    onError(error, where) {
      events.push({ kind: "error", error, where });
    },
    ...extra,
  };
}

export function kinds(events: readonly Event[]): string[] {
  return events.map((e) =>
    e.kind === "line" ? `line:${e.site.line}` : e.kind === "return" ? `${e.site.kind}` : e.kind,
  );
}
