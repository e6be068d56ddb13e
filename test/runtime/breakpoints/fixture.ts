/** The instrumented module the breakpoint tests break on (one copy, loaded once per test file). */
import { loadInstrumented, type InstrumentedModule } from "../../helpers/instrumented.js";

export const SOURCE = `
export class S3Archive {
  log: string[] = [];
  async unarchive(key: string) {
    this.log.push("start " + key);
    await Promise.resolve();
    this.log.push("end " + key);
    return "restored " + key;
  }
  async broken(n: number) {
    this.log.push("broken " + n);
    throw new Error("broken " + n);
  }
  static async open(name: string) {
    return new S3Archive();
  }
  get size() {
    return this.log.length;
  }
}
export async function step(i: number) {
  const doubled = i * 2;
  await Promise.resolve();
  return doubled;
}
export async function loop(n: number) {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await step(i));
  return out;
}
export function syncAdd(a: number, b: number) {
  return a + b;
}
export function syncFail(a: number) {
  throw new Error("sync " + a);
}
export async function outer(x: number) {
  return await inner(x + 1);
}
export async function inner(y: number) {
  return y * 10;
}
export async function fact(n: number): Promise<number> {
  if (n <= 1) return 1;
  return n * (await fact(n - 1));
}
export async function later(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
}
export async function passThrough(p: Promise<number>) {
  return p;
}
export const api = {
  async fetch(id: number) {
    return { id };
  },
};
`;

export interface Fixture {
  S3Archive: {
    new (): {
      log: string[];
      unarchive(key: string): Promise<string>;
      broken(n: number): Promise<never>;
      readonly size: number;
    };
    open(name: string): Promise<unknown>;
  };
  step(i: number): Promise<number>;
  loop(n: number): Promise<number[]>;
  syncAdd(a: number, b: number): number;
  syncFail(a: number): never;
  outer(x: number): Promise<number>;
  inner(y: number): Promise<number>;
  fact(n: number): Promise<number>;
  later(ms: number): Promise<number>;
  passThrough(p: Promise<number>): Promise<number>;
  api: { fetch(id: number): Promise<{ id: number }> };
}

export function loadFixture(modulePath = "src/s3.ts"): Promise<InstrumentedModule<Fixture>> {
  return loadInstrumented<Fixture>(SOURCE, modulePath);
}
