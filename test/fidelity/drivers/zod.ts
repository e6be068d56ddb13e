/**
 * Fidelity driver for zod (its shipped `src/`, both the v4 "classic" API and the bundled v3
 * implementation): builds each generated schema description with both APIs, parses the generated
 * inputs with safeParse, parse, safeParseAsync, formats errors, converts to JSON Schema (v4), and
 * records results, errors and every call of a user callback (refine, transform, preprocess), in order.
 */
import { driverMain, isMain, type Serializer } from "../driver-common.js";

export type StrCheck =
  | { c: "min" | "max" | "length"; n: number }
  | { c: "email" | "url" | "uuid" | "trim" | "toLowerCase" | "toUpperCase" | "datetime" | "ipv4" }
  | { c: "startsWith" | "endsWith" | "includes" | "regex"; s: string };
export type NumCheck =
  | { c: "min" | "max" | "gt" | "lt" | "multipleOf"; n: number }
  | { c: "int" | "positive" | "negative" | "nonnegative" | "finite" };
export type Schema =
  | { k: "string"; checks: StrCheck[] }
  | { k: "number"; checks: NumCheck[] }
  | {
      k:
        | "boolean"
        | "null"
        | "undefined"
        | "any"
        | "unknown"
        | "never"
        | "coerceNumber"
        | "coerceString"
        | "coerceBoolean"
        | "nan";
    }
  | { k: "literal"; v: string | number | boolean | null }
  | { k: "enum"; values: string[] }
  | { k: "array"; of: Schema; min: number | null; max: number | null; nonempty: boolean }
  | { k: "tuple"; items: Schema[]; rest: Schema | null }
  | { k: "object"; shape: [string, Schema][]; mode: "strip" | "strict" | "passthrough" | "catchall"; partial: boolean }
  | { k: "record"; value: Schema }
  | { k: "union" | "intersection"; a: Schema; b: Schema }
  | { k: "discriminated"; tag: string; options: [string, [string, Schema][]][] }
  | { k: "optional" | "nullable" | "nullish" | "lazy" | "readonly"; s: Schema }
  | { k: "default" | "catch"; s: Schema; v: number | string }
  | { k: "transform" | "preprocess"; s: Schema; f: "double" | "string" | "length" | "throw" }
  | { k: "refine" | "superRefine"; s: Schema; mod: number; throwAt: number | null }
  | { k: "pipe"; a: Schema; b: Schema };
export interface Case {
  schema: Schema;
  inputs: unknown[];
}

type Z = any;

/** JSON cannot carry undefined; the generators use this marker. */
export const UNDEFINED = "\u0000undefined";
const revive = (v: unknown): unknown => {
  if (v === UNDEFINED) return undefined;
  if (Array.isArray(v)) return v.map(revive);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
  return v;
};

