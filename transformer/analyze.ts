/**
 * Analysis: one SWC parse and one walk give the functions, the sites (numbered densely in source
 * order), the locals each site passes, the edit positions and the module table. Internal to the
 * package, shared by `instrument()` and the ts-patch adapter so both produce the same table and
 * names from one place.
 */
import { forEachChild, type AnyNode, type Program } from "./ast.js";
import {
  ABI_VERSION,
  COPY_RECEIVER_PARAM,
  FnFlags,
  MODULE_HANDLE,
  SiteKind,
  encodeLocals,
  encodeSites,
  handleName,
  outlinedName,
  rangesText,
  type FunctionEntry,
  type ModuleTable,
} from "../abi/index.js";
import { isInstrumented, markerPosition, moduleHash, type OutputModuleFormat } from "./header.js";
import type {
  AnalyzedFunction,
  AnalyzedSite,
  InstrumentWarning,
  LineEdit,
  OutlinedFunction,
  ReturnEdit,
} from "./model.js";
import { matchesAny } from "./glob.js";
import { resolveOptions, type ResolvedOptions } from "./options.js";
import type { ModuleNames } from "./site-code.js";
import { languageOf, parseSource } from "./parse.js";
import { firstTokenIndex } from "./positions.js";
import type { InstrumentOptions } from "./types.js";
import { isStackOverflow, textNestingProblem, treeDepthProblem } from "./nesting.js";
import { moduleScopedFunctions } from "./outline.js";
import { functionNameOf } from "./naming.js";
import type { FunctionTypes } from "./typed.js";
import { Walker, ignoreNextStarts, type RawFunction, type RawSite } from "./walk/index.js";

export type {
  AnalyzedFunction,
  AnalyzedSite,
  BodyEdit,
  FunctionKind,
  InstrumentWarning,
  LineEdit,
  ReturnEdit,
} from "./model.js";

export interface Analysis {
  /** Module path relative to the root ("/" separators, with extension). */
  module: string;
  package: string;
  hash: string;
  /** Runtime format of the output the header is written for. */
  format: OutputModuleFormat;
  /**
   * The names site code uses: pass this (not `hash`) to the site-code.ts builders and its
   * `handle` to `headerCode`. ESM/CJS: the short module-scoped handle `$dg`; scripts: `$dg_<hash>`.
   */
  names: ModuleNames;
  functions: AnalyzedFunction[];
  sites: AnalyzedSite[];
  returns: ReturnEdit[];
  lines: LineEdit[];
  /** Where the marker goes (index 0, or after a hashbang line) and what precedes it. */
  marker: { offset: number; prefix: string };
  /** Where the header goes: after the directive prologue, else at the first statement. */
  header: { offset: number; needsSemicolon: boolean };
  table: ModuleTable;
  warnings: InstrumentWarning[];
  options: ResolvedOptions;
  /**
   * TypeScript input: the output carries type annotations (typed.ts); `module` says whether
   * TypeScript sees the file as a module (its global declarations go in `declare global`).
   */
  typed: { module: boolean } | null;
}

export interface SkippedAnalysis {
  skipped: string;
  options: ResolvedOptions | null;
  /** Why the file is skipped, when the user should hear of it (its probes would stay pending). */
  warning?: InstrumentWarning;
}

/**
 * `$dgf`, `$dgr`, `$dge`, `$dg_…`, the bare identifier `$dg`, and `$dg` + a capital: the hook
 * bindings `$dgE`…, the identity `$dgI`, outlined copies `$dgO<n>`.
 */
const RESERVED = /^\$dg(?:[fre_A-Z]|$)/;

/** A file left as it is because the parser or the walk could not take its nesting. */
function tooDeep(
  filename: string,
  options: ResolvedOptions,
  line: number,
  column: number,
  why: string,
): SkippedAnalysis {
  return {
    skipped: `${why} (line ${line})`,
    options,
    warning: {
      code: "too-deep",
      message: `${filename}:${line}:${column + 1}: ${options.modulePath} left uninstrumented: ${why}`,
      line,
      column,
    },
  };
}

/** 1-based line and 0-based column of an index, without a Positions table (no parse yet). */
function lineColumnOf(code: string, index: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = code.indexOf("\n"); i >= 0 && i < index; i = code.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: index - start };
}

/**
 * How an outlined function's guard hands its copy `this` (model.ts OutlinedFunction); null: not
 * outlined. Members keep `.call` even when they never read `this`: V8 names a frame after its
 * receiver's class (`at Cart.total`), and the copy's frame should read like the original's.
 */
function receiverOf(fn: RawFunction): OutlinedFunction["receiver"] | null {
  if (fn.outline === null) return null;
  if ((fn.flags & FnFlags.arrow) !== 0) return "none";
  return fn.kind === "function" && !fn.outline.readsThis ? "argument" : "call";
}

