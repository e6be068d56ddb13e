/**
 * Fidelity driver for rxjs: interprets JSON programs (sources, operator chains, subjects, marble
 * tests on the TestScheduler, promise conversions) against whichever rxjs build it is given, and
 * records one trace per case: every emission, error and completion, and every call of a user
 * callback, in order. See ../driver-common.ts for the command line.
 */
import { driverMain, isMain, type Serializer } from "../driver-common.js";

/** A user callback on numbers; throws a UserError when the (numeric) input equals `throwAt`. */
export interface FnSpec {
  k: "add" | "mul" | "mod" | "neg" | "sq";
  n: number;
  throwAt?: number;
}
export interface PredSpec {
  mod: number;
  rem: number;
  throwAt?: number;
}
export type Src =
  | { k: "of" | "array" | "iter" | "throw"; v: number[] }
  | { k: "range"; start: number; count: number }
  | { k: "empty" }
  | { k: "generate"; n: number }
  | { k: "merge" | "concat" | "zip" | "combineLatest" | "race" | "forkJoin" | "onErrorResumeNext"; a: Src; b: Src }
  | { k: "defer"; a: Src }
  | { k: "pipe"; a: Src; ops: Op[] };
export type Inner =
  | { k: "pair"; f: FnSpec }
  | { k: "range"; m: number }
  | { k: "throwAt"; at: number }
  | { k: "empty" };
export type Op =
  | { k: "map" | "scan" | "reduce" | "distinct" | "expand"; f: FnSpec }
  | {
      k: "filter" | "takeWhile" | "skipWhile" | "first" | "last" | "find" | "findIndex" | "every" | "single";
      p: PredSpec;
      inclusive?: boolean;
      dflt?: number | null;
    }
  | {
      k:
        | "take"
        | "skip"
        | "takeLast"
        | "skipLast"
        | "elementAt"
        | "retry"
        | "repeat"
        | "startWith"
        | "endWith"
        | "defaultIfEmpty";
      n: number;
    }
  | { k: "bufferCount"; n: number; every: number | null }
  | { k: "groupBy"; n: number }
  | { k: "mergeMap" | "concatMap" | "switchMap" | "exhaustMap"; inner: Inner }
  | { k: "catchError"; mode: "replace" | "rethrow" | "wrap" | "retryOnce" }
  | {
      k: "zipWith" | "mergeWith" | "concatWith" | "withLatestFrom" | "sequenceEqual" | "combineLatestWith" | "raceWith";
      s: Src;
    }
  | {
      k:
        | "tap"
        | "finalize"
        | "count"
        | "max"
        | "min"
        | "toArray"
        | "isEmpty"
        | "pairwise"
        | "distinctUntilChanged"
        | "materialize"
        | "dematerialize"
        | "ignoreElements"
        | "throwIfEmpty"
        | "share"
        | "shareReplay";
    };
export interface TimeOp {
  k: "debounceTime" | "throttleTime" | "auditTime" | "delay" | "bufferTime" | "timeout" | "sampleTime";
  n: number;
}
export type Case =
  | { t: "pipe"; src: Src; ops: Op[]; unsubAfter: number | null }
  | { t: "promise"; src: Src; ops: Op[]; which: "first" | "last" }
  | {
      t: "subject";
      kind: "Subject" | "BehaviorSubject" | "ReplaySubject" | "AsyncSubject";
      n: number;
      script: [string, number][];
    }
  | { t: "marble"; marble: string; ops: (Op | TimeOp)[] };

type Rx = Record<string, any>;

function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (Array.isArray(v)) return v.length;
  if (typeof v === "boolean") return v ? 1 : 0;
  return 0;
}

