/** Where instrumented modules' manifest entries go (set by register.ts or the hooks thread). */
import type { ModuleSites } from "../../abi/manifest-format.js";

/** Receives every instrumented module's manifest entry when a manifest is configured. */
export type SitesReporter = (manifestPath: string, sites: ModuleSites) => void;

let reporter: SitesReporter | undefined;

/** Sets where manifest entries go (the hooks thread posts them to the main thread). */
export function setSitesReporter(report: SitesReporter | undefined): void {
  reporter = report;
}

/** The current reporter, if any. */
export function sitesReporter(): SitesReporter | undefined {
  return reporter;
}

/** Receives the deferred copy text of every module compiled with deferred copies. */
export type CopiesReporter = (hash: string, text: string) => void;

let copiesReporter: CopiesReporter | undefined;

/** Sets where copy text goes (the hooks thread posts it to the main thread); unset: this thread's store. */
export function setCopiesReporter(report: CopiesReporter | undefined): void {
  copiesReporter = report;
}

/** The current copies reporter, if any. */
export function reportCopies(): CopiesReporter | undefined {
  return copiesReporter;
}
