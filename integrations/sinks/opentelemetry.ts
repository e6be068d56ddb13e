/**
 * "diagnose/opentelemetry": a span around any probed function, and counters and histograms on an
 * OpenTelemetry meter. `@opentelemetry/api` is an optional peer: without an SDK registered, the
 * API's tracer and meter are no-ops and these instruments cost next to nothing.
 *
 *   import "diagnose/opentelemetry";   // specs can name "span", "otel_counter", "otel_histogram"
 *   import { SpanInstrument, otelMetricInstruments } from "diagnose/opentelemetry";
 *
 * The span is built when the call has ended (at "return", for an async function when its promise
 * settles) from the call's entry and exit times, and ended in `finish()`. Its parent is the context
 * active around the call. Diagnose does not wrap the function, so the span is not active inside
 * it: spans the function opens itself are its siblings, not its children.
 */
import { performance } from "node:perf_hooks";
import {
  context,
  metrics,
  SpanStatusCode,
  trace,
  type Attributes,
  type AttributeValue,
  type HrTime,
  type Meter,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import {
  CaptureMarker,
  Instrument,
  InstrumentOptionsError,
  InstrumentValueError,
  type EventNamespace,
  type InstrumentClass,
  type InstrumentOptions,
  type Tags,
} from "../../runtime/index.js";
import { probedTarget } from "../../runtime/instruments/channel.js";
import { addDefaultInstrumentClass } from "../../runtime/instruments/classes.js";
import { formatValue } from "../../runtime/instruments/format.js";
import { outgoingTags, outgoingValue, refuseSecretValue } from "../../runtime/instruments/outgoing.js";
import { checkMax, LabelBudget, metricNumber } from "./labels.js";

const SCOPE_NAME = "diagnose";

export interface SpanInstrumentOptions extends InstrumentOptions {
  /** Default: `trace.getTracer("diagnose")` of the globally registered provider, looked up per span. */
  tracer?: Tracer;
}

/**
 * Opens a span named after the instrument around each probed call. The value expression gives
 * attributes (an object: one attribute per key; anything else: the attribute `diagnose.value`),
 * the tags are added as attributes (both redacted like every instrument's output: a secret-named
 * key's attribute is "[Redacted]"); a call that throws (or whose promise rejects) gets the status
 * ERROR and an exception event.
 */
export class SpanInstrument extends Instrument {
  override readonly wantsTiming = true;
  /** This instrument's own tracer, if any. */
  tracer: Tracer | undefined;
  // fire() and finish() run back to back for one call (the probe calls them in one go at the
  // call's end), so one slot pairs them even when calls of an async function interleave.
  private pending: Span | undefined;
  private pendingEnd: HrTime | undefined;

  constructor(name: string, value: string, options: SpanInstrumentOptions = {}) {
    if (options.event !== undefined && options.event !== "return") {
      throw new InstrumentOptionsError(
        `A span instrument covers the whole call and fires at "return"; remove \`event: ${JSON.stringify(options.event)}\`.`,
      );
    }
    super(name, value, { ...options, event: "return" });
    this.tracer = options.tracer;
  }

  override fire(namespace: EventNamespace): void {
    this.pending = undefined;
    const start = namespace.start;
    const end = namespace.end ?? performance.now();
    const attributes = toAttributes(
      outgoingValue(this, this.evaluate(namespace)),
      outgoingTags(this, this.evaluateTags(namespace)),
    );
    attributes["code.function"] = probedTarget(namespace);
    const tracer = this.tracer ?? trace.getTracer(SCOPE_NAME);
    const span = tracer.startSpan(
      this.name,
      start === undefined ? { attributes } : { attributes, startTime: hrTime(start) },
      context.active(),
    );
    if (namespace.threw) {
      const error = namespace.error;
      span.recordException(error instanceof Error ? error : formatValue(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : formatValue(error),
      });
    }
    this.pending = span;
    this.pendingEnd = hrTime(end);
  }

  override finish(): void {
    const span = this.pending;
    if (span === undefined) return;
    this.pending = undefined;
    span.end(this.pendingEnd);
  }
}

/** A `performance.now()` reading as OpenTelemetry's [seconds, nanoseconds] since the epoch. */
function hrTime(perfMs: number): HrTime {
  const epochMs = performance.timeOrigin + perfMs;
  let seconds = Math.floor(epochMs / 1000);
  let nanos = Math.round((epochMs - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds++;
    nanos -= 1e9;
  }
  return [seconds, nanos];
}

function toAttributes(value: unknown, tags: Tags): Attributes {
  const out: Attributes = {};
  if (value !== undefined) {
    // A marker ([Redacted], [Circular]…) is one value, not an object of attributes.
    if (typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof CaptureMarker)) {
      for (const key of Object.keys(value)) out[key] = toAttribute((value as Record<string, unknown>)[key]);
    } else {
      out["diagnose.value"] = toAttribute(value);
    }
  }
  for (const key of Object.keys(tags)) out[key] = toAttribute(tags[key]);
  return out;
}

function toAttribute(value: unknown): AttributeValue {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) return value as number[];
  return formatValue(value);
}

