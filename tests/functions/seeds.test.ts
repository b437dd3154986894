// The demo seed loads into a migrated database and leaves the books balanced.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { admin } from "../helpers/db.ts";

describe("seeds", () => {
  it("load cleanly (in a transaction we roll back) and keep the books balanced", async () => {
    const dir = path.resolve(import.meta.dirname, "../../database/seeds");
    await admin.begin(async (tx) => {
      for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
        await tx.unsafe(readFileSync(path.join(dir, file), "utf8"));
      }
      const [wallet] = await tx`select balance::text from public.wallet_balances where wallet_id = '00000000-0000-4000-8000-0000000000a1'`;
      expect(wallet.balance).toBe("5000.0000");
      const [shop] = await tx`select s.slug, count(p.*)::int as products from public.shops s join public.products p on p.shop_id = s.id
                               where s.id = '00000000-0000-4000-8000-0000000000c1' group by s.slug`;
      expect(shop).toEqual({ slug: "duka-la-mama", products: 5 });
      const [invoice] = await tx`select number, status, total::text from public.invoices where client_ref = 'seed:demo-invoice-1'`;
      expect(invoice).toEqual({ number: "INV-000001", status: "open", total: "2108.9500" });
      expect(await tx`select * from hazina.reconcile()`).toEqual([]);
      // The demo QR code npm start prints resolves for anyone, as Duka la Mama's till.
      const [qr] = await tx`select public.qr_code_resolve('dukalamamademotillqrcodeab') as code`;
      expect(qr.code).toMatchObject({ status: "active", merchant_name: "Duka la Mama", kind: "static", amount: null });
      await tx`select set_config('hazina.rollback', 'yes', true)`;
      throw new Error("rollback seeds");
    }).catch((err) => {
      if ((err as Error).message !== "rollback seeds") throw err;
    });
  });
});
