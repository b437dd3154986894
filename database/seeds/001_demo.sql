-- Demo data for `npm start` (runs once per database; fixed ids).
-- Everyone's password is: hazina-demo-2026
--   wanjiku@example.com  customer, KES wallet with KES 5,000 topped up from M-Pesa
--   otieno@example.com   customer, empty KES wallet
--   duka@example.com     merchant (Duka la Mama, application approved by ops), KES wallet that pools credits
--   ops@example.com      admin (can call /functions/v1/ops)

insert into public.auth_users (id, email, name, phone, role, email_verified_at, password_hash) values
  ('00000000-0000-4000-8000-000000000001', 'wanjiku@example.com', 'Wanjiku Kamau', '+254700000001', 'customer', now(),
   '$argon2id$v=19$m=19456,t=2,p=1$bWnZ36H+0nMOUqAaNVasoA$GQ83N4kZZVzI3LBUTFEGQgLVk0Rq/nbUBJBxbNW6RFA'),
  ('00000000-0000-4000-8000-000000000002', 'otieno@example.com', 'Otieno Ouma', '+254700000002', 'customer', now(),
   '$argon2id$v=19$m=19456,t=2,p=1$bWnZ36H+0nMOUqAaNVasoA$GQ83N4kZZVzI3LBUTFEGQgLVk0Rq/nbUBJBxbNW6RFA'),
  ('00000000-0000-4000-8000-000000000003', 'duka@example.com', 'Duka la Mama', '+254700000003', 'merchant', now(),
   '$argon2id$v=19$m=19456,t=2,p=1$bWnZ36H+0nMOUqAaNVasoA$GQ83N4kZZVzI3LBUTFEGQgLVk0Rq/nbUBJBxbNW6RFA'),
  ('00000000-0000-4000-8000-000000000004', 'ops@example.com', 'Hazina Ops', null, 'admin', now(),
   '$argon2id$v=19$m=19456,t=2,p=1$bWnZ36H+0nMOUqAaNVasoA$GQ83N4kZZVzI3LBUTFEGQgLVk0Rq/nbUBJBxbNW6RFA')
on conflict do nothing;

-- Duka is a merchant because ops approved its application, as every merchant is.
insert into public.merchant_applications (user_id, business_name, status, decided_by, decided_at, decision_reason)
select '00000000-0000-4000-8000-000000000003', 'Duka la Mama', 'approved', '00000000-0000-4000-8000-000000000004', now(),
       'Demo merchant'
 where not exists (select 1 from public.merchant_applications where user_id = '00000000-0000-4000-8000-000000000003');

insert into public.auth_accounts (user_id, provider, provider_account_id)
select id, 'credentials', id::text from public.auth_users
 where id in ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
              '00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000004')
on conflict do nothing;

insert into public.wallets (id, user_id, kind, currency, credit_buckets) values
  ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'user', 'KES', 1),
  ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-000000000002', 'user', 'KES', 1),
  ('00000000-0000-4000-8000-0000000000a3', '00000000-0000-4000-8000-000000000003', 'merchant', 'KES', 8)
on conflict do nothing;
insert into public.wallet_balance_buckets (wallet_id, bucket)
select '00000000-0000-4000-8000-0000000000a3', b from generate_series(0, 7) b
on conflict do nothing;

-- Default KES fees (operators change these in billing_fee_catalog):
--   P2P 0.5% (min 1.00, max 50.00) paid by the sender; merchant payments 1% paid by the
--   merchant; withdrawals a flat 30.00; top-ups free.
insert into public.billing_fee_catalog (transaction_type, currency, percentage_bps, fixed_amount, minimum_amount, maximum_amount, description)
select * from (values
  ('p2p_transfer', 'KES', 50, 0, 1.00, 50.00::numeric, 'P2P: 0.5%, min 1, max 50'),
  ('merchant_payment', 'KES', 100, 0, 0, null, 'Merchant payments: 1%, borne by the merchant'),
  ('withdrawal', 'KES', 0, 30.00, 0, null, 'Withdrawals: flat 30')
) as v(transaction_type, currency, percentage_bps, fixed_amount, minimum_amount, maximum_amount, description)
where not exists (select 1 from public.billing_fee_catalog c where c.transaction_type = v.transaction_type and c.currency = v.currency);

-- Wanjiku's first top-up, posted through the ledger like any completed M-Pesa payment.
select hazina.post_transaction('seed:wanjiku-first-topup', 'funding', jsonb_build_array(
  jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing', 'KES'), 'direction', 'debit', 'amount', '5000.00'),
  jsonb_build_object('wallet_id', '00000000-0000-4000-8000-0000000000a1', 'direction', 'credit', 'amount', '5000.00')),
  'Demo top-up from M-Pesa');