export interface OtelMetricOptions {
  /** Default: `metrics.getMeter("diagnose")` of the globally registered provider, looked up per event. */
  meter?: Meter;
  /** Distinct attribute combinations each instrument records. Default 1,000. */
  maxLabelSets?: number;
}

/** The metric instrument classes bound to one meter (or the global one). */
export interface OtelMetricInstruments {
  /** Adds the value (usually "1") to a counter named after the instrument. */
  readonly Counter: InstrumentClass;
  /** Records the value (e.g. "elapsed") in a histogram named after the instrument. */
  readonly Histogram: InstrumentClass;
  /** Events dropped so far because an instrument had reached its attribute cap. */
  dropped(): number;
}

export function otelMetricInstruments(options: OtelMetricOptions = {}): OtelMetricInstruments {
  const max = checkMax(options.maxLabelSets);
  const budgets = new Map<string, LabelBudget>();
  let dropped = 0;
  // Cached per meter: the global provider can be registered (or replaced) after these classes exist.
  let cachedMeter: Meter | undefined;
  const created = new Map<string, { record(value: number, attributes: Attributes): void }>();

  const meter = (): Meter => {
    const m = options.meter ?? metrics.getMeter(SCOPE_NAME);
    if (m !== cachedMeter) {
      cachedMeter = m;
      created.clear();
    }
    return m;
  };

  abstract class OtelMetricInstrument extends Instrument {
    protected abstract readonly kind: "counter" | "histogram";

    constructor(name: string, value: string, opts: InstrumentOptions = {}) {
      super(name, value, opts);
      refuseSecretValue(this);
    }

    override fire(namespace: EventNamespace): void {
      const raw = this.evaluate(namespace);
      if (raw === undefined) return;
      const value = metricNumber(raw);
      if (value === undefined) {
        throw new InstrumentValueError(
          `Instrument ${JSON.stringify(this.name)} cannot record the non-numeric value ${String(typeof raw)}.`,
        );
      }
      const tags = this.evaluateTags(namespace);
      const attributes: Record<string, string> = {};
      for (const k of Object.keys(tags)) attributes[k] = String(tags[k]);
      const key = `${this.kind}:${this.name}`;
      let budget = budgets.get(key);
      if (budget === undefined) budgets.set(key, (budget = new LabelBudget(max)));
      if (!budget.admit(attributes)) {
        dropped++;
        return;
      }
      const m = meter();
      let recorder = created.get(key);
      if (recorder === undefined) {
        if (this.kind === "counter") {
          const counter = m.createCounter(this.name, { description: `Diagnose probe counter ${this.name}.` });
          recorder = { record: (v, a) => counter.add(v, a) };
        } else {
          const histogram = m.createHistogram(this.name, { description: `Diagnose probe histogram ${this.name}.` });
          recorder = { record: (v, a) => histogram.record(v, a) };
        }
        created.set(key, recorder);
      }
      recorder.record(value, attributes);
    }
  }
  class OtelCounter extends OtelMetricInstrument {
    protected readonly kind = "counter" as const;
  }
  class OtelHistogram extends OtelMetricInstrument {
    protected readonly kind = "histogram" as const;
  }
  return { Counter: OtelCounter, Histogram: OtelHistogram, dropped: () => dropped };
}

// Importing this module is what a spec needs to name these types (the global tracer and meter);
// an explicit `manager.instrumentClasses.span = …` still wins.
const globalMetrics = otelMetricInstruments();
addDefaultInstrumentClass("span", SpanInstrument);
addDefaultInstrumentClass("otel_counter", globalMetrics.Counter);
addDefaultInstrumentClass("otel_histogram", globalMetrics.Histogram);
