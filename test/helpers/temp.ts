/**
 * Temporary folders for tests. Every folder made here is removed when the test file ends (a
 * root-level `after` hook), also when a test fails before its own cleanup: a suite run leaves
 * nothing behind in the system's temp folder.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

const made = new Set<string>();

after(() => removeTempFolders());

/** A fresh folder under the system temp folder, named `diagnose-<prefix>-…`; removed after the file's tests. */
export function makeTempFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `diagnose-${prefix}-`));
  made.add(dir);
  return dir;
}

/** Removes one folder made by makeTempFolder now. */
export function removeTempFolder(dir: string): void {
  made.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

function removeTempFolders(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  made.clear();
}
