/**
 * The variants of one workload: our build in its states, and the peers. Each runs in its own
 * process (child.ts); `setup` runs there, before and after the workload's module is imported.
 */
import { pathToFileURL } from "node:url";
import { DEFERRED_COPIES, type BuildKind } from "./paths.js";
import type { WorkloadSpec } from "./catalog.js";
import { subscribeNoop } from "./peers/diagnostics-channel.js";
import { setLogBreakpoint } from "./peers/inspector.js";
import { installShim } from "./peers/shimmer.js";

export type VariantKind = "baseline" | "ours" | "peer";

/** What the child hands a variant. */
export interface VariantContext {
  readonly spec: WorkloadSpec;
  /** Source line of the "line:N" probe. */
  readonly probeLine: number;
  /** Plain build: first statement of the probed function, for the inspector. */
  readonly entryFile: string;
  readonly entryLine: number;
  /** Port of the parent's UDP listener (the histogram variant's statsd "agent"). */
  readonly udpPort: number;
  /** Runs the workload for about `ms` milliseconds (more warm-up). */
  warm(ms: number): Promise<void>;
}

/** A variant switched on in a child. */
export interface ActiveVariant {
  /** Hits of the probe (or peer hook) so far; undefined when nothing counts hits. */
  hits(): number | undefined;
  /** Runs after the warm-up, before measuring (the on→off cycle). */
  afterWarmup?(): Promise<void>;
  close?(): Promise<void>;
}

export interface Variant {
  readonly name: string;
  readonly kind: VariantKind;
  readonly build: BuildKind;
  readonly description: string;
  /** Run only when named with --variant (kept out of the default matrix so it is not longer). */
  readonly optIn?: boolean;
  /** Runs before the workload's module is imported (the shim build's appended line needs it). */
  readonly beforeImport?: () => void;
  readonly setup: (ctx: VariantContext) => Promise<ActiveVariant>;
}

type Runtime = typeof import("../runtime/index.js");

async function runtime(): Promise<Runtime> {
  return import("../runtime/index.js");
}

const none = async (): Promise<ActiveVariant> => ({ hits: () => undefined });

/** An instrument that does nothing but count its events ("fire" evaluates nothing). */
async function countingInstrument(event: string, read: readonly string[] = []) {
  const rt = await runtime();
  class Counting extends rt.Instrument {
    count = 0;
    last: unknown = undefined;
    override fire(ns: import("../runtime/index.js").EventNamespace): void {
      this.count++;
      // Reading a local through the namespace is what an expression over two locals does.
      const o = ns as unknown as Record<string, unknown>;
      for (const name of read) this.last = o[name];
    }
  }
  return { rt, make: (name: string) => new Counting(name, "1", { event: event as "call" }) };
}

/** Attaches `inst` to `target` under key "bench" and starts the probe. */
function startProbe(rt: Runtime, target: string, inst: import("../runtime/index.js").Instrument) {
  const probe = rt.probes.attachTo(target);
  probe.instruments.set("bench", inst);
  probe.start();
  if (probe.status !== "active") throw new Error(`probe ${target} is ${probe.status}: ${probe.error?.message ?? ""}`);
  return probe;
}

/**
 * The on→off cycle of "on-off": a "call" probe on the workload's probed function for 200 ms of
 * warm-up ops, then stopped and removed, then 400 ms more.
 */
async function onOff(ctx: VariantContext): Promise<ActiveVariant> {
  const { rt, make } = await countingInstrument("call");
  return {
    hits: () => undefined,
    async afterWarmup() {
      const probe = startProbe(rt, ctx.spec.call.target, make("bench"));
      await ctx.warm(200);
      probe.stop();
      rt.probes.remove(ctx.spec.call.target);
      await ctx.warm(400);
    },
  };
}

/**
 * The deferred build's copy text is not in its modules: the registry asks its copy sources for it
 * the first time a probe attaches to an outlined function of a module. This is the source the
 * Node loader adds for its cache directory, pointed at where build-workloads.ts wrote the text.
 */
async function deferredCopySource(): Promise<void> {
  const { addCopySource } = await import("../runtime/registry/index.js");
  const { readCopies } = await import("../integrations/node/copies-cache.js");
  addCopySource((hash) => readCopies(DEFERRED_COPIES, hash));
}

