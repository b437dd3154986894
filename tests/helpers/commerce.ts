// The commerce suites' shop fixture: a merchant's shop with one product (a solar lamp), made
// as the merchant through the public functions (as PostgREST would), and the shop's
// installment policy.
import { asUser } from "./db.ts";

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