async function run(modules: Map<string, Record<string, unknown>>, inputs: Case[], ser: Serializer): Promise<unknown[]> {
  const rx: Rx = modules.get("src/index.js")!;
  const { TestScheduler } = modules.get("src/internal/testing/TestScheduler.js") as Rx;
  const results: unknown[] = [];
  let trace: unknown[] = [];
  rx["config"].onUnhandledError = (e: unknown) => trace.push(["unhandled", ser.error(e)]);

  const fn = (spec: FnSpec, where: string) =>
    function userFn(...args: unknown[]): number {
      trace.push([where, ...args.map((a) => ser.value(a))]);
      const x = num(args[0]);
      if (spec.throwAt !== undefined && x === spec.throwAt) throw ser.userError(`${where} at ${x}`);
      switch (spec.k) {
        case "add":
          return x + spec.n;
        case "mul":
          return x * spec.n;
        case "mod":
          return spec.n === 0 ? x : x % spec.n;
        case "neg":
          return -x;
        case "sq":
          return x * x;
      }
    };
  const acc = (spec: FnSpec, where: string) => {
    const f = fn(spec, where);
    return (a: unknown, v: unknown, i: number) => num(f(v, i)) + num(a);
  };
  const pred = (p: PredSpec, where: string) =>
    function userPred(v: unknown, i: number): boolean {
      trace.push([where, ser.value(v), i]);
      const x = num(v);
      if (p.throwAt !== undefined && x === p.throwAt) throw ser.userError(`${where} at ${x}`);
      return p.mod === 0 ? x === p.rem : ((x % p.mod) + p.mod) % p.mod === p.rem;
    };

  const source = (s: Src, where: string): any => {
    switch (s.k) {
      case "of":
        return rx["of"](...s.v);
      case "array":
        return rx["from"](s.v);
      case "iter":
        return rx["from"](
          (function* gen() {
            for (const v of s.v) {
              trace.push([`${where}.gen`, v]);
              yield v;
            }
          })(),
        );
      case "throw":
        return rx["concat"](
          rx["of"](...s.v),
          rx["throwError"](() => ser.userError(`${where} source error`)),
        );
      case "range":
        return rx["range"](s.start, s.count);
      case "empty":
        return rx["EMPTY"];
      case "generate":
        return rx["generate"]({ initialState: 0, condition: (x: number) => x < s.n, iterate: (x: number) => x + 1 });
      case "merge":
      case "concat":
      case "zip":
      case "combineLatest":
      case "race":
      case "forkJoin":
      case "onErrorResumeNext":
        return rx[s.k](source(s.a, `${where}.a`), source(s.b, `${where}.b`));
      case "defer":
        return rx["defer"](() => {
          trace.push([`${where}.defer`]);
          return source(s.a, `${where}.a`);
        });
      case "pipe":
        return applyOps(source(s.a, `${where}.a`), s.ops, `${where}.p`);
    }
  };

  const inner = (spec: Inner, where: string) => (v: unknown, i: number) => {
    trace.push([where, ser.value(v), i]);
    switch (spec.k) {
      case "pair":
        return rx["of"](v, fn(spec.f, `${where}.f`)(v));
      case "range":
        return rx["range"](0, Math.abs(num(v)) % (spec.m + 1));
      case "throwAt":
        return num(v) === spec.at ? rx["throwError"](() => ser.userError(`${where} inner at ${spec.at}`)) : rx["of"](v);
      case "empty":
        return rx["EMPTY"];
    }
  };

  const operator = (op: Op | TimeOp, where: string): any => {
    switch (op.k) {
      case "map":
        return rx["map"](fn(op.f, where));
      case "scan":
        return rx["scan"](acc(op.f, where), 0);
      case "reduce":
        return rx["reduce"](acc(op.f, where), 0);
      case "distinct":
        return rx["distinct"](fn(op.f, where));
      case "expand": {
        const f = fn(op.f, where);
        return rx["expand"]((v: unknown, i: number) =>
          i < 12 && Math.abs(num(v)) < 50 ? rx["of"](num(f(v)) + 1) : rx["EMPTY"],
        );
      }
      case "filter":
      case "takeWhile":
      case "skipWhile":
      case "find":
      case "findIndex":
      case "every":
        return op.k === "takeWhile"
          ? rx["takeWhile"](pred(op.p, where), op.inclusive ?? false)
          : rx[op.k](pred(op.p, where));
      case "first":
      case "last":
        return op.dflt === null || op.dflt === undefined
          ? rx[op.k](pred(op.p, where))
          : rx[op.k](pred(op.p, where), op.dflt);
      case "single":
        return rx["single"](pred(op.p, where));
      case "take":
      case "skip":
      case "takeLast":
      case "skipLast":
      case "retry":
      case "repeat":
      case "startWith":
      case "endWith":
      case "defaultIfEmpty":
        return rx[op.k](op.n);
      case "elementAt":
        return op.n % 2 === 0 ? rx["elementAt"](op.n) : rx["elementAt"](op.n, -1);
      case "bufferCount":
        return rx["bufferCount"](op.n, op.every ?? undefined);
      case "groupBy":
        return (o: any) =>
          o.pipe(
            rx["groupBy"]((v: unknown) => num(v) % op.n),
            rx["mergeMap"]((g: any) =>
              g.pipe(
                rx["toArray"](),
                rx["map"]((a: unknown[]) => [g.key, a]),
              ),
            ),
          );
      case "mergeMap":
      case "concatMap":
      case "switchMap":
      case "exhaustMap":
        return rx[op.k](inner(op.inner, where));
      case "catchError":
        return rx["catchError"]((e: unknown, caught: any) => {
          trace.push([where, ser.error(e)]);
          if (op.mode === "replace") return rx["of"](-1, -2);
          if (op.mode === "rethrow") throw e;
          if (op.mode === "wrap") throw new Error(`wrapped: ${(e as Error)?.message}`, { cause: e });
          return trace.filter((t) => (t as unknown[])[0] === where).length > 1 ? rx["of"](-3) : caught;
        });
      case "zipWith":
      case "mergeWith":
      case "concatWith":
      case "combineLatestWith":
      case "raceWith":
        return rx[op.k](source(op.s, `${where}.s`));
      case "withLatestFrom":
        return rx["withLatestFrom"](source(op.s, `${where}.s`));
      case "sequenceEqual":
        return rx["sequenceEqual"](source(op.s, `${where}.s`));
      case "tap":
        return rx["tap"]({
          next: (v: unknown) => trace.push([`${where}.next`, ser.value(v)]),
          error: (e: unknown) => trace.push([`${where}.error`, ser.error(e)]),
          complete: () => trace.push([`${where}.complete`]),
          subscribe: () => trace.push([`${where}.subscribe`]),
          unsubscribe: () => trace.push([`${where}.unsubscribe`]),
          finalize: () => trace.push([`${where}.finalize`]),
        });
      case "finalize":
        return rx["finalize"](() => trace.push([`${where}.finalize`]));
      case "count":
      case "max":
      case "min":
      case "toArray":
      case "isEmpty":
      case "pairwise":
      case "distinctUntilChanged":
      case "materialize":
      case "ignoreElements":
      case "throwIfEmpty":
      case "share":
      case "shareReplay":
        return op.k === "shareReplay" ? rx["shareReplay"](2) : rx[op.k]();
      case "dematerialize":
        return (o: any) => o.pipe(rx["materialize"](), rx["dematerialize"]());
      case "debounceTime":
      case "throttleTime":
      case "auditTime":
      case "delay":
      case "bufferTime":
      case "sampleTime":
        return rx[op.k](op.n);
      case "timeout":
        return rx["timeout"]({ each: op.n, with: () => rx["of"]("timed out") });
    }
  };

  const applyOps = (o: any, ops: (Op | TimeOp)[], where: string): any => {
    let out = o;
    ops.forEach((op, i) => {
      out = out.pipe(operator(op, `${where}${i}.${op.k}`));
    });
    return out;
  };

  const observer = (label = "") => ({
    next: (v: unknown) => trace.push([`${label}N`, ser.value(v)]),
    error: (e: unknown) => trace.push([`${label}E`, ser.error(e)]),
    complete: () => trace.push([`${label}C`]),
  });

  for (const c of inputs) {
    trace = [];
    try {
      switch (c.t) {
        case "pipe": {
          const o = applyOps(source(c.src, "s"), c.ops, "op");
          if (c.unsubAfter === null) {
            const sub = o.subscribe(observer());
            trace.push(["closed", sub.closed]);
          } else {
            let seen = 0;
            const sub = o.subscribe({
              next: (v: unknown) => {
                trace.push(["N", ser.value(v)]);
                if (++seen === c.unsubAfter) sub?.unsubscribe();
              },
              error: (e: unknown) => trace.push(["E", ser.error(e)]),
              complete: () => trace.push(["C"]),
            });
            sub.unsubscribe();
            trace.push(["closed", sub.closed]);
          }
          break;
        }
        case "promise": {
          const o = applyOps(source(c.src, "s"), c.ops, "op");
          try {
            const v = await (c.which === "first" ? rx["firstValueFrom"](o) : rx["lastValueFrom"](o));
            trace.push(["resolved", ser.value(v)]);
          } catch (e) {
            trace.push(["rejected", ser.error(e)]);
          }
          break;
        }
        case "subject": {
          const subject =
            c.kind === "BehaviorSubject"
              ? new rx["BehaviorSubject"](c.n)
              : c.kind === "ReplaySubject"
                ? new rx["ReplaySubject"](c.n)
                : new rx[c.kind]();
          const subs = new Map<number, any>();
          for (const [cmd, arg] of c.script) {
            if (cmd === "sub") subs.set(arg, subject.subscribe(observer(`s${arg}.`)));
            else if (cmd === "unsub") subs.get(arg)?.unsubscribe();
            else if (cmd === "next") subject.next(arg);
            else if (cmd === "error") subject.error(ser.userError(`subject error ${arg}`));
            else if (cmd === "complete") subject.complete();
            else if (cmd === "value" && c.kind === "BehaviorSubject") {
              try {
                trace.push(["value", ser.value(subject.getValue())]);
              } catch (e) {
                trace.push(["getValue threw", ser.error(e)]);
              }
            } else if (cmd === "observed") trace.push(["observed", subject.observed]);
          }
          break;
        }
        case "marble": {
          const scheduler = new TestScheduler((a: unknown, b: unknown) =>
            trace.push(["assert", ser.value(a), ser.value(b)]),
          );
          scheduler.run(({ cold }: { cold: (m: string, v: Record<string, number>) => any }) => {
            const values: Record<string, number> = {};
            for (const ch of c.marble) if (/[a-z]/.test(ch)) values[ch] = ch.charCodeAt(0) - 96;
            const o = applyOps(cold(c.marble, values), c.ops, "op");
            o.subscribe({
              next: (v: unknown) => trace.push(["N", scheduler.now(), ser.value(v)]),
              error: (e: unknown) => trace.push(["E", scheduler.now(), ser.error(e)]),
              complete: () => trace.push(["C", scheduler.now()]),
            });
          });
          break;
        }
      }
    } catch (e) {
      trace.push(["threw", ser.error(e)]);
    }
    results.push(trace);
  }
  return results;
}

if (isMain(import.meta.url)) await driverMain(run);
