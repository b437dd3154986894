-- Demo installment policy for `npm start` (runs once per database): Duka la Mama sells on
-- lay-by: up to 6 payments, daily, weekly or monthly, a 10% minimum deposit, 3 days' grace
-- before the catalog's late fee, a 10% cancellation fee (the platform caps it at 15%), and a
-- plan defaults after 2 missed payments. Try it on the solar lamp (docs/installments.md).
insert into public.shop_installment_settings (shop_id, allowed, max_count, min_deposit_bps, grace_days, late_fee_enabled,
                                              cancellation_fee_bps, missed_payments_to_default)
select s.id, true, 6, 1000, 3, true, 1000, 2
  from public.shops s where s.id = '00000000-0000-4000-8000-0000000000c1'
on conflict do nothing;
