/**
 * Code generation for the SWC path: turns an Analysis into text insertions (site-code.ts
 * snippets) and applies them with magic-string. Only insertions: the original text is never
 * removed or moved, so everything unchanged maps to itself. An outlined function's sites go into
 * its copy instead: a magic-string over the function's body alone, appended to the module; its
 * map is shifted to the body's place (source-map.ts), so the copy maps to the original lines too.
 */
import type MagicString from "magic-string";
import { magicString } from "./dependencies.js";
import type { Analysis } from "./analyze.js";
import { BINDER_CLOSE, binderOpenCode, deferredBinderCode, headerCode, markerCode } from "./header.js";
import type { AnalyzedFunction } from "./model.js";
import {
  arrowCloseCode,
  arrowOpenCode,
  bodyCloseCode,
  bodyOpenCode,
  entryCode,
  lineCode,
  OUTLINE_ARROW_CLOSE,
  outlineArrowOpenCode,
  outlineGuardCode,
  outlinedCopyCloseCode,
  outlinedCopyOpenCode,
  returnCloseCode,
  returnOpenCode,
  returnVoidCode,
  type EntryCodeInput,
  type ModuleNames,
} from "./site-code.js";

/**
 * One insertion. Several may share an offset; they are ordered like brackets: text closing a
 * node comes before text opening one, inner closes before outer closes, outer opens before inner
 * opens. A node is identified by its range [nodeStart, nodeEnd).
 */
export interface Insertion {
  offset: number;
  text: string;
  closes: boolean;
  nodeStart: number;
  nodeEnd: number;
  /** The header's insertion: `text` is `prefix` + the header statement(s). */
  header?: { prefix: number };
}

function compareInsertions(a: Insertion, b: Insertion): number {
  if (a.offset !== b.offset) return a.offset - b.offset;
  if (a.closes !== b.closes) {
    // A close before an open, unless the opening node contains the closing one (an empty body
    // `{}` opens and closes at the same offset).
    const [close, open] = a.closes ? [a, b] : [b, a];
    const contains = open.nodeStart <= close.nodeStart && open.nodeEnd >= close.nodeEnd;
    return (a.closes ? -1 : 1) * (contains ? -1 : 1);
  }
  // Closes: the inner node (later start) first. Opens: the outer node (later end) first.
  if (a.closes) return b.nodeStart - a.nodeStart || a.nodeEnd - b.nodeEnd;
  return b.nodeEnd - a.nodeEnd || a.nodeStart - b.nodeStart;
}

/**
 * The edits of a module: insertions into its text, and per outlined function the insertions into
 * its copy (offsets into the same original text, inside the function's body).
 */
export interface EditPlan {
  main: Insertion[];
  copies: { fn: AnalyzedFunction; insertions: Insertion[] }[];
}

