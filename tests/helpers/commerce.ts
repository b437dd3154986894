// The commerce suites' shop fixture: a merchant's shop with one product (a solar lamp), made
// as the merchant through the public functions (as PostgREST would), and the shop's
// installment policy.
import { asUser } from "./db.ts";
import type { Json } from "./request.ts";

/** A shop named `name` (slug `<slug>-<8 random hex>`) with one product: 'Solar lamp', SKU LAMP-1,
 *  1000.01, stock 100. */
export async function shopWithLamp(merchantId: string, name: string, slug: string): Promise<{ shopId: string; lampId: string }> {
  const shop = await asUser(merchantId, (tx) =>
    tx`select public.shop_create(${name}, ${`${slug}-${crypto.randomUUID().slice(0, 8)}`}) as s`);
  const shopId: string = shop[0].s.id;
  const lamp = await asUser(merchantId, (tx) => tx`select public.product_create(${shopId}, 'Solar lamp', 'LAMP-1', 1000.01, 100) as p`);
  return { shopId, lampId: lamp[0].p.id };
}

/** The installment policy the plan suites use: up to 6 payments, 2 days' grace, a 10% cancellation
 *  fee, default after 2 missed payments. */
export const INSTALLMENT_POLICY = { allowed: true, max_count: 6, grace_days: 2, cancellation_fee_bps: 1000, missed_payments_to_default: 2 };

/** The merchant allows installment plans in its shop, with INSTALLMENT_POLICY. */
export async function allowInstallments(merchantId: string, shopId: string): Promise<void> {
  await asUser(merchantId, (tx) => tx`select public.shop_installment_settings_set(${shopId}, ${tx.json(INSTALLMENT_POLICY)}::jsonb)`);
}

/** The weekly plan most suites place: a deposit of 100.00, then 2 payments a week apart. */
export const TWO_WEEKLY = { deposit: "100.00", count: 2, interval: "week" };

/** The customer places an order of `quantity` of the product with an installment plan on
 *  `terms` (public.order_create_installments, as the customer; `escrow` null: the shop's
 *  default). The placed order's JSON, with its `installment` and `payment_intent`. */
export async function placePlanOrder(
  customerId: string,
  shopId: string,
  productId: string,
  { escrow = null, terms = TWO_WEEKLY, quantity = 1, ref = `order-${crypto.randomUUID()}` }: {
    escrow?: boolean | null;
    terms?: Record<string, unknown>;
    quantity?: number;
    ref?: string;
  } = {},
): Promise<Json> {
  return await asUser(customerId, async (tx) => {
    const [row] = await tx`select public.order_create_installments(${shopId}, ${
      tx.json([{ product_id: productId, quantity }])
    }::jsonb, ${escrow}, null, ${ref}, ${tx.json(terms as never)}::jsonb) as placed`;
    return row.placed;
  });
}
