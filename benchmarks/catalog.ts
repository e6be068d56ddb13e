/**
 * The workloads and, for each, where the probes go. Workload sources are TypeScript under
 * `benchmarks/workloads/` (not part of the repo build); `build-workloads.ts` compiles them.
 *
 * Files are named by their path inside a build: `bench/<name>.ts` for a workload,
 * `rxjs/src/…` for the third-party library. Texts used to find a line (`bodyAnchor`,
 * `lineAnchor`) must occur exactly once in their file, so a changed source fails loudly.
 */

/** How the shimmer-style peer reaches the probed function. */
export type ShimTarget =
  | { readonly kind: "binding"; readonly name: string } // a module-level function declaration
  | { readonly kind: "method"; readonly cls: string; readonly name: string }; // a prototype method

/** A function whose V8 optimization status and inlining are recorded. */
export interface HotFunction {
  /** Shown in reports. */
  readonly label: string;
  /** Its file in the build (`bench/micro.ts`). */
  readonly file: string;
  /** Export of that module holding the function (or the class). */
  readonly exportName: string;
  /** A prototype method of the exported class. */
  readonly method?: string;
  /** The name V8 prints for it (SharedFunctionInfo), used to read inlining and deopt traces. */
  readonly v8Name: string;
}

export interface WorkloadSpec {
  readonly name: string;
  readonly title: string;
  /** Realistic workloads are held to the 1.02× bar, the micro one to 1.2×. */
  readonly realistic: boolean;
  readonly async: boolean;
  /** The function the "call" probe, the log and histogram instruments and the peers attach to. */
  readonly call: {
    readonly file: string;
    /** Qualified name ("module:path") of the function in the instrumented build. */
    readonly target: string;
    /** Text holding the function's header; its first `{` opens the body (the diagnostics_channel guard goes after it). */
    readonly bodyAnchor: string;
    /** Parameters published by the diagnostics_channel peer. */
    readonly params: readonly string[];
    /** What LogInstrument logs (an expression over the parameters). */
    readonly logValue: string;
    readonly shim: ShimTarget;
  };
  /** The "line:N" probe reading two locals. */
  readonly line: {
    readonly target: string;
    readonly file: string;
    /** Text on line N. */
    readonly lineAnchor: string;
    readonly locals: readonly [string, string];
  };
  readonly hot: readonly HotFunction[];
  /** Third-party packages compiled from their sources into the build. */
  readonly libraries: readonly string[];
  /**
   * Ops per run of the instruction-count phase (instructions.ts): warm-up ops and measured ops
   * alike. Fixed because under callgrind (~50× slower) a timed warm-up would warm nothing; sized
   * so one run takes ~10–40 s and the measured ops (tens of millions of instructions) dwarf the
   * ~10,000-instruction run-to-run wobble that remains (instructions.ts).
   */
  readonly instructionOps: number;
}

