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