/** All insertions for an analysed module, sorted. */
export function planInsertions(analysis: Analysis): EditPlan {
  const names = analysis.names;
  const main: Insertion[] = [];
  const copyOf = new Map<number, Insertion[]>();
  for (const fn of analysis.functions) if (fn.outline) copyOf.set(fn.id, []);
  // Where the insertions of a function's sites go: an outlined function's to its copy; those of a
  // function defined inside an outlined one to both bodies; all others to the module text.
  const targets = (fnId: number): Insertion[][] => {
    const fn = analysis.functions[fnId]!;
    if (fn.outline) return [copyOf.get(fnId)!];
    return fn.duplicatedIn >= 0 ? [main, copyOf.get(fn.duplicatedIn)!] : [main];
  };
  let out: Insertion[][] = [main];
  const push = (insertion: Insertion) => {
    for (const list of out) list.push(insertion);
  };
  const site = (id: number) => analysis.sites[id]!;
  const entryInput = (fn: AnalyzedFunction): EntryCodeInput => ({
    siteId: fn.entrySite,
    thisExpression: fn.thisExpression,
    args: fn.args,
    replaceable: fn.replaceable,
    async: fn.async,
  });

  // The marker is the outermost node of all; the header comes right after it.
  push({
    offset: analysis.marker.offset,
    text: analysis.marker.prefix + markerCode(),
    closes: false,
    nodeStart: -2,
    nodeEnd: Number.MAX_SAFE_INTEGER,
  });
  const prefix = analysis.header.needsSemicolon ? ";" : "";
  push({
    offset: analysis.header.offset,
    text: prefix + headerCode(analysis.table, analysis.format, names.handle, analysis.typed),
    closes: false,
    nodeStart: -1,
    nodeEnd: Number.MAX_SAFE_INTEGER - 1,
    header: { prefix: prefix.length },
  });

  for (const fn of analysis.functions) {
    const body = fn.body;
    const throwSite = fn.throwSite;
    const typed = fn.types ? { result: fn.types.result } : undefined;
    // The entry code (and an outlined guard) passes `this`: a plain function declares it (typed.ts).
    if (fn.types && fn.types.thisParamAt >= 0) {
      out = fn.duplicatedIn >= 0 ? [main, copyOf.get(fn.duplicatedIn)!] : [main];
      const at = fn.types.thisParamAt;
      push({
        offset: at,
        text: `this: any${fn.types.hasParams ? ", " : ""}`,
        closes: false,
        nodeStart: at,
        nodeEnd: at,
      });
    }
    if (fn.outline) {
      const guard = fn.outline;
      if (body.kind === "block") {
        main.push({
          offset: body.open,
          text: (body.openNeedsSemicolon ? ";" : "") + outlineGuardCode(names, guard) + " ",
          closes: false,
          nodeStart: body.start,
          nodeEnd: body.end,
        });
      } else {
        main.push({
          offset: body.start,
          text: outlineArrowOpenCode(names, guard),
          closes: false,
          nodeStart: body.start,
          nodeEnd: body.end,
        });
        main.push({
          offset: body.end,
          text: OUTLINE_ARROW_CLOSE,
          closes: true,
          nodeStart: body.start,
          nodeEnd: body.end,
        });
      }
    }
    out = targets(fn.id);
    if (body.kind === "block") {
      push({
        offset: body.open,
        text: (body.openNeedsSemicolon ? ";" : "") + bodyOpenCode(typed) + entryCode(names, entryInput(fn)) + " ",
        closes: false,
        nodeStart: body.start,
        nodeEnd: body.end,
      });
      const endSite = fn.endSite >= 0 ? { siteId: fn.endSite, locals: site(fn.endSite).locals } : null;
      push({
        offset: body.close,
        text: bodyCloseCode(
          names,
          endSite,
          throwSite,
          typed === undefined ? false : fn.kind === "setter" ? "setter" : true,
        ),
        closes: true,
        nodeStart: body.start,
        nodeEnd: body.end,
      });
    } else {
      const returnSite = { siteId: fn.returnSite, locals: site(fn.returnSite).locals };
      push({
        offset: body.start,
        text: arrowOpenCode(names, entryInput(fn), body.anonymous, typed),
        closes: false,
        nodeStart: body.start,
        nodeEnd: body.end,
      });
      push({
        offset: body.end,
        text: arrowCloseCode(names, returnSite, throwSite, body.anonymous, typed !== undefined),
        closes: true,
        nodeStart: body.start,
        nodeEnd: body.end,
      });
    }
  }

  const asyncOf = (siteId: number) => analysis.functions[site(siteId).fn]!.async;
  for (const line of analysis.lines) {
    out = targets(site(line.site).fn);
    const code = lineCode(names, line.site, site(line.site).locals, asyncOf(line.site), analysis.typed !== null);
    const end = line.wrapEnd ?? line.offset;
    push({
      offset: line.offset,
      text: line.wrapEnd !== null ? `{ ${code} ` : `${code} `,
      closes: false,
      nodeStart: line.offset,
      nodeEnd: end,
    });
    if (line.wrapEnd !== null)
      push({ offset: line.wrapEnd, text: " }", closes: true, nodeStart: line.offset, nodeEnd: end });
  }

  for (const r of analysis.returns) {
    out = targets(site(r.site).fn);
    const locals = site(r.site).locals;
    if (r.argument) {
      const { start, end, sequence, anonymous } = r.argument;
      push({
        offset: start,
        text: returnOpenCode(names, sequence, anonymous),
        closes: false,
        nodeStart: start,
        nodeEnd: end,
      });
      push({
        offset: end,
        text: returnCloseCode(names, r.site, locals, sequence, anonymous, analysis.typed !== null),
        closes: true,
        nodeStart: start,
        nodeEnd: end,
      });
    } else {
      push({
        offset: r.keywordEnd,
        text: returnVoidCode(names, r.site, locals, analysis.typed !== null),
        closes: false,
        nodeStart: r.start,
        nodeEnd: r.keywordEnd,
      });
    }
  }
  return {
    main: main.sort(compareInsertions),
    copies: analysis.functions
      .filter((fn) => fn.outline)
      .map((fn) => ({ fn, insertions: copyOf.get(fn.id)!.sort(compareInsertions) })),
  };
}

/** Applies the insertions to the original text. */
export function applyInsertions(code: string, insertions: readonly Insertion[]): MagicString {
  const s = new (magicString().default)(code);
  // appendLeft keeps call order at one offset, which planInsertions already sorted.
  for (const insertion of insertions) s.appendLeft(insertion.offset, insertion.text);
  return s;
}