/** Typed output: a copy that takes `this` as its first argument declares it as that parameter. */
function receiverAsParameter(types: FunctionTypes | null): FunctionTypes | null {
  if (types?.copy == null) return types;
  const { thisType, params } = types.copy;
  return {
    ...types,
    copy: { ...types.copy, thisType: "", params: [`${COPY_RECEIVER_PARAM}: ${thisType || "any"}`, ...params] },
  };
}

/**
 * The first identifier that binds or references a reserved name, by its decoded name. Property
 * names (`o.$dgf`, `{ $dgf: 1 }`) carry no syntax context in SWC's AST and are never in scope.
 */
function reservedIdentifier(program: Program, code: string): { name: string; start: number } | undefined {
  if (!code.includes("$dg") && !code.includes("\\u")) return undefined;
  // Iterative: the depth of the tree is the user's, not bounded by our stack.
  const stack: AnyNode[] = [program as unknown as AnyNode];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.type === "Identifier" && "ctxt" in node) {
      const name = String(node["value"]);
      if (RESERVED.test(name)) return { name, start: node.span.start };
      continue;
    }
    // Children reversed onto the stack: the first clash in source order is reported.
    const from = stack.length;
    forEachChild(node, (child) => void stack.push(child));
    reverseFrom(stack, from);
  }
  return undefined;
}

function reverseFrom(items: unknown[], from: number): void {
  for (let i = from, j = items.length - 1; i < j; i++, j--) [items[i], items[j]] = [items[j], items[i]];
}

