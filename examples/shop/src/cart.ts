export interface LineItem {
  sku: string;
  price: number;
  quantity: number;
}

/** A shopping cart; the demo probes its methods while a load runs. */
export class Cart {
  readonly items: LineItem[] = [];

  add(sku: string, price: number, quantity = 1): this {
    if (quantity <= 0) throw new RangeError(`quantity must be positive, got ${quantity}`);
    this.items.push({ sku, price, quantity });
    return this;
  }

  total(discountPercent: number): number {
    let sum = 0;
    for (const item of this.items) {
      sum += item.price * item.quantity;
    }
    const discount = (sum * discountPercent) / 100;
    return Math.round((sum - discount) * 100) / 100;
  }
}