/**
 * An outlined function's copy: its body with its own insertions, as a MagicString over just the
 * body's text (so building every copy is linear in the module, not in the module times the
 * number of copies). `line`/`column`: where the body starts in the original (0-based), which is
 * where the copy's map points.
 */
export interface OutlinedCopy {
  s: MagicString;
  line: number;
  column: number;
  /** Where the copy is created (`$dgO1 = { "<key>"(…) …`): its binding and key (outline.ts). */
  binding?: string;
  key?: string;
}

/**
 * The output: the module with its insertions, followed by the binder that creates the outlined
 * functions' copies (header.ts binderOpenCode), one copy per line:
 * `var $dgO1, $dgO3; function $dgB(…) { $dgE = $dg_e; …; $dgO1 = { "total"(a, b) <instrumented body> }["total"];`
 * and `$dgO3 = { … }["size"]; }`. The binder's opening goes before the first copy and its closing
 * after the last, so each line of the trailer is one copy's (source-map.ts maps it to its body).
 */
export interface ModuleOutput {
  main: MagicString;
  copies: OutlinedCopy[];
  /**
   * Deferred copies (site ABI 4): the copies, each `$dgO1 = { "total"(a, b) <body> }["total"];`,
   * that go into the copy text (deferred.ts) instead of the module; `copies` then holds only the
   * binder line, which evaluates that text. Null: the copies are in the module.
   */
  deferred: OutlinedCopy[] | null;
}

export function applyPlan(
  code: string,
  plan: EditPlan,
  names: ModuleNames,
  typed = false,
  deferred = false,
): ModuleOutput {
  const main = applyInsertions(code, plan.main);
  const copies: OutlinedCopy[] = [];
  // Copies are in source order: one forward pass finds each body's line and column.
  let line = 0;
  let lineStart = 0;
  let scanned = 0;
  for (const { fn, insertions } of plan.copies) {
    const { start, end } = fn.body;
    for (let i = code.indexOf("\n", scanned); i >= 0 && i < start; i = code.indexOf("\n", i + 1)) {
      line++;
      lineStart = i + 1;
    }
    scanned = Math.max(scanned, start);
    const copy = new (magicString().default)(code.slice(start, end));
    for (const insertion of insertions) copy.appendLeft(insertion.offset - start, insertion.text);
    const outline = fn.outline!;
    copy.prepend(outlinedCopyOpenCode(outline.name, outline.key, outline.params, fn.types?.copy));
    copy.append(outlinedCopyCloseCode(outline.key, typed));
    copies.push({ s: copy, line, column: start - lineStart, binding: outline.name, key: outline.key });
  }
  if (deferred && copies.length > 0) {
    // The module keeps one line: the copies' bindings and the binder that evaluates their text.
    const copyNames = plan.copies.map(({ fn }) => fn.outline!.name);
    const binder = new (magicString().default)("");
    binder.prepend(deferredBinderCode(names.handle, copyNames));
    return { main, copies: [{ s: binder, line: 0, column: 0 }], deferred: copies };
  }
  if (copies.length > 0) {
    const copyNames = plan.copies.map(({ fn }) => fn.outline!.name);
    copies[0]!.s.prepend(binderOpenCode(names.handle, copyNames, typed));
    copies[copies.length - 1]!.s.append(BINDER_CLOSE);
  }
  return { main, copies, deferred: null };
}

/** The text of the module and of each copy: built once, for the output text and for its map. */
export interface OutputParts {
  main: string;
  copies: string[];
}

const partsOf = new WeakMap<ModuleOutput, OutputParts>();

export function outputParts(output: ModuleOutput): OutputParts {
  let parts = partsOf.get(output);
  if (parts === undefined) {
    parts = { main: output.main.toString(), copies: output.copies.map((copy) => copy.s.toString()) };
    partsOf.set(output, parts);
  }
  return parts;
}

/** The output text of `applyPlan`. */
export function outputText(output: ModuleOutput): string {
  const { main, copies } = outputParts(output);
  let text = main;
  for (const copy of copies) text += "\n" + copy;
  return text;
}

/** Where the header statement(s) end up in the output of `applyInsertions`: `[start, end)`. */
export function headerRange(insertions: readonly Insertion[]): { start: number; end: number } | null {
  let shift = 0;
  for (const insertion of insertions) {
    if (insertion.header !== undefined) {
      const start = insertion.offset + shift + insertion.header.prefix;
      return { start, end: insertion.offset + shift + insertion.text.length };
    }
    shift += insertion.text.length;
  }
  return null;
}