async function run(modules: Map<string, Record<string, unknown>>, inputs: Case[], ser: Serializer): Promise<unknown[]> {
  const z4: Z = modules.get("src/index.js")!["z"];
  const z3: Z = modules.get("src/v3/index.js")!["z"];
  let trace: unknown[] = [];

  const size = (v: unknown): number =>
    typeof v === "string" || Array.isArray(v) ? v.length : typeof v === "number" ? v : 0;

  const make = (z: Z, api: string, s: Schema, where: string): any => {
    switch (s.k) {
      case "string": {
        let out = z.string();
        for (const c of s.checks) {
          if ("n" in c) out = out[c.c](c.n);
          else if ("s" in c)
            out = c.c === "regex" ? out.regex(new RegExp(c.s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))) : out[c.c](c.s);
          else if (c.c === "ipv4") out = api === "v3" ? out.ip({ version: "v4" }) : out.ipv4();
          else out = out[c.c]();
        }
        return out;
      }
      case "number": {
        let out = z.number();
        for (const c of s.checks) out = "n" in c ? out[c.c](c.n) : out[c.c]();
        return out;
      }
      case "boolean":
      case "null":
      case "undefined":
      case "any":
      case "unknown":
      case "never":
      case "nan":
        return z[s.k]();
      case "coerceNumber":
        return z.coerce.number();
      case "coerceString":
        return z.coerce.string();
      case "coerceBoolean":
        return z.coerce.boolean();
      case "literal":
        return z.literal(s.v);
      case "enum":
        return z.enum(s.values);
      case "array": {
        let out = z.array(make(z, api, s.of, `${where}.of`));
        if (s.min !== null) out = out.min(s.min);
        if (s.max !== null) out = out.max(s.max);
        if (s.nonempty) out = out.nonempty();
        return out;
      }
      case "tuple": {
        const items = s.items.map((x, i) => make(z, api, x, `${where}.${i}`));
        const t = z.tuple(items);
        return s.rest === null ? t : t.rest(make(z, api, s.rest, `${where}.rest`));
      }
      case "object": {
        const shape = Object.fromEntries(s.shape.map(([key, x]) => [key, make(z, api, x, `${where}.${key}`)]));
        let out = z.object(shape);
        if (s.partial) out = out.partial();
        if (s.mode === "strict") out = out.strict();
        else if (s.mode === "passthrough") out = out.passthrough();
        else if (s.mode === "catchall") out = out.catchall(z.number());
        return out;
      }
      case "record":
        return z.record(z.string(), make(z, api, s.value, `${where}.value`));
      case "union":
        return z.union([make(z, api, s.a, `${where}.a`), make(z, api, s.b, `${where}.b`)]);
      case "intersection":
        return z.intersection(make(z, api, s.a, `${where}.a`), make(z, api, s.b, `${where}.b`));
      case "discriminated":
        return z.discriminatedUnion(
          s.tag,
          s.options.map(([tag, shape]) =>
            z.object({
              [s.tag]: z.literal(tag),
              ...Object.fromEntries(shape.map(([key, x]) => [key, make(z, api, x, `${where}.${tag}.${key}`)])),
            }),
          ),
        );
      case "optional":
      case "nullable":
      case "nullish":
      case "readonly":
        return make(z, api, s.s, `${where}.s`)[s.k]();
      case "lazy": {
        const inner = make(z, api, s.s, `${where}.s`);
        return z.lazy(() => {
          trace.push([`${where}.lazy`]);
          return inner;
        });
      }
      case "default":
      case "catch":
        return make(z, api, s.s, `${where}.s`)[s.k](s.v);
      case "transform": {
        const f = (v: unknown): unknown => {
          trace.push([`${where}.transform`, ser.value(v)]);
          if (s.f === "throw") throw ser.userError(`${where} transform`);
          return s.f === "double" ? size(v) * 2 : s.f === "string" ? String(v) : size(v);
        };
        return make(z, api, s.s, `${where}.s`).transform(f);
      }
      case "preprocess":
        return z.preprocess(
          (v: unknown) => {
            trace.push([`${where}.preprocess`, ser.value(v)]);
            if (s.f === "throw") throw ser.userError(`${where} preprocess`);
            return s.f === "double"
              ? typeof v === "number"
                ? v * 2
                : v
              : s.f === "string"
                ? v === undefined
                  ? v
                  : String(v)
                : v;
          },
          make(z, api, s.s, `${where}.s`),
        );
      case "refine": {
        return make(z, api, s.s, `${where}.s`).refine(
          (v: unknown) => {
            trace.push([`${where}.refine`, ser.value(v)]);
            if (s.throwAt !== null && size(v) === s.throwAt) throw ser.userError(`${where} refine`);
            return s.mod === 0 || size(v) % s.mod === 0;
          },
          { message: `not a multiple of ${s.mod}` },
        );
      }
      case "superRefine":
        return make(z, api, s.s, `${where}.s`).superRefine((v: unknown, ctx: any) => {
          trace.push([`${where}.superRefine`, ser.value(v)]);
          if (s.throwAt !== null && size(v) === s.throwAt) throw ser.userError(`${where} superRefine`);
          if (s.mod !== 0 && size(v) % s.mod !== 0)
            ctx.addIssue({ code: "custom", message: `size ${size(v)} % ${s.mod}`, path: ["x"] });
        });
      case "pipe":
        return make(z, api, s.a, `${where}.a`).pipe(make(z, api, s.b, `${where}.b`));
    }
  };

  const results: unknown[] = [];
  for (const c of inputs) {
    trace = [];
    for (const [api, z] of [
      ["v4", z4],
      ["v3", z3],
    ] as const) {
      let schema: any;
      try {
        schema = make(z, api, c.schema, api);
      } catch (e) {
        trace.push([api, "build threw", ser.error(e)]);
        continue;
      }
      if (api === "v4") {
        try {
          trace.push([api, "jsonSchema", ser.value(z.toJSONSchema(schema, { unrepresentable: "any" }))]);
        } catch (e) {
          trace.push([api, "jsonSchema threw", ser.error(e)]);
        }
      }
      for (const raw of c.inputs) {
        const input = revive(raw);
        try {
          const r = schema.safeParse(input);
          trace.push([api, "safeParse", r.success, r.success ? ser.value(r.data) : ser.value(r.error.issues)]);
          if (!r.success) {
            trace.push([api, "error", ser.error(r.error)]);
            trace.push([api, "flatten", ser.value(api === "v3" ? r.error.flatten() : z.flattenError(r.error))]);
            if (api === "v4") trace.push([api, "pretty", z.prettifyError(r.error), ser.value(z.treeifyError(r.error))]);
            else trace.push([api, "format", ser.value(r.error.format())]);
          }
        } catch (e) {
          trace.push([api, "safeParse threw", ser.error(e)]);
        }
        try {
          trace.push([api, "parse", ser.value(schema.parse(input))]);
        } catch (e) {
          trace.push([api, "parse threw", ser.error(e)]);
        }
        try {
          const r = await schema.safeParseAsync(input);
          trace.push([api, "async", r.success, r.success ? ser.value(r.data) : ser.value(r.error.issues)]);
        } catch (e) {
          trace.push([api, "async threw", ser.error(e)]);
        }
      }
    }
    results.push(trace);
  }
  return results;
}

if (isMain(import.meta.url)) await driverMain(run);
