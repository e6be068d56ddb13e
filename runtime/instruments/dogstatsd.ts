/**
 * A small DogStatsD client over UDP (`node:dgram`), and the interface a metric instrument needs
 * from a client, which a hot-shots `StatsD` instance also satisfies.
 *
 * One datagram per metric: `name:value|h|#k:v,k2:v2` (histogram) or `name:value|c|#…` (count).
 * The socket is created on first send and unref'd, so it never keeps the process alive; send errors
 * are counted, never thrown (metrics are best effort, as with any statsd client).
 */
import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import type { Tags } from "../manager/manager.js";

/** What HistogramInstrument and IncrementInstrument call; hot-shots' StatsD fits. */
export interface StatsClient {
  histogram(name: string, value: number, tags?: Record<string, string>): unknown;
  increment(name: string, value: number, tags?: Record<string, string>): unknown;
}

export interface DogStatsDOptions {
  /** Default: env DD_AGENT_HOST, else "127.0.0.1". */
  host?: string;
  /** Default: env DD_DOGSTATSD_PORT, else 8125. */
  port?: number;
  /** Prepended to every metric name, e.g. "shop.". */
  prefix?: string;
}

/** Metric names may not contain the protocol's separators. */
function cleanName(name: string): string {
  return name.replace(/[:|@#,\s]/g, "_");
}

function cleanTag(text: string): string {
  return text.replace(/[|,#\s]/g, "_");
}

/** `#k:v,k2:v2`, or "" without tags. */
export function formatTags(tags: Record<string, unknown> | undefined): string {
  if (tags === undefined) return "";
  const keys = Object.keys(tags);
  if (keys.length === 0) return "";
  return "|#" + keys.map((k) => `${cleanTag(k)}:${cleanTag(String(tags[k]))}`).join(",");
}

/** One DogStatsD line. `type` is "h" (histogram) or "c" (count). */
export function formatMetric(name: string, value: number, type: "h" | "c", tags?: Record<string, unknown>): string {
  return `${cleanName(name)}:${String(value)}|${type}${formatTags(tags)}`;
}

export class DogStatsD implements StatsClient {
  readonly host: string;
  readonly port: number;
  readonly prefix: string;
  /** Datagrams that could not be sent. */
  errors = 0;
  /** The last send error. */
  lastError: unknown = undefined;
  private socket: Socket | undefined;

  constructor(options: DogStatsDOptions = {}) {
    this.host = options.host ?? process.env["DD_AGENT_HOST"] ?? "127.0.0.1";
    const envPort = Number(process.env["DD_DOGSTATSD_PORT"]);
    this.port = options.port ?? (Number.isInteger(envPort) && envPort > 0 ? envPort : 8125);
    this.prefix = options.prefix ?? "";
  }

  histogram(name: string, value: number, tags?: Tags): void {
    this.send(formatMetric(this.prefix + name, value, "h", tags));
  }

  increment(name: string, value = 1, tags?: Tags): void {
    this.send(formatMetric(this.prefix + name, value, "c", tags));
  }

  /** Sends one raw line (without newline). */
  send(line: string): void {
    try {
      const socket = (this.socket ??= this.open());
      socket.send(line, this.port, this.host, (err) => {
        if (err) this.fail(err);
      });
    } catch (err) {
      this.fail(err);
    }
  }

  /** Closes the socket; a later send opens a new one. */
  close(): void {
    const s = this.socket;
    this.socket = undefined;
    try {
      s?.close();
    } catch {
      // Already closed.
    }
  }

  private open(): Socket {
    const socket = createSocket(isIP(this.host) === 6 ? "udp6" : "udp4");
    socket.on("error", (err) => this.fail(err));
    socket.unref();
    return socket;
  }

  private fail(err: unknown): void {
    this.errors++;
    this.lastError = err;
  }
}

let shared: DogStatsD | undefined;

/** The client metric instruments use when given none (created on first use from the environment). */
export function defaultStatsClient(): StatsClient {
  return (shared ??= new DogStatsD());
}

/** Replaces the default client (e.g. a hot-shots StatsD, or a DogStatsD with another host/port). */
export function setDefaultStatsClient(client: StatsClient | undefined): void {
  if (shared instanceof DogStatsD && shared !== client) shared.close();
  shared = client as DogStatsD | undefined;
}
