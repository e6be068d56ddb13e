/**
 * "diagnose/prometheus": counters and histograms in the user's own prom-client registry.
 *
 *   import client from "prom-client";
 *   import { prometheusInstruments } from "diagnose/prometheus";
 *   const prom = prometheusInstruments(client, { registry: client.register });
 *   manager.instrumentClasses.prom_counter = prom.Counter;
 *   manager.instrumentClasses.prom_histogram = prom.Histogram;
 *
 * A metric is registered once per registry and name: re-applying or replacing a spec reuses it
 * (or replaces it when its labels changed) instead of failing with prom-client's
 * duplicate-registration error. Label names come from `custom.labels` (an array), else from the
 * tags of the first event; each metric keeps at most `maxLabelSets` label combinations and counts
 * the rest in `diagnose_dropped_label_sets_total{metric}`.
 */
import type * as PromClient from "prom-client";
import {
  Instrument,
  InstrumentOptionsError,
  InstrumentValueError,
  type EventNamespace,
  type InstrumentClass,
  type InstrumentOptions,
  type Tags,
} from "../../runtime/index.js";
import { refuseSecretValue } from "../../runtime/instruments/outgoing.js";
import { checkMax, LabelBudget, metricNumber, toLabels } from "./labels.js";

type Client = Pick<typeof PromClient, "Counter" | "Histogram" | "register">;
type Registry = PromClient.Registry;

export interface PrometheusOptions {
  /** Default: `client.register`, the global registry. */
  registry?: Registry;
  /** Distinct label combinations each metric keeps. Default 1,000. */
  maxLabelSets?: number;
  /** Histogram buckets. Default: prom-client's. */
  buckets?: number[];
  /** Prepended to every metric name, e.g. "shop_". */
  prefix?: string;
}

/** The instrument classes bound to one client and registry. */
export interface PrometheusInstruments {
  /** Adds the value (usually "1") to a counter named after the instrument. */
  readonly Counter: InstrumentClass;
  /** Observes the value (e.g. "elapsed") in a histogram named after the instrument. */
  readonly Histogram: InstrumentClass;
  /** Events dropped so far because a metric had reached its label cap. */
  dropped(): number;
}

interface MetricState {
  readonly kind: "counter" | "histogram";
  readonly labelNames: readonly string[];
  readonly metric: PromClient.Counter | PromClient.Histogram;
  readonly budget: LabelBudget;
}

const DROPPED_METRIC = "diagnose_dropped_label_sets_total";

/** Metric and label names as Prometheus accepts them. */
export function promName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[a-zA-Z_:]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

function labelName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(cleaned) && !cleaned.startsWith("__") ? cleaned : `l_${cleaned}`;
}

export function prometheusInstruments(client: Client, options: PrometheusOptions = {}): PrometheusInstruments {
  const registry = options.registry ?? client.register;
  const max = checkMax(options.maxLabelSets);
  const prefix = options.prefix ?? "";
  // Per metric name, for this binding: survives the instruments, so a re-applied spec finds its metric.
  const states = new Map<string, MetricState>();
  let dropped = 0;

  const droppedCounter = (): PromClient.Counter => {
    const existing = registry.getSingleMetric(DROPPED_METRIC);
    if (existing instanceof client.Counter) return existing as PromClient.Counter;
    if (existing !== undefined) registry.removeSingleMetric(DROPPED_METRIC);
    return new client.Counter({
      name: DROPPED_METRIC,
      help: "Probe events not recorded because their metric had reached its cap of distinct label combinations.",
      labelNames: ["metric"],
      registers: [registry],
    });
  };

  const metricFor = (kind: MetricState["kind"], name: string, labelNames: readonly string[]): MetricState => {
    const known = states.get(name);
    const registered = registry.getSingleMetric(name);
    if (
      known !== undefined &&
      known.metric === registered &&
      known.kind === kind &&
      sameList(known.labelNames, labelNames)
    ) {
      return known;
    }
    // Another kind or other labels under this name: the new spec replaces the old metric.
    if (registered !== undefined) registry.removeSingleMetric(name);
    const config = { name, help: `Diagnose probe metric ${name}.`, labelNames: [...labelNames], registers: [registry] };
    const metric =
      kind === "counter"
        ? new client.Counter(config)
        : new client.Histogram(options.buckets === undefined ? config : { ...config, buckets: options.buckets });
    const state: MetricState = { kind, labelNames, metric, budget: new LabelBudget(max) };
    states.set(name, state);
    return state;
  };

  abstract class PromInstrument extends Instrument {
    protected abstract readonly kind: MetricState["kind"];
    private readonly declaredLabels: readonly string[] | undefined;
    readonly metricName: string;

    constructor(name: string, value: string, opts: InstrumentOptions = {}) {
      super(name, value, opts);
      refuseSecretValue(this);
      this.metricName = promName(prefix + name);
      const labels = this.custom["labels"];
      if (labels !== undefined && (!Array.isArray(labels) || labels.some((l) => typeof l !== "string" || l === ""))) {
        throw new InstrumentOptionsError(
          `\`custom.labels\` of instrument ${JSON.stringify(name)} must be an array of tag names, e.g. ["tenant"].`,
        );
      }
      this.declaredLabels = labels as string[] | undefined;
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
      const tags = renameTags(this.evaluateTags(namespace));
      const names = this.declaredLabels?.map(labelName) ?? Object.keys(tags).sort();
      const state = metricFor(this.kind, this.metricName, names);
      const labels = toLabels(tags, state.labelNames);
      if (!state.budget.admit(labels)) {
        dropped++;
        droppedCounter().inc({ metric: this.metricName });
        return;
      }
      if (state.kind === "counter") (state.metric as PromClient.Counter).inc(labels, value);
      else (state.metric as PromClient.Histogram).observe(labels, value);
    }
  }

  class PrometheusCounter extends PromInstrument {
    protected readonly kind = "counter" as const;
  }
  class PrometheusHistogram extends PromInstrument {
    protected readonly kind = "histogram" as const;
  }
  return { Counter: PrometheusCounter, Histogram: PrometheusHistogram, dropped: () => dropped };
}

function renameTags(tags: Tags): Tags {
  const out: Tags = {};
  for (const k of Object.keys(tags)) out[labelName(k)] = tags[k]!;
  return out;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
