/**
 * Runs `node <args>` under callgrind (the benchmark's Node flags) and resolves to the instructions
 * it executed; the child must print "OK", so a run that did not do its work never counts.
 */
import { spawn } from "node:child_process";
import { NODE_FLAGS, parseCollected } from "../../benchmarks/instructions.js";

export function callgrind(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "valgrind",
      ["--tool=callgrind", "--callgrind-out-file=/dev/null", process.execPath, ...NODE_FLAGS, ...args],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.on("close", (status) => {
      const c = parseCollected(stderr);
      if (status !== 0 || c === undefined || !stdout.includes("OK"))
        reject(new Error(`${args.join(" ")}: status ${status}\n${stdout}\n${stderr.slice(-3000)}`));
      else resolve(c);
    });
  });
}
