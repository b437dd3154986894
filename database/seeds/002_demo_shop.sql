-- Demo shop for `npm start` (runs once per database; fixed ids): Duka la Mama's storefront
-- (GET /functions/v1/shops/duka-la-mama, public), escrow optional, released 7 days after
-- delivery, with a few products (one with unlimited stock, one scarce, one hidden).
insert into public.shops (id, merchant_id, name, slug, description, currency, escrow_policy, auto_release_days) values
  ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-000000000003', 'Duka la Mama', 'duka-la-mama',
   'Groceries and household goods, delivered in Nairobi.', 'KES', 'optional', 7)
on conflict do nothing;

insert into public.products (id, shop_id, name, sku, description, price, stock, active) values
  ('00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-0000000000c1', 'Unga wa mahindi 2kg', 'UNGA-2KG',
   'Maize flour', 210.00, 120, true),
  ('00000000-0000-4000-8000-0000000000d2', '00000000-0000-4000-8000-0000000000c1', 'Sukari 1kg', 'SUKARI-1KG',
   'Sugar', 185.50, 80, true),
  ('00000000-0000-4000-8000-0000000000d3', '00000000-0000-4000-8000-0000000000c1', 'Delivery in Nairobi', 'DELIVERY-NBO',
   'Flat delivery fee (unlimited stock)', 150.00, null, true),
  ('00000000-0000-4000-8000-0000000000d4', '00000000-0000-4000-8000-0000000000c1', 'Solar lamp', 'SOLAR-LAMP',
   'Only a few left', 2500.00, 3, true),
  ('00000000-0000-4000-8000-0000000000d5', '00000000-0000-4000-8000-0000000000c1', 'Kerosene stove', 'STOVE-OLD',
   'No longer sold (inactive: only the merchant sees it)', 1800.00, 0, false)
on conflict do nothing;

-- Order and escrow fees (operators change these in billing_fee_catalog): a direct order
-- costs the merchant 1%, as a merchant payment does; an escrowed order nothing on the way in
-- (escrow funding is never priced) and 1.5% when the escrow is released to the merchant.
insert into public.billing_fee_catalog (transaction_type, currency, percentage_bps, fixed_amount, minimum_amount, maximum_amount, description)
select * from (values
  ('order_payment', 'KES', 100, 0, 0, null::numeric, 'Shop orders paid directly: 1%, borne by the merchant'),
  ('escrow_release', 'KES', 150, 0, 0, null::numeric, 'Goods escrow released to the merchant: 1.5%, borne by the merchant')
) as v(transaction_type, currency, percentage_bps, fixed_amount, minimum_amount, maximum_amount, description)
where not exists (select 1 from public.billing_fee_catalog c where c.transaction_type = v.transaction_type and c.currency = v.currency);
