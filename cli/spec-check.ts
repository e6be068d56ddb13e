/**
 * What `specs add` checks before it writes, so a typo is refused at the keyboard instead of
 * becoming an error in every process's status: the fields' shapes, the instrument type, the
 * expressions (in the safe language store specs are compiled with), and the target and line
 * against the project's site manifest when there is one. `--force` writes anyway.
 */
import type { SiteManifest } from "../abi/manifest-format.js";
import { nearest } from "../runtime/registry/suggest.js";
import type { SpecDocument } from "../runtime/manager/spec.js";
import { validateSpec } from "../runtime/manager/validate.js";

export interface SpecCheckContext {
  /** The instrument types a process knows by default (a service may register more). */
  readonly knownTypes: readonly string[];
  /** The project's sites, when known; without it the target is not checked. */
  readonly manifest: SiteManifest | undefined;
  /** Compiles an expression as a store spec's would be; returns the refusal, or undefined when fine. */
  readonly checkExpression: (source: string, role: string) => string | undefined;
}

const LINE_EVENT = /^line:([1-9]\d*)$/;

/** Every problem of spec `id`'s document, one sentence each; empty when it can be written. */
export function checkSpec(id: string, doc: SpecDocument, context: SpecCheckContext): SpecCheck {
  const problems: string[] = [];
  // The shape is checked by the manager's own validator: the CLI refuses what a process would.
  const validation = validateSpec(id, doc);
  if (!validation.ok) problems.push(validation.error);
  const ins = plain(doc["instrument"]);
  if (ins !== undefined) {
    const type = ins["type"];
    if (typeof type === "string" && type !== "" && !context.knownTypes.includes(type)) {
      problems.push(
        `\`instrument.type\` ${JSON.stringify(type)} is not one of ${context.knownTypes.join(", ")}` +
          ` (a type the service registered itself needs --force).`,
      );
    }
    const custom = plain(ins["custom"]);
    const expressions: [string, unknown][] = [
      ["value", ins["value"]],
      ["tags", custom?.["tags"]],
      ["condition", custom?.["condition"]],
    ];
    for (const [role, source] of expressions) {
      if (typeof source !== "string" || source.trim() === "") continue;
      const refusal = context.checkExpression(source, role);
      if (refusal !== undefined) problems.push(refusal);
    }
  }
  const target = doc["target"];
  if (typeof target === "string" && context.manifest !== undefined) {
    const event = ins?.["event"];
    const line = typeof event === "string" ? LINE_EVENT.exec(event)?.[1] : undefined;
    const problem = checkTarget(target, line === undefined ? undefined : Number(line), context.manifest);
    if (problem !== undefined) problems.push(problem);
  }
  return { problems, warnings: validation.warnings };
}

export interface SpecCheck {
  /** Why the spec would not work, one sentence each; empty when it can be written. */
  readonly problems: readonly string[];
  /** What a process would warn about (unknown fields, kept). */
  readonly warnings: readonly string[];
}

/** The target (and its line) against the manifest; the problem, or undefined when it is there. */
export function checkTarget(target: string, line: number | undefined, manifest: SiteManifest): string | undefined {
  const names: string[] = [];
  for (const m of manifest.modules) {
    for (const f of m.functions) {
      const name = `${m.module}:${f.path}`;
      names.push(name);
      if (name !== target) continue;
      if (line === undefined) return undefined;
      const lines = [...new Set(f.sites.filter((s) => s.kind === "line").map((s) => s.line))].sort((a, b) => a - b);
      if (lines.includes(line)) return undefined;
      return lines.length === 0
        ? `${target} has no line sites, so event "line:${line}" can never fire; use "call", "return" or "end".`
        : `line ${line} is not a line site of ${target}; its line sites are ${lines.join(", ")}.`;
    }
  }
  if (names.length === 0) return undefined;
  const near = nearest(target, names, 3);
  return `target ${target} is not an instrumented function of this project; nearest: ${near.join(", ")} (run 'diagnose sites' to list them).`;
}

function plain(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
