/**
 * Reserving stock. `reserve()` has a check-then-act race: two concurrent reservations of the last
 * item can both read 1 before either writes 0, and both succeed (an oversell). It passes every
 * ordinary test and fails a few times a day in production. `reserveLocked()` serialises the
 * reservations of one SKU.
 */
import type { StockStore } from "./store.js";

export class OutOfStockError extends Error {
  constructor(sku: string) {
    super(`${sku} is out of stock`);
  }
}

export class Inventory {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly store: StockStore) {}

  async reserve(sku: string, qty: number): Promise<number> {
    const available = await this.store.read(sku);
    if (available < qty) throw new OutOfStockError(sku);
    await this.store.write(sku, available - qty);
    return available - qty;
  }

  async reserveLocked(sku: string, qty: number): Promise<number> {
    const previous = this.locks.get(sku) ?? Promise.resolve();
    const mine = previous.then(
      () => this.reserve(sku, qty),
      () => this.reserve(sku, qty),
    );
    this.locks.set(
      sku,
      mine.catch(() => undefined),
    );
    return mine;
  }
}
