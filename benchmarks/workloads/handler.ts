// A JSON request handler: parse the body, validate it field by field, compute totals and answer
// with a transformed JSON document. One call of `handleRequest` per operation.

interface Item {
  sku: string;
  qty: number;
  price: number;
}

interface Order {
  id: string;
  customer: { name: string; email: string };
  items: Item[];
  coupon: string | undefined;
}

class ValidationError extends Error {}

const BODIES: string[] = Array.from({ length: 8 }, (_, n) =>
  JSON.stringify({
    id: `order-${n}`,
    customer: { name: `Customer ${n}`, email: `c${n}@example.com` },
    items: Array.from({ length: 3 + (n % 4) }, (_, k) => ({ sku: `SKU-${n}-${k}`, qty: 1 + k, price: 9.5 + k * 3 })),
    coupon: n % 2 === 0 ? "SAVE10" : undefined,
  }),
);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function validateItem(value: unknown, index: number): Item {
  if (!isRecord(value)) throw new ValidationError(`items[${index}] must be an object`);
  const { sku, qty, price } = value;
  if (typeof sku !== "string" || sku.length === 0) throw new ValidationError(`items[${index}].sku`);
  if (typeof qty !== "number" || !Number.isInteger(qty) || qty <= 0) throw new ValidationError(`items[${index}].qty`);
  if (typeof price !== "number" || price < 0) throw new ValidationError(`items[${index}].price`);
  return { sku, qty, price };
}

function validateOrder(value: unknown): Order {
  if (!isRecord(value)) throw new ValidationError("body must be an object");
  const { id, customer, items, coupon } = value;
  if (typeof id !== "string") throw new ValidationError("id");
  if (!isRecord(customer) || typeof customer["name"] !== "string" || typeof customer["email"] !== "string") {
    throw new ValidationError("customer");
  }
  if (!Array.isArray(items) || items.length === 0) throw new ValidationError("items");
  return {
    id,
    customer: { name: customer["name"], email: customer["email"] },
    items: items.map(validateItem),
    coupon: typeof coupon === "string" ? coupon : undefined,
  };
}

export function handleRequest(body: string): string {
  const order = validateOrder(JSON.parse(body));
  let subtotal = 0;
  for (const item of order.items) subtotal += item.qty * item.price;
  const discount = order.coupon === "SAVE10" ? Math.round(subtotal * 10) / 100 : 0;
  const total = subtotal - discount;
  return JSON.stringify({
    id: order.id,
    customer: order.customer.name.toUpperCase(),
    lines: order.items.map((item) => ({ sku: item.sku.toLowerCase(), amount: item.qty * item.price })),
    total,
  });
}

export function op(i: number): number {
  return handleRequest(BODIES[i & 7]!).length;
}
