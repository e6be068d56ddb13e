import { Cart } from "./cart.js";

export interface Order {
  id: number;
  total: number;
}

let nextId = 1;

/** Prices an order asynchronously, as a real service would after a database round trip. */
export async function checkout(skus: string[], discountPercent: number): Promise<Order> {
  const cart = new Cart();
  for (const sku of skus) {
    cart.add(sku, priceOf(sku));
  }
  await new Promise((resolve) => setImmediate(resolve));
  return { id: nextId++, total: cart.total(discountPercent) };
}

export const priceOf = (sku: string): number => 1 + ((sku.length * 7) % 20);
