/**
 * Instrument expressions: JavaScript expressions over an event's names, compiled once.
 *
 * The text is checked when the instrument is constructed (a syntax error is reported there, never
 * during a call). For each site layout it meets, an expression is turned into one specialised
 * function that declares only the names the text mentions, reading each from the namespace's
 * getter; `this` is the probed call's `this`. A bare name is not compiled at all: it is a single
 * property read (the event's names, then the manager's global namespace, then `globalThis`).
 *
 * Expressions are code from whoever configures the instruments, run with the process's full
 * authority (as in the original `diagnose`): configure them only from trusted sources.
 *
 * Where the realm refuses code generation from strings, only a bare name can be evaluated (it needs
 * no compiling); any other text is refused at construction with CodeGenerationRefusedError.
 */
import { codeGenerationAllowed } from "./code-generation.js";
import { CodeGenerationRefusedError, ExpressionSyntaxError, UnknownNameError } from "./errors.js";
import {
  EVENT_NAMES,
  FRAME,
  KIND,
  LAYOUT,
  LOCALS,
  type EventNamespace,
  type Layout,
  type NameSource,
} from "./namespace.js";
import { RESERVED, scanExpression } from "./scan.js";

/** Where expressions find names that are not the event's: `manager.globalNamespace`. */
export interface NamespaceSource {
  readonly globalNamespace: Record<string, unknown>;
}

/**
 * What an instrument needs of a compiled expression; both `Expression` (full JavaScript, for
 * instruments created in code) and `SafeExpression` (the safe language of store specs) are one.
 */
export interface CompiledExpression {
  /** The expression text as given. */
  readonly source: string;
  /** The identifier, when the expression is a bare name. */
  readonly bare: string | undefined;
  /** Identifiers the text may read. */
  readonly identifiers: ReadonlySet<string>;
  /** Whether the text mentions `name` as an identifier. */
  mentions(name: string): boolean;
  /** Evaluates against one event; throws what the evaluation throws. */
  evaluate(ns: EventNamespace, names: NamespaceSource): unknown;
}

/** A compiled evaluator for one layout. @internal */
type Evaluator = (this: unknown, ns: EventNamespace) => unknown;

const NS = "$dg$ns";
const MGR = "$dg$mgr";

export class Expression implements CompiledExpression {
  /** The expression text as given. */
  readonly source: string;
  /** The identifier, when the expression is a bare name. */
  readonly bare: string | undefined;
  /** Identifiers the text may read (an over-approximation). */
  readonly identifiers: ReadonlySet<string>;
  private readonly usesThis: boolean;
  private lastLayout: Layout | undefined = undefined;
  private lastEvaluator: Evaluator | undefined = undefined;
  private readonly cache = new Map<Layout, Evaluator>();

  /** Checks the text; throws ExpressionSyntaxError. `role` names it in messages ("value", "tags"…). */
  constructor(source: unknown, role: string) {
    if (typeof source !== "string" || source.trim() === "") {
      throw new ExpressionSyntaxError(String(source), role, "an expression must be a non-empty string");
    }
    let scanned;
    try {
      scanned = scanExpression(source);
    } catch (reason) {
      throw new ExpressionSyntaxError(source, role, typeof reason === "string" ? `it has ${reason}` : String(reason));
    }
    if (scanned.bare === undefined) {
      // Asked first: V8's EvalError would otherwise read as a syntax error of the text.
      if (!codeGenerationAllowed()) throw new CodeGenerationRefusedError(source, role);
      try {
        // Syntax check only; the function is never called.
        new Function(`"use strict"; return (\n${source}\n);`);
      } catch (err) {
        throw new ExpressionSyntaxError(source, role, (err as Error).message, { cause: err });
      }
    }
    this.source = source;
    this.bare = scanned.bare;
    this.identifiers = scanned.identifiers;
    this.usesThis = scanned.identifiers.has("this");
  }

  /** Whether the text mentions `name` as an identifier. */
  mentions(name: string): boolean {
    return this.identifiers.has(name);
  }

