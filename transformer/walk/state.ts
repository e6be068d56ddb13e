/**
 * The state every part of the walk shares: the naming context (the path prefix of the enclosing
 * function/class/object, and the class a constructor's `this.x = …` names under), the function
 * whose statements are being walked with its scopes, the `diagnose-ignore-next` state, and the
 * result being built. The walk itself is layered, one syntactic family per module:
 * functions.ts → classes.ts → expressions.ts → statements.ts; cross-family calls go through the
 * abstract visitors declared here.
 */
import type { SiteKindName } from "../../abi/index.js";
import { forEachChild, type AnyNode, type Node } from "../ast.js";
import type { FunctionKind, InstrumentWarning } from "../model.js";
import { PathRegistry } from "../naming.js";
import type { Positions } from "../positions.js";
import type { Scope } from "../scopes.js";
import type { ClassOwner, FunctionTypes, TypeParam } from "../typed.js";

export interface RawSite {
  kind: SiteKindName;
  offset: number;
  seq: number;
  locals: string[];
  fn: RawFunction;
  id: number;
}

export interface RawFunction {
  path: string;
  kind: FunctionKind;
  flags: number;
  params: string[];
  args: string[];
  replaceable: (string | null)[];
  thisExpression: string;
  start: number;
  end: number;
  line: number;
  column: number;
  async: boolean;
  generator: boolean;
  body:
    | { kind: "block"; start: number; end: number; open: number; openNeedsSemicolon: boolean; close: number }
    | { kind: "expression"; start: number; end: number; anonymous: boolean };
  entry: RawSite;
  end_: RawSite | null;
  throw_: RawSite;
  return_: RawSite | null;
  /** The first statement's line site, served by the entry code (no code of its own), or null. */
  entryLine: RawSite | null;
  sites: RawSite[];
  /**
   * Outlined (outline.ts): the copy's parameters, the arguments its guard forwards and whether the
   * body reads its own `this`; else null.
   */
  outline: { params: string[]; forward: string[]; readsThis: boolean } | null;
  /** TypeScript output: the annotations of what the function gets (typed.ts); else null. */
  types: FunctionTypes | null;
}

export interface RawReturn {
  site: RawSite;
  start: number;
  keywordEnd: number;
  argument: { start: number; end: number; sequence: boolean; anonymous: boolean } | null;
}

export interface RawLine {
  site: RawSite;
  offset: number;
  wrapEnd: number | null;
}

export interface WalkResult {
  functions: RawFunction[];
  sites: RawSite[];
  returns: RawReturn[];
  lines: RawLine[];
  warnings: InstrumentWarning[];
}

/** The name (and flags) an anonymous function/class/object takes from where it stands. */
export interface Hint {
  segment: string;
  flags?: number;
  /** Name under this prefix instead of the current one (`this.x = …` in a constructor). */
  prefix?: string;
}

export interface FunctionSyntax {
  node: Node;
  kind: FunctionKind;
  segment: string;
  prefix?: string | undefined;
  flags: number;
  params: Node[];
  body: Node | null | undefined;
  /** Where the function's name or key starts (its reported line/column). */
  location: number;
  async: boolean;
  generator: boolean;
  /** Class constructors: the class path (for `this.x = …` naming). */
  classPath?: string;
}

/** The per-call state of the function whose statements are being walked. */
export interface FunctionContext {
  fn: RawFunction;
  scopes: Scope[];
  sitedLines: Set<number>;
  /** Number of parameter names (they come first in the function scope). */
  paramCount: number;
}

const TYPE_WRAPPERS = new Set([
  "ParenthesisExpression",
  "TsAsExpression",
  "TsSatisfiesExpression",
  "TsNonNullExpression",
  "TsTypeAssertion",
  "TsConstAssertion",
  "TsInstantiation",
]);

/**
 * Whether `node` is (through parentheses and type-only wrappers) an anonymous function, arrow or
 * class expression: `$dgr = node` would name it "$dgr" (NamedEvaluation).
 */
export function isAnonymousDefinition(node: Node | null | undefined): boolean {
  let n = node as AnyNode | null | undefined;
  while (n && TYPE_WRAPPERS.has(n.type)) n = n["expression"] as AnyNode | undefined;
  if (!n) return false;
  if (n.type === "ArrowFunctionExpression") return true;
  if (n.type === "FunctionExpression" || n.type === "ClassExpression") return !n["identifier"];
  return false;
}