/** Analyzes a file; returns `{ skipped }` for files that must be left unchanged. */
export function analyze(code: string, filename: string, options?: InstrumentOptions): Analysis | SkippedAnalysis {
  const resolved = resolveOptions(filename, options);
  if (typeof code !== "string") throw new TypeError(`instrument(): code of ${filename} must be a string`);
  if (isInstrumented(code)) return { skipped: "already instrumented", options: resolved };
  if (resolved.include.length > 0 && !matchesAny(resolved.modulePath, resolved.include)) {
    return { skipped: "not matched by include", options: resolved };
  }
  if (matchesAny(resolved.modulePath, resolved.exclude)) return { skipped: "matched by exclude", options: resolved };
  const language = languageOf(filename, resolved.jsx);
  if (!language)
    return {
      skipped: /\.d\.[^/\\]*ts$/i.test(filename) ? "declaration file" : "unsupported file extension",
      options: resolved,
    };
  if (leadingTrivia(code).includes("diagnose-ignore-file"))
    return { skipped: "diagnose-ignore-file comment", options: resolved };
  const deepText = textNestingProblem(code);
  if (deepText !== undefined) {
    const at = lineColumnOf(code, deepText.index);
    return tooDeep(
      filename,
      resolved,
      at.line,
      at.column,
      `it nests ${deepText.what} more than ${deepText.limit} levels deep`,
    );
  }
  const parsed = parseSource(code, filename, language);
  const deepTree = treeDepthProblem(parsed.program as unknown as AnyNode);
  if (deepTree !== undefined) {
    const at = parsed.positions.lineColumn(parsed.positions.index(deepTree.node.span.start));
    return tooDeep(
      filename,
      resolved,
      at.line,
      at.column,
      `its syntax tree is more than ${deepTree.limit} levels deep`,
    );
  }
  // The generated names must not meet user code (`$dgf` in a user closure would be captured, a
  // user `$dg` would clash with the module handle). Names, not text: `\u0024dgr` is `$dgr`, and
  // `"$dg"` in a string or `o.$dgf` is no clash.
  const reserved = reservedIdentifier(parsed.program, code);
  if (reserved !== undefined) {
    const { line, column } = parsed.positions.lineColumn(parsed.positions.index(reserved.start));
    const why = `the source uses the identifier ${reserved.name}, whose prefix $dg is reserved for the site code; rename it to instrument this file`;
    return {
      skipped: `the source uses the reserved identifier ${reserved.name} (line ${line})`,
      options: resolved,
      warning: {
        code: "reserved-identifier",
        message: `${filename}:${line}:${column + 1}: ${resolved.modulePath} left uninstrumented: ${why}`,
        line,
        column,
      },
    };
  }
  // Hashed without a byte-order mark: tsc hands its plugins the text with the BOM stripped, and the
  // same file must get the same hash (so the same flags) on every build path.
  const hash = moduleHash(
    resolved.packageName,
    resolved.modulePath,
    code.charCodeAt(0) === 0xfeff ? code.slice(1) : code,
  );
  const ignore = ignoreNextStarts(code, (from) => firstTokenIndex(code, from));
  let walked: ReturnType<Walker["walk"]>;
  try {
    const outlinable = resolved.outline ? moduleScopedFunctions(parsed.program) : new Set<never>();
    const walker = new Walker(code, filename, resolved.modulePath, parsed.positions, ignore, outlinable);
    walker.typed = resolved.types && (language === "ts" || language === "tsx");
    walker.deferred = resolved.deferCopies;
    walked = walker.walk(parsed.program);
  } catch (error) {
    // The tree is within MAX_TREE_DEPTH, but the caller may have left less stack than usual.
    if (isStackOverflow(error))
      return tooDeep(filename, resolved, 1, 0, "the walk over its syntax tree ran out of stack");
    throw error;
  }

  // Sites: dense ids in source order (ties: creation order, i.e. entry before nested sites).
  const rawSites = walked.sites.slice().sort((a, b) => a.offset - b.offset || a.seq - b.seq);
  rawSites.forEach((site, id) => (site.id = id));
  const fnIds = new Map(walked.functions.map((fn, id) => [fn, id]));
  const sites: AnalyzedSite[] = rawSites.map((s) => {
    const { line, column } =
      s.kind === "entry" ? { line: s.fn.line, column: s.fn.column } : parsed.positions.lineColumn(s.offset);
    return { id: s.id, kind: s.kind, fn: fnIds.get(s.fn)!, line, column, locals: s.locals, offset: s.offset };
  });
  const idOf = (site: RawSite | null): number => (site ? site.id : -1);
  const format: OutputModuleFormat =
    resolved.module ??
    (/\.m[jt]s$/i.test(filename)
      ? "esm"
      : /\.c[jt]s$/i.test(filename)
        ? "cjs"
        : parsed.hasModuleSyntax
          ? "esm"
          : "script");
  const names: ModuleNames = { hash, handle: format === "script" ? handleName(hash) : MODULE_HANDLE };
  // Outlined functions' flags follow the site flags, in function order.
  let outlineFlag = sites.length;
  const functions: AnalyzedFunction[] = walked.functions.map((fn, id) => {
    const receiver = receiverOf(fn);
    return {
      id,
      path: fn.path,
      qualifiedName: `${resolved.modulePath}:${fn.path}`,
      kind: fn.kind,
      line: fn.line,
      column: fn.column,
      flags: fn.flags,
      params: fn.params,
      async: fn.async,
      generator: fn.generator,
      start: fn.start,
      end: fn.end,
      body: fn.body,
      // The entry code is only in the copy of an outlined function: one that takes the original's
      // `this` as its first argument passes that.
      thisExpression: receiver === "argument" ? COPY_RECEIVER_PARAM : fn.thisExpression,
      args: fn.args,
      // Without argument replacement the entry code assigns nothing.
      replaceable: resolved.replaceArguments ? fn.replaceable : fn.replaceable.map(() => null),
      entrySite: fn.entry.id,
      endSite: idOf(fn.end_),
      throwSite: fn.throw_.id,
      returnSite: idOf(fn.return_),
      entryLineSite: idOf(fn.entryLine),
      sites: fn.sites.map((s) => s.id).sort((a, b) => a - b),
      outline: fn.outline && {
        flag: outlineFlag++,
        name: outlinedName(names.handle, id),
        key: functionNameOf(fn.path),
        params: receiver === "argument" ? [COPY_RECEIVER_PARAM, ...fn.outline.params] : fn.outline.params,
        forward: fn.outline.forward,
        receiver: receiver!,
      },
      duplicatedIn: -1,
      types: receiver === "argument" ? receiverAsParameter(fn.types) : fn.types,
    };
  });
  markDuplicated(functions);

  return {
    module: resolved.modulePath,
    package: resolved.packageName,
    hash,
    format,
    names,
    functions,
    sites,
    returns: walked.returns.map((r) => ({
      site: r.site.id,
      start: r.start,
      keywordEnd: r.keywordEnd,
      argument: r.argument,
    })),
    // A line site the entry code serves has no code of its own.
    lines: walked.lines
      .filter((l) => l.site.fn.entryLine !== l.site)
      .map((l) => ({ site: l.site.id, offset: l.offset, wrapEnd: l.wrapEnd })),
    marker: (({ index, prefix }) => ({ offset: index, prefix }))(markerPosition(code)),
    header: headerPosition(code, parsed.program.body, parsed.positions.index),
    table: buildTable(hash, resolved, functions, sites, outlineFlag - sites.length),
    warnings: walked.warnings,
    options: resolved,
    // .mts/.cts files are modules to TypeScript whatever their syntax.
    typed:
      resolved.types && (language === "ts" || language === "tsx")
        ? { module: format === "esm" || parsed.hasModuleSyntax || /\.[cm]ts$/i.test(filename) }
        : null,
  };
}

/**
 * Sets `duplicatedIn` of the functions defined inside an outlined one. Outlined functions stand in
 * module scope, so they never contain one another; functions are in source order of their start.
 */