  /** Evaluates against one event; throws whatever the expression throws. */
  evaluate(ns: EventNamespace, names: NamespaceSource): unknown {
    const layout = ns[LAYOUT];
    const ev = layout === this.lastLayout ? this.lastEvaluator! : this.evaluatorFor(layout, names);
    return this.usesThis ? ev.call(ns[FRAME]?.self, ns) : ev(ns);
  }

  private evaluatorFor(layout: Layout, names: NamespaceSource): Evaluator {
    let ev = this.cache.get(layout);
    if (ev === undefined) {
      ev = this.bare !== undefined ? bareEvaluator(this.bare, layout, names) : this.compile(layout, names);
      this.cache.set(layout, ev);
    }
    this.lastLayout = layout;
    this.lastEvaluator = ev;
    return ev;
  }

  private compile(layout: Layout, names: NamespaceSource): Evaluator {
    const decls: string[] = [];
    const globals = names.globalNamespace;
    // The function's own names are read straight from the slots the namespace holds (the index
    // is resolved here, once per layout), exactly as its getters would: no getter call per name.
    let slots = "";
    let srcs = 0;
    for (const id of this.identifiers) {
      if (RESERVED.has(id) || id.startsWith("$dg$")) continue;
      const src = layout.names.get(id);
      if (src !== undefined) {
        decls.push(`${id} = ${readOf(src)}`);
        srcs++;
      } else if (EVENT_NAMES.has(id)) decls.push(`${id} = ${NS}.${id}`);
      else if (isOwn(globals, id)) decls.push(`${id} = ${MGR}.globalNamespace[${JSON.stringify(id)}]`);
    }
    if (srcs > 0) slots = `const ${LOC} = ${NS}[${LOCALS_KEY}], ${ARGS} = ${NS}[${FRAME_KEY}]?.args; `;
    const body =
      `"use strict"; return function (${NS}) { ` +
      slots +
      (decls.length > 0 ? `const ${decls.join(", ")}; ` : "") +
      `return (\n${this.source}\n); };`;
    return new Function(MGR, LOCALS_KEY, FRAME_KEY, body)(names, LOCALS, FRAME) as Evaluator;
  }
}

const LOC = "$dg$loc";
const ARGS = "$dg$args";
const LOCALS_KEY = "$dg$LOCALS";
const FRAME_KEY = "$dg$FRAME";

/** The code reading one own name from `$dg$loc` / `$dg$args`, as the namespace's getter does. */
function readOf(src: NameSource): string {
  if (src.from === "local") return `${LOC}?.[${src.index}]`;
  if (src.field === undefined) return `${ARGS}?.[${src.index}]`;
  return `(${ARGS}?.[${src.index}])?.[${JSON.stringify(src.field)}]`;
}

function isOwn(obj: object, key: string): boolean {
  return typeof obj === "object" && obj !== null && Object.prototype.hasOwnProperty.call(obj, key);
}

function bareEvaluator(name: string, layout: Layout, names: NamespaceSource): Evaluator {
  const src = layout.names.get(name);
  if (src !== undefined) {
    // An own name: read by its index (resolved once per layout), no getter call.
    const index = src.index;
    if (src.from === "local") return (ns) => ns[LOCALS]?.[index];
    const field = src.field;
    if (field === undefined) return (ns) => ns[FRAME]?.args[index];
    return (ns) => (ns[FRAME]?.args[index] as Record<string, unknown> | undefined)?.[field];
  }
  if (EVENT_NAMES.has(name)) {
    // A fixed property name per evaluator: a monomorphic getter call once warm. Where code
    // generation is refused, a keyed read of the same getter.
    if (!codeGenerationAllowed()) return (ns) => (ns as unknown as Record<string, unknown>)[name];
    return new Function(NS, `return ${NS}.${name};`) as Evaluator;
  }
  return function (this: unknown, ns: EventNamespace) {
    const g = names.globalNamespace;
    if (isOwn(g, name)) return g[name];
    if (name in globalThis) return (globalThis as Record<string, unknown>)[name];
    throw new UnknownNameError(name, [...layout.allNames(ns[KIND]), ...Object.keys(g)]);
  };
}
