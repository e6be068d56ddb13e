/**
 * Where what the compiling thread learns goes (set by register.ts or the hooks thread): modules'
 * manifest entries, and reports of deferred copy text.
 */
import type { ModuleSites } from "../../abi/manifest-format.js";
import type { ModuleFormat } from "../shared/compile.js";
import { noteCopies } from "./copies-origins.js";

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

/** A module compiled with deferred copies (site ABI 4): which copy text, from which file. */
export interface CopiesReport {
  /** The sha256 its table names (`c`). */
  readonly hash: string;
  /** The file it was compiled from, and how, to make the text again (copies-origins.ts). */
  readonly filename: string;
  readonly format: ModuleFormat;
  /** The text itself, when the cache directory could not take it. */
  readonly text: string | undefined;
}

/** Receives a report for every module compiled with deferred copies. */
export type CopiesReporter = (report: CopiesReport) => void;

let copiesReporter: CopiesReporter = noteCopies;

/** Sets where copy reports go (the hooks thread posts them to the main thread); unset: this thread. */
export function setCopiesReporter(report: CopiesReporter | undefined): void {
  copiesReporter = report ?? noteCopies;
}

/** The current copies reporter. */
export function reportCopies(): CopiesReporter {
  return copiesReporter;
}
