/**
 * Preloaded into every test file's process (`node --test --import`): a file whose tests have all
 * finished but which still holds a handle open (a server child, a socket, a timer left by a
 * failed test) exits with an error naming those handles, instead of keeping its process alive.
 *
 * Why: the suite runs without `--test-force-exit` (that flag can cut a file's report short), and
 * Node 24's runner gives a test file no timeout, so one leaked handle hung CI until its outer
 * bound (45 minutes) and every file after it was reported as interrupted.
 */
import { isMainThread } from "node:worker_threads";

/** How long a finished file may take to close what it opened (the variable is for its own test). */
const GRACE_MS = Number(process.env["DIAGNOSE_TEST_EXIT_GRACE_MS"] ?? 60_000);

// Only in a test file's own process: not in the runner that spawns the files, and not in worker
// threads, which inherit the preload (a hook there would start a test harness of its own).
if (isMainThread && process.env["NODE_TEST_CONTEXT"] !== undefined) {
  const { after } = await import("node:test");
  after(() => {
    const timer = setTimeout(() => {
      process.stderr.write(
        `exit guard: ${process.argv[1] ?? "a test file"} still has handles open ${GRACE_MS / 1000} s after its last test: ` +
          `${process.getActiveResourcesInfo().join(", ")}\n`,
      );
      process.exit(1);
    }, GRACE_MS);
    // Unreferenced: a file that closed everything exits at once, without waiting for this.
    timer.unref();
  });
}
