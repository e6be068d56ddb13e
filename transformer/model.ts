/**
 * What analysis produces: functions, sites and edit positions, all as UTF-16 offsets into the
 * ORIGINAL text. Code generation (edit.ts for magic-string, the ts-patch adapter for the TS AST)
 * turns these into code with the snippets of site-code.ts, so every path emits the same table.
 */
import type { SiteKindName } from "../abi/index.js";
import type { FunctionTypes } from "./typed.js";

/** The syntactic form of an instrumented function, as reported in the site manifest. */
import type { FunctionKind } from "../abi/manifest-format.js";
export type { FunctionKind };

export interface AnalyzedSite {
  /** Dense id within the module, in source order. */
  id: number;
  kind: SiteKindName;
  /** Function id (index into `Analysis.functions` and the table's `f`). */
  fn: number;
  /** 1-based line, 0-based UTF-16 column in the original source. */
  line: number;
  column: number;
  /** Names of the locals passed at this site, in order (empty for entry sites). */
  locals: string[];
  /** UTF-16 offset in the original text the site belongs to. */
  offset: number;
}

/** Where the body-level code of a function goes. */
export type BodyEdit =
  | {
      kind: "block";
      /** Offset of the body's `{`. */
      start: number;
      /** Offset just past the body's `}`. */
      end: number;
      /** Where `var $dgf, $dgr; try { <entry>` goes: after `{` or after the directive prologue. */
      open: number;
      /** The last directive lacks a semicolon: insert one before the opener. */
      openNeedsSemicolon: boolean;
      /** Offset of the closing `}`: the end site and `} catch (…) {…}` go before it. */
      close: number;
    }
  | {
      kind: "expression";
      /** Range of an arrow's expression body, which becomes `{ … return (…); … }`. */
      start: number;
      end: number;
      /** The body is an anonymous function/arrow/class expression: returned as `$dgI(expr)`. */
      anonymous: boolean;
    };

export interface AnalyzedFunction {
  id: number;
  /** Path within the module, e.g. `Cart.total`. */
  path: string;
  /** `<module>:<path>`. */
  qualifiedName: string;
  kind: FunctionKind;
  line: number;
  column: number;
  /** FnFlags bits (abi/index.ts). */
  flags: number;
  /** Parameter descriptors: `a`, `a=`, `...a`, `{x,y}`. */
  params: string[];
  async: boolean;
  generator: boolean;
  /** Range of the whole function node in the original text. */
  start: number;
  end: number;
  body: BodyEdit;
  /** `this`, or `void 0` for arrows and derived-class constructors. */
  thisExpression: string;
  /** Entry argument expressions, one per parameter. */
  args: string[];
  /** Per parameter: the name a replaced argument is assigned to, or null. */
  replaceable: (string | null)[];
  entrySite: number;
  /** The end site, or -1 (expression bodies; bodies whose last statement returns or throws). */
  endSite: number;
  throwSite: number;
  /** Expression bodies: the site of the implicit `return`; otherwise -1. */
  returnSite: number;
  /**
   * The line site of the body's first statement when the entry code serves it (it stands right
   * before that statement, nothing runs in between): it is in the table, but has no code of its
   * own; otherwise -1. Table: the 6th element of the function's `f` entry.
   */
  entryLineSite: number;
  /** Every site id of this function, ascending. */
  sites: number[];
  /**
   * An outlined function (transformer/outline.ts): its plain body stays in place behind the guard
   * `if (<flag>) return <name>.call(this, <forward>);` (or a direct call, see `receiver`), its instrumented body goes into the copy
   * `<name> = { "<key>"(<params>) {…} }["<key>"];`, created by the binder at the end of the module.
   * Null: instrumented in place.
   */
  outline: OutlinedFunction | null;
  /**
   * The id of the outlined function this one is defined in (its code, with its site code, is in
   * both that function's body and its copy), or -1.
   */
  duplicatedIn: number;
  /** TypeScript output: the function's type annotations (typed.ts); null for JavaScript. */
  types: FunctionTypes | null;
}

export interface OutlinedFunction {
  /** The flag id (after the site flags) that sends calls to the copy. */
  flag: number;
  /** The binding that holds the copy (abi/index.ts `outlinedName`). */
  name: string;
  /**
   * The name the copy takes, as its method key: the one V8 gives the original (naming.ts
   * `functionNameOf`: `total`, `get size`, "" for an anonymous or computed one).
   */
  key: string;
  /** The copy's parameters: `a`, `...rest`; first `$dg_s` when `receiver` is "argument". */
  params: string[];
  /** The arguments the guard passes on after the receiver, if any: `a`, `...rest`. */
  forward: string[];
  /**
   * How the guard hands the copy the original's `this`:
   * - "call": `<name>.call(this, <forward>)`, the body reads its `this`;
   * - "argument": `<name>(this, <forward>)`, the body never reads its `this` (outline.ts
   *   frameUse), which is only the probes' (the copy's entry site passes `$dg_s`,
   *   COPY_RECEIVER_PARAM, where it would pass `this`);
   * - "none": `<name>(<forward>)`, an arrow (its `this` is lexical and unused, outline.ts).
   * A direct call of a module variable is one TurboFan makes to a known target (and may inline);
   * `.call` goes through the generic call builtins on every call.
   */
  receiver: "call" | "argument" | "none";
}

/** A `return` statement to rewrite. */
export interface ReturnEdit {
  site: number;
  /** Offset of the `return` statement. */
  start: number;
  /** Offset just past the `return` keyword (where `return;` gets its value). */
  keywordEnd: number;
  /** The returned expression, or null for `return;`. `sequence`: a bare `a, b` needing parens. */
  argument: { start: number; end: number; sequence: boolean; anonymous: boolean } | null;
}

/** A line site: code goes at `offset`, the start of the first statement on that line. */
export interface LineEdit {
  site: number;
  offset: number;
  /** The statement is a single-statement body (`if (c) stmt`): wrap `{ … }` up to this offset. */
  wrapEnd: number | null;
}

export interface InstrumentWarning {
  /** Machine-readable reason, e.g. `"function-declaration-collision"`. */
  code: string;
  /** `file:line:col: <qualified name> left uninstrumented: <why>`. */
  message: string;
  line: number;
  column: number;
  /** The qualified name of the function concerned, if any. */
  function?: string;
}