export const VARIANTS: readonly Variant[] = [
  {
    name: "plain",
    kind: "baseline",
    build: "plain",
    description: "never instrumented (SWC type strip only)",
    setup: none,
  },
  {
    name: "untouched",
    kind: "ours",
    build: "diagnose",
    description: "instrumented, runtime loaded, no probe ever switched on",
    setup: async () => {
      await runtime();
      return { hits: () => undefined };
    },
  },
  {
    name: "on-off",
    kind: "ours",
    build: "diagnose",
    description: 'instrumented; a "call" probe was switched on (with traffic) and off again before measuring',
    setup: onOff,
  },
  {
    name: "deferred-untouched",
    kind: "ours",
    build: "deferred",
    optIn: true,
    description: "instrumented with deferred copies (site ABI 4), runtime loaded, no probe ever switched on",
    setup: async () => {
      await runtime();
      await deferredCopySource();
      return { hits: () => undefined };
    },
  },
  {
    name: "deferred-on-off",
    kind: "ours",
    build: "deferred",
    optIn: true,
    description: "deferred copies; the on-off cycle (its first watch evaluates the module's copy text)",
    setup: async (ctx) => {
      await deferredCopySource();
      return onOff(ctx);
    },
  },
  {
    name: "call-noop",
    kind: "ours",
    build: "diagnose",
    description: 'one "call" probe on the probed function, a no-op instrument',
    setup: async (ctx) => {
      const { rt, make } = await countingInstrument("call");
      const inst = make("bench");
      startProbe(rt, ctx.spec.call.target, inst);
      return { hits: () => inst.count };
    },
  },
  {
    name: "line-2-locals",
    kind: "ours",
    build: "diagnose",
    description: 'one "line:N" probe whose instrument reads two locals',
    setup: async (ctx) => {
      const { rt, make } = await countingInstrument(`line:${ctx.probeLine}`, ctx.spec.line.locals);
      const inst = make("bench");
      startProbe(rt, ctx.spec.line.target, inst);
      return { hits: () => inst.count };
    },
  },
  {
    name: "log-null",
    kind: "ours",
    build: "diagnose",
    description: "LogInstrument at call, formatting a line to a null sink",
    setup: async (ctx) => {
      const rt = await runtime();
      let lines = 0;
      const inst = new rt.LogInstrument("bench", ctx.spec.call.logValue, { event: "call", sink: () => void lines++ });
      startProbe(rt, ctx.spec.call.target, inst);
      return { hits: () => lines };
    },
  },
  {
    name: "histogram-udp",
    kind: "ours",
    build: "diagnose",
    description: "HistogramInstrument of `elapsed` at return, DogStatsD datagrams to a local UDP listener",
    setup: async (ctx) => {
      const rt = await runtime();
      const client = new rt.DogStatsD({ host: "127.0.0.1", port: ctx.udpPort, prefix: "bench." });
      let sent = 0;
      const counting = {
        histogram(name: string, value: number, tags?: Record<string, string>) {
          sent++;
          client.histogram(name, value, tags);
        },
        increment(name: string, value: number, tags?: Record<string, string>) {
          client.increment(name, value, tags);
        },
      };
      const inst = new rt.HistogramInstrument("elapsed", "elapsed", { client: counting });
      startProbe(rt, ctx.spec.call.target, inst);
      return {
        hits: () => sent,
        async close() {
          await new Promise((r) => setTimeout(r, 50));
          client.close();
        },
      };
    },
  },
  {
    name: "istanbul",
    kind: "peer",
    build: "istanbul",
    description: "istanbul-lib-instrument counters (always on)",
    setup: none,
  },
  {
    name: "shim-off",
    kind: "peer",
    build: "shim",
    description: "shimmer-style wrapper around the probed function, disabled",
    beforeImport: () => void installShim(false),
    setup: async () => ({ hits: () => undefined }),
  },
  {
    name: "shim-on",
    kind: "peer",
    build: "shim",
    description: "shimmer-style wrapper, enabled, calling a no-op hook",
    beforeImport: () => void installShim(true),
    setup: async () => ({ hits: () => (globalThis as unknown as { __benchShim: { hits: number } }).__benchShim.hits }),
  },
  {
    name: "dc-off",
    kind: "peer",
    build: "dc",
    description: "diagnostics_channel `hasSubscribers` guard at entry, no subscriber",
    setup: none,
  },
  {
    name: "dc-on",
    kind: "peer",
    build: "dc",
    description: "diagnostics_channel guard with one no-op subscriber",
    setup: async () => {
      const counter = subscribeNoop();
      return { hits: () => counter.hits };
    },
  },
  {
    name: "inspector-bp",
    kind: "peer",
    build: "plain",
    description: "V8 inspector conditional breakpoint at the entry line, logging to a null sink, never pausing",
    setup: async (ctx) => {
      const bp = await setLogBreakpoint(pathToFileURL(ctx.entryFile).href, ctx.entryLine, ctx.spec.call.logValue);
      return { hits: bp.hits, close: () => bp.close() };
    },
  },
];

export function variantByName(name: string): Variant {
  const v = VARIANTS.find((x) => x.name === name);
  if (v === undefined)
    throw new Error(`Unknown variant ${JSON.stringify(name)}; known: ${VARIANTS.map((x) => x.name).join(", ")}`);
  return v;
}
