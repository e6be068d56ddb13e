/**
 * What `specs add` checks before it writes, so a typo is refused at the keyboard instead of
 * becoming an error in every process's status: the fields' shapes, the instrument type, the
 * expressions (in the safe language store specs are compiled with), and the target and line
 * against the project's site manifest when there is one. `--force` writes anyway.
 */
import type { SiteManifest } from "../abi/manifest-format.js";
import { nearest } from "../runtime/registry/suggest.js";
import type { SpecDocument } from "../runtime/manager/spec.js";

export interface SpecCheckContext {
  /** The instrument types a process knows by default (a service may register more). */
  readonly knownTypes: readonly string[];
  /** The project's sites, when known; without it the target is not checked. */
  readonly manifest: SiteManifest | undefined;
  /** Compiles an expression as a store spec's would be; returns the refusal, or undefined when fine. */
  readonly checkExpression: (source: string) => string | undefined;
}

/** Longer expressions are refused; a spec expression is a line, not a program. */
const MAX_EXPRESSION_CHARS = 4096;
const EVENT = /^(call|return|end|line:([1-9]\d*))$/;

/** Every problem of `doc`, one sentence each; empty when it can be written. */
export function checkSpec(doc: SpecDocument, context: SpecCheckContext): string[] {
  const problems: string[] = [];
  const target = doc["target"];
  const instrument = doc["instrument"];
  if (typeof target !== "string" || !/^[^:]+:.+$/.test(target)) {
    problems.push(`target must be a qualified name like "src/shop/cart.ts:Cart.total", got ${show(target)}.`);
  }
  if (typeof instrument !== "object" || instrument === null || Array.isArray(instrument)) {
    problems.push(`instrument must be an object with type, name and value, got ${show(instrument)}.`);
    return problems;
  }
  const ins = instrument as Record<string, unknown>;
  const type = ins["type"];
  if (typeof type !== "string" || !context.knownTypes.includes(type)) {
    problems.push(
      `instrument type ${show(type)} is not one of ${context.knownTypes.join(", ")}` +
        ` (a type the service registered itself needs --force).`,
    );
  }
  if (typeof ins["name"] !== "string" || ins["name"] === "") problems.push(`instrument name must be a non-empty string, got ${show(ins["name"])}.`);

  const expressions: [string, unknown][] = [["value", ins["value"]]];
  const custom = ins["custom"];
  if (custom !== undefined && (typeof custom !== "object" || custom === null || Array.isArray(custom))) {
    problems.push(`instrument custom must be an object, got ${show(custom)}.`);
  } else if (custom !== undefined) {
    const c = custom as Record<string, unknown>;
    if (c["tags"] !== undefined) expressions.push(["tags", c["tags"]]);
    if (c["condition"] !== undefined) expressions.push(["condition", c["condition"]]);
  }
  for (const [field, source] of expressions) {
    if (typeof source !== "string" || source.trim() === "") {
      problems.push(`${field} must be an expression string (e.g. "result"), got ${show(source)}.`);
    } else if (source.length > MAX_EXPRESSION_CHARS) {
      problems.push(`${field} is ${source.length} characters long; expressions are limited to ${MAX_EXPRESSION_CHARS}.`);
    } else {
      const refusal = context.checkExpression(source);
      if (refusal !== undefined) problems.push(`${field}: ${refusal}`);
    }
  }

  const event = ins["event"] ?? "return";
  const line = typeof event === "string" ? EVENT.exec(event)?.[2] : undefined;
  if (typeof event !== "string" || !EVENT.test(event)) {
    problems.push(`event must be "call", "return", "end" or "line:N", got ${show(event)}.`);
  }

  const lifespan = doc["lifespan"];
  if (lifespan !== undefined && lifespan !== null && !(typeof lifespan === "number" && Number.isFinite(lifespan) && lifespan >= 0)) {
    problems.push(`lifespan must be minutes (a number ≥ 0) or null for the default, got ${show(lifespan)}.`);
  }
  const selector = doc["selector"];
  if (selector !== undefined) {
    if (typeof selector !== "object" || selector === null || Array.isArray(selector)) {
      problems.push(`selector must be an object of labels ({ "app": "shop" }), got ${show(selector)}.`);
    } else {
      for (const [k, v] of Object.entries(selector)) {
        if (typeof v !== "string") problems.push(`selector label ${JSON.stringify(k)} must be a string, got ${show(v)}.`);
      }
    }
  }

  if (typeof target === "string" && context.manifest !== undefined) {
    const problem = checkTarget(target, line === undefined ? undefined : Number(line), context.manifest);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
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
  return `target ${target} is not an instrumented function of this project; nearest: ${near.join(", ")} (run 'diagnose sites' to list them; --force writes it anyway).`;
}

/** A value in a message: JSON, cut short, hostile-safe. */
function show(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? "nothing" : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 60 ? text.slice(0, 59) + "…" : text;
}