function markDuplicated(functions: AnalyzedFunction[]): void {
  let outer: AnalyzedFunction | undefined;
  for (const fn of functions) {
    if (fn.outline) outer = fn;
    else if (outer && fn.start >= outer.body.start && fn.end <= outer.body.end) fn.duplicatedIn = outer.id;
  }
}

/** The comments and whitespace before the first token (after a BOM and a hashbang line). */
function leadingTrivia(code: string): string {
  const { index } = markerPosition(code);
  return code.slice(index, firstTokenIndex(code, index));
}

export function isSkipped(analysis: Analysis | SkippedAnalysis): analysis is SkippedAnalysis {
  return "skipped" in analysis;
}

/** After the module's directive prologue ("use client" stays first), else at the first statement. */
function headerPosition(
  code: string,
  body: readonly { type: string; span: { start: number; end: number } }[],
  index: (pos: number) => number,
): { offset: number; needsSemicolon: boolean } {
  let last: { span: { end: number } } | undefined;
  for (const item of body) {
    const expression = (item as { expression?: { type: string } }).expression;
    if (item.type !== "ExpressionStatement" || expression?.type !== "StringLiteral") break;
    last = item;
  }
  if (last) {
    const offset = index(last.span.end);
    return { offset, needsSemicolon: code[offset - 1] !== ";" };
  }
  const first = body[0];
  if (first) return { offset: index(first.span.start), needsSemicolon: false };
  return { offset: code.length, needsSemicolon: false };
}

/**
 * Fewer flags left to the registry than this, and the module defines them all at load: the ranged
 * definer and `l` add ~100 bytes of text (in the output, and ~3 times in the heap: the module's
 * source, the data: URL, its module's source), against ~100 bytes of heap per flag not defined
 * (heap snapshots of the benchmark's rxjs graph, where most modules are small).
 */
const MIN_LAZY_FLAGS = 8;

/**
 * Table field `l` (abi/index.ts): the flags the module's own code reads, which must exist before it
 * runs. The sites of an outlined function are read only by its copy, which runs once a probe has
 * turned its outline flag on, and a line site the entry code serves is read by no code; the
 * registry defines those when the module is first watched. Omitted when (nearly) every flag is read.
 */
function loadFlags(
  functions: readonly AnalyzedFunction[],
  sites: readonly AnalyzedSite[],
  outlined: number,
): { l?: string } {
  const ids: number[] = [];
  for (const site of sites) {
    const fn = functions[site.fn]!;
    if (fn.outline === null && site.id !== fn.entryLineSite) ids.push(site.id);
  }
  for (let k = 0; k < outlined; k++) ids.push(sites.length + k);
  return sites.length + outlined - ids.length < MIN_LAZY_FLAGS ? {} : { l: rangesText(ids) };
}

function buildTable(
  hash: string,
  options: ResolvedOptions,
  functions: AnalyzedFunction[],
  sites: AnalyzedSite[],
  outlined: number,
): ModuleTable {
  const v: (readonly string[])[] = [];
  // Sites usually share their locals array (scopes.ts memoises it): look up by identity first.
  const byArray = new Map<readonly string[], number>();
  const byText = new Map<string, number>();
  const s: number[] = [];
  for (const site of sites) {
    let localsIndex = -1;
    if (site.locals.length > 0) {
      localsIndex = byArray.get(site.locals) ?? -1;
      if (localsIndex < 0) {
        const key = site.locals.join(",");
        localsIndex = byText.get(key) ?? -1;
        if (localsIndex < 0) {
          localsIndex = v.length;
          v.push(site.locals);
          byText.set(key, localsIndex);
        }
        byArray.set(site.locals, localsIndex);
      }
    }
    s.push(SiteKind[site.kind], site.fn, site.line, site.column, localsIndex);
  }
  return {
    abi: ABI_VERSION,
    h: hash,
    m: options.modulePath,
    p: options.packageName,
    n: sites.length + outlined,
    f: JSON.stringify(functions.map(functionEntry)),
    s: encodeSites(s),
    v: encodeLocals(v),
    r: options.replaceArguments ? 1 : 0,
    ...(outlined > 0 ? { o: outlined } : {}),
    ...loadFlags(functions, sites, outlined),
  };
}

/** The table's `f` entry of a function (abi/index.ts FunctionEntry): trailing optional fields only when set. */
function functionEntry(fn: AnalyzedFunction): FunctionEntry {
  const entry: FunctionEntry = [fn.path, fn.line, fn.column, fn.flags, fn.params];
  if (fn.outline) entry.push(fn.entryLineSite, fn.outline.flag);
  else if (fn.entryLineSite >= 0) entry.push(fn.entryLineSite);
  return entry;
}
