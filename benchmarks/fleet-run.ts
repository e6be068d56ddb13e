/**
 * The fleet phase on its own, with its sizes on the command line:
 *
 *   node dist/benchmarks/fleet-run.js --processes 50 --stores redis,postgres,file,mongodb \
 *     --rounds 10 --idle-seconds 60 [--json out.json]
 *
 * Prints the table docs/stores.md quotes (with date, load and Node version) and, with --json,
 * writes the results.
 */
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { FLEET_STORES, fleetOptions, fleetText, measureFleet, type FleetStoreName } from "./fleet.js";

function parse(argv: readonly string[]): { options: ReturnType<typeof fleetOptions>; json?: string } {
  let options = fleetOptions(false);
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const count = (): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive whole number`);
      return n;
    };
    if (a === "--processes") options = { ...options, processes: count() };
    else if (a === "--rounds") options = { ...options, rounds: count() };
    else if (a === "--idle-seconds") options = { ...options, idleMs: count() * 1000 };
    else if (a === "--stores") {
      const names = value().split(",");
      for (const n of names)
        if (!(FLEET_STORES as readonly string[]).includes(n))
          throw new Error(`--stores: no store named ${n} (known: ${FLEET_STORES.join(", ")})`);
      options = { ...options, stores: names as FleetStoreName[] };
    } else if (a === "--json") json = value();
    else if (a === "--help" || a === "-h") {
      process.stdout.write(
        `Options: --processes N (50), --rounds N (10), --idle-seconds N (60), --stores ${FLEET_STORES.join(",")}, --json FILE\n`,
      );
      process.exit(0);
    } else throw new Error(`Unknown option ${a}. Try --help.`);
  }
  return json === undefined ? { options } : { options, json };
}

const { options, json } = parse(process.argv.slice(2));
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const loadBefore = loadavg()[0] as number;
const started = new Date();
const result = await measureFleet(options, log);
const loadAfter = loadavg()[0] as number;
const environment = {
  date: started.toISOString(),
  node: process.version,
  load: `${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (1-minute load average, ${cpus().length} cores)`,
  rounds: options.rounds,
  idleSeconds: options.idleMs / 1000,
};
log("");
log(`${environment.date}, Node ${environment.node}, load ${environment.load}`);
log(`${options.rounds} rounds, idle ${environment.idleSeconds} s`);
log(fleetText(result));
if (json !== undefined) writeFileSync(json, `${JSON.stringify({ ...environment, ...result }, null, 2)}\n`);