export const WORKLOADS: readonly WorkloadSpec[] = [
  {
    name: "micro",
    title: "tiny hot function (16 calls of a 2-line clamp per op)",
    realistic: false,
    async: false,
    call: {
      file: "bench/micro.ts",
      target: "bench/micro.ts:clamp",
      bodyAnchor: "export function clamp(x: number, lo: number, hi: number): number {",
      params: ["x", "lo", "hi"],
      logValue: "x",
      shim: { kind: "binding", name: "clamp" },
    },
    line: {
      target: "bench/micro.ts:clamp",
      file: "bench/micro.ts",
      lineAnchor: "return y > hi ? hi : y;",
      locals: ["x", "y"],
    },
    hot: [
      { label: "op", file: "bench/micro.ts", exportName: "op", v8Name: "op" },
      { label: "clamp", file: "bench/micro.ts", exportName: "clamp", v8Name: "clamp" },
    ],
    libraries: [],
    instructionOps: 100_000,
  },
  {
    name: "handler",
    title: "JSON request handler: parse, validate, transform, stringify",
    realistic: true,
    async: false,
    call: {
      file: "bench/handler.ts",
      target: "bench/handler.ts:handleRequest",
      bodyAnchor: "export function handleRequest(body: string): string {",
      params: ["body"],
      logValue: "body",
      shim: { kind: "binding", name: "handleRequest" },
    },
    line: {
      target: "bench/handler.ts:handleRequest",
      file: "bench/handler.ts",
      lineAnchor: "const total = subtotal - discount;",
      locals: ["subtotal", "discount"],
    },
    hot: [
      { label: "op", file: "bench/handler.ts", exportName: "op", v8Name: "op" },
      { label: "handleRequest", file: "bench/handler.ts", exportName: "handleRequest", v8Name: "handleRequest" },
    ],
    libraries: [],
    instructionOps: 4_000,
  },
  {
    name: "library",
    title: "rxjs 7 pipeline (from → map → filter → scan → subscribe, 32 values), rxjs built from its TS sources",
    realistic: true,
    async: false,
    call: {
      file: "rxjs/src/internal/Subscriber.ts",
      target: "src/internal/Subscriber.ts:Subscriber.next",
      bodyAnchor: "  next(value: T): void {\n    if (this.isStopped) {",
      params: ["value"],
      logValue: "value",
      shim: { kind: "method", cls: "Subscriber", name: "next" },
    },
    line: {
      target: "src/internal/observable/innerFrom.ts:fromArrayLike.Observable()",
      file: "rxjs/src/internal/observable/innerFrom.ts",
      lineAnchor: "subscriber.next(array[i]);",
      locals: ["subscriber", "i"],
    },
    hot: [
      { label: "op", file: "bench/library.ts", exportName: "op", v8Name: "op" },
      {
        label: "Subscriber.next",
        file: "rxjs/src/internal/Subscriber.ts",
        exportName: "Subscriber",
        method: "next",
        v8Name: "next",
      },
    ],
    libraries: ["rxjs"],
    instructionOps: 8_000,
  },
  {
    name: "async",
    title: "promise-heavy async (4 concurrent async calls × 3 awaits per op)",
    realistic: true,
    async: true,
    call: {
      file: "bench/async.ts",
      target: "bench/async.ts:loadItem",
      bodyAnchor: "export async function loadItem(id: number): Promise<number> {",
      params: ["id"],
      logValue: "id",
      shim: { kind: "binding", name: "loadItem" },
    },
    line: {
      target: "bench/async.ts:loadItem",
      file: "bench/async.ts",
      lineAnchor: "return rec.score + bonus;",
      locals: ["rec", "bonus"],
    },
    hot: [
      { label: "op", file: "bench/async.ts", exportName: "op", v8Name: "op" },
      { label: "loadItem", file: "bench/async.ts", exportName: "loadItem", v8Name: "loadItem" },
    ],
    libraries: [],
    instructionOps: 8_000,
  },
  {
    name: "classes",
    title: "class-heavy: value classes with getters and methods (16 bodies stepped per op)",
    realistic: true,
    async: false,
    call: {
      file: "bench/classes.ts",
      target: "bench/classes.ts:Vec.add",
      bodyAnchor: "  add(o: Vec): Vec {",
      params: ["o"],
      logValue: "o.x",
      shim: { kind: "method", cls: "Vec", name: "add" },
    },
    line: {
      target: "bench/classes.ts:Body.step",
      file: "bench/classes.ts",
      lineAnchor: "this.pos = next;",
      locals: ["dv", "next"],
    },
    hot: [
      { label: "op", file: "bench/classes.ts", exportName: "op", v8Name: "op" },
      { label: "Vec.add", file: "bench/classes.ts", exportName: "Vec", method: "add", v8Name: "add" },
      { label: "Body.step", file: "bench/classes.ts", exportName: "Body", method: "step", v8Name: "step" },
    ],
    libraries: [],
    instructionOps: 20_000,
  },
  {
    name: "recursive",
    title: "recursive function (255 calls over a 127-node tree per op)",
    realistic: true,
    async: false,
    call: {
      file: "bench/recursive.ts",
      target: "bench/recursive.ts:sumTree",
      bodyAnchor: "export function sumTree(node: TreeNode | null, depth: number): number {",
      params: ["node", "depth"],
      logValue: "depth",
      shim: { kind: "binding", name: "sumTree" },
    },
    line: {
      target: "bench/recursive.ts:sumTree",
      file: "bench/recursive.ts",
      lineAnchor: "return here + sumTree(node.left, depth + 1)",
      locals: ["here", "depth"],
    },
    hot: [
      { label: "op", file: "bench/recursive.ts", exportName: "op", v8Name: "op" },
      { label: "sumTree", file: "bench/recursive.ts", exportName: "sumTree", v8Name: "sumTree" },
    ],
    libraries: [],
    instructionOps: 8_000,
  },
  {
    name: "markdown",
    title: "@lezer/markdown parsing a 1 KB document into a syntax tree, the parser built from its TS sources",
    realistic: true,
    async: false,
    call: {
      file: "@lezer/markdown/src/markdown.ts",
      target: "src/markdown.ts:MarkdownParser.parseInline",
      bodyAnchor: "  parseInline(text: string, offset: number) {",
      params: ["text", "offset"],
      logValue: "offset",
      shim: { kind: "method", cls: "MarkdownParser", name: "parseInline" },
    },
    line: {
      target: "src/markdown.ts:MarkdownParser.parseInline",
      file: "@lezer/markdown/src/markdown.ts",
      lineAnchor: "    return cx.resolveMarkers(0)",
      locals: ["cx", "offset"],
    },
    hot: [
      { label: "op", file: "bench/markdown.ts", exportName: "op", v8Name: "op" },
      {
        label: "MarkdownParser.parseInline",
        file: "@lezer/markdown/src/markdown.ts",
        exportName: "MarkdownParser",
        method: "parseInline",
        v8Name: "parseInline",
      },
    ],
    libraries: ["@lezer/markdown"],
    // Not 300: after 300 warm-up ops V8 was still compiling (plain 1.34 M instructions an op,
    // 568,000 when warm) and the instrumented build more so, which read as 1.12× plain; with
    // 3,000 both are warm and it reads 1.002× (the phase takes ~100 s longer).
    instructionOps: 3_000,
  },
  {
    name: "lexer",
    title: "chevrotain Lexer tokenizing 1.4 KB of a JSON-like language, the lexer built from its TS sources",
    realistic: true,
    async: false,
    call: {
      file: "chevrotain/src/scan/lexer_public.ts",
      target: "src/scan/lexer_public.ts:Lexer.tokenize",
      bodyAnchor:
        "  public tokenize(\n    text: string,\n    initialMode: string = this.defaultMode,\n  ): ILexingResult {",
      params: ["text", "initialMode"],
      logValue: "initialMode",
      shim: { kind: "method", cls: "Lexer", name: "tokenize" },
    },
    line: {
      target: "src/scan/lexer_public.ts:Lexer.tokenize",
      file: "chevrotain/src/scan/lexer_public.ts",
      lineAnchor: "    return this.tokenizeInternal(text, initialMode);",
      locals: ["text", "initialMode"],
    },
    hot: [
      { label: "op", file: "bench/lexer.ts", exportName: "op", v8Name: "op" },
      {
        label: "Lexer.tokenize",
        file: "chevrotain/src/scan/lexer_public.ts",
        exportName: "Lexer",
        method: "tokenize",
        v8Name: "tokenize",
      },
    ],
    libraries: ["chevrotain"],
    instructionOps: 1_000,
  },
];

export function workloadByName(name: string): WorkloadSpec {
  const w = WORKLOADS.find((x) => x.name === name);
  if (w === undefined)
    throw new Error(`Unknown workload ${JSON.stringify(name)}; known: ${WORKLOADS.map((x) => x.name).join(", ")}`);
  return w;
}
