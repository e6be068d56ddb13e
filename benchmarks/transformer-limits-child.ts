/**
 * One recursion-depth measurement (transformer-limits.ts): loads the plain or the instrumented
 * build of `down(n)`, optionally with a probe on it, and prints the deepest `n` that returns.
 *   node dist/benchmarks/transformer-limits-child.js '{"dir":…,"build":"plain"|"off"|"on"}'
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

interface Config {
  readonly dir: string;
  readonly build: "plain" | "off" | "on";
  /** Load the build instrumented with `outline: false`. */
  readonly inPlace?: boolean;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? "") as Config;
  const rt = cfg.build === "plain" ? undefined : await import("../runtime/index.js");
  const mod = (await import(
    pathToFileURL(
      join(cfg.dir, cfg.build === "plain" ? "plain.js" : cfg.inPlace ? "diagnose-in-place.js" : "diagnose.js"),
    ).href
  )) as { down(n: number): number };
  let fires = 0;
  // A failing instrument is disabled, not rethrown (errors in probes never reach user code), and
  // the recursion then goes on unprobed: a depth only counts while every call fired.
  let arm = (): void => {};
  if (rt !== undefined && cfg.build === "on") {
    class Count extends rt.Instrument {
      override fire(): void {
        fires++;
      }
    }
    const p = rt.probes.attachTo("src/rec.ts:down");
    arm = () => void p.instruments.set("n", new Count("n", "1", { event: "call" }));
    arm();
    p.start();
  }
  const fits = (n: number): boolean => {
    fires = 0;
    try {
      mod.down(n);
    } catch {
      arm();
      return false;
    }
    if (cfg.build === "on" && fires !== n + 1) {
      arm();
      return false;
    }
    return true;
  };
  // Warm up so the frames measured are the optimised ones, then search the largest n that fits.
  // The depth depends on which tier runs each frame at the moment: the best of three searches.
  for (let i = 0; i < 2000; i++) mod.down(50);
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let lo = 1;
    let hi = 2;
    while (fits(hi)) {
      lo = hi;
      hi *= 2;
    }
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    best = Math.max(best, lo);
  }
  process.stdout.write(`${best}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