export abstract class WalkerBase {
  protected readonly paths = new PathRegistry();
  protected readonly result: WalkResult = { functions: [], sites: [], returns: [], lines: [], warnings: [] };
  protected seq = 0;
  /** Path of the enclosing function, class or object literal (the naming context). */
  protected prefix = "";
  /** Inside a constructor (and arrows in it): the class path `this.x = function …` is named under. */
  protected thisPrefix: string | undefined;
  /** The instrumented function whose statements are being walked, or null. */
  protected ctx: FunctionContext | null = null;
  /** Inside a node marked by `diagnose-ignore-next`: no sites. */
  protected ignored = false;
  /**
   * Inside the body of a `with` statement: names resolve through the `with` object first, so site
   * code there could read or write the user's object. Nothing there is instrumented.
   */
  protected insideWith = false;
  /**
   * The source may have a `with` statement (checked once, so most files skip the scans): the word
   * is in the text, and the program is a sloppy-mode script (set by `walk`) — SWC refuses `with`
   * in modules, in strict code and in TypeScript, so only a Script's tree can hold one.
   */
  protected mayHaveWith: boolean;
  /** TypeScript output: functions record their types (typed.ts). */
  typed = false;
  /** Deferred copies (options.ts `deferCopies`): outline.ts lifts its limits for them. */
  deferred = false;
  /** The type parameters of the class whose members are being walked (none outside a generic class). */
  protected classTypeParams: readonly TypeParam[] = [];
  /** The named class whose members are being walked, for typing their copies' `this`; else null. */
  protected classOwner: ClassOwner | null = null;

  constructor(
    protected readonly code: string,
    protected readonly filename: string,
    protected readonly modulePath: string,
    protected readonly pos: Positions,
    /** UTF-16 offsets of nodes preceded by `// diagnose-ignore-next`. */
    protected readonly ignoreStarts: ReadonlySet<number>,
    /** The function nodes that may be outlined (outline.ts `moduleScopedFunctions`); empty: none. */
    protected readonly moduleScoped: ReadonlySet<Node> = new Set(),
  ) {
    this.mayHaveWith = /\bwith\b/.test(code);
  }

  /** `single`: the statement is the body of an if/else/loop (braces are added if a site goes before it). */
  protected abstract visitStatement(node: Node, single: boolean, allowSite: boolean): void;
  protected abstract visitStatements(stmts: readonly Node[], scope: Scope): void;
  protected abstract visitExpr(node: Node | null | undefined, hint?: Hint): void;

  protected visitKey(key: Node): void {
    if (key.type === "Computed") this.visitExpr((key as AnyNode)["expression"] as Node);
  }

  protected visitDecorators(decorators: unknown): void {
    if (!Array.isArray(decorators)) return;
    for (const d of decorators as AnyNode[]) this.visitExpr(d["expression"] as Node);
  }

  /** Visits every child node in field order (ast.ts `forEachChild`); a block as a statement. */
  protected visitChildren(node: AnyNode | Record<string, unknown>): void {
    forEachChild(node, (child) => {
      if (child.type === "BlockStatement") this.visitStatement(child, false, false);
      else this.visitExpr(child);
    });
  }

  protected isIgnored(node: Node | AnyNode | undefined): boolean {
    if (this.ignoreStarts.size === 0 || !node?.span) return false;
    return this.ignoreStarts.has(this.pos.index(node.span.start));
  }

  protected site(kind: SiteKindName, fn: RawFunction, offset: number, locals: string[]): RawSite {
    const site: RawSite = { kind, offset, seq: this.seq++, locals, fn, id: -1 };
    fn.sites.push(site);
    this.result.sites.push(site);
    return site;
  }

  protected warn(code: string, swcPos: number, qualifiedName: string, why: string): void {
    const { line, column } = this.pos.lineColumn(this.pos.index(swcPos));
    this.result.warnings.push({
      code,
      message: `${this.filename}:${line}:${column + 1}: ${qualifiedName} left uninstrumented: ${why}`,
      line,
      column,
      function: qualifiedName,
    });
  }
}
