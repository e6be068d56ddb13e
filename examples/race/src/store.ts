/** A stock store with the latency of a real database: every read and write crosses an await. */
export class StockStore {
  private readonly rows = new Map<string, number>();

  constructor(initial: Record<string, number>) {
    for (const [sku, qty] of Object.entries(initial)) this.rows.set(sku, qty);
  }

  async read(sku: string): Promise<number> {
    await new Promise((r) => setImmediate(r));
    return this.rows.get(sku) ?? 0;
  }

  async write(sku: string, qty: number): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.rows.set(sku, qty);
  }
}
