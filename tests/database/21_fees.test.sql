-- Fees: hazina.fee_quote / public.quote_fee (rounding, fixed part, clamping, precedence,
-- windows), fees charged by hazina.transfer (revenue wallet + one billing_ledger row),
-- receiver-paid fees, and who may read or write the fee tables.
begin;
select plan(86);

\ir helpers.psql

select pg_temp.user_create('customer', '21000000-0000-4000-8000-00000000000a'),  -- alice
       pg_temp.user_create('customer', '21000000-0000-4000-8000-00000000000b'),  -- bob
       pg_temp.user_create('merchant', '21000000-0000-4000-8000-00000000000c'),  -- duka: negotiated rate
       pg_temp.user_create('merchant', '21000000-0000-4000-8000-00000000000d'),  -- soko: only an expired and a future waiver
       pg_temp.user_create('merchant', '21000000-0000-4000-8000-00000000000e'),  -- bure: fees waived
       pg_temp.user_create('merchant', '21000000-0000-4000-8000-00000000000f');  -- tiny: flat 10.00 per payment

-- A type a later capability will add with its own migration's row: here it is priced like
-- any other type (the catalog takes only known types: public.transaction_types).
-- escrow_release is real now (*_shops_orders.sql), receiver-paid like the stand-in was.
insert into public.transaction_types (code, fee_payer, description) values
  ('installment', 'receiver', 'stand-in for the installments capability');

-- The catalog (operators write it as the table owner / service_role).
insert into public.billing_fee_catalog
  (transaction_type, currency, percentage_bps, fixed_amount, minimum_amount, maximum_amount, active_from, active_to) values
  ('p2p_transfer',     'KES',  50,  0,  1,  100, now() - interval '1 day', null),
  ('installment',      'KES',  50,  0,  0, null, now() - interval '1 day', null),
  ('p2p_transfer',     'UGX', 150,  0,  0, null, now() - interval '1 day', null),
  ('withdrawal',       'KES', 100, 25, 30,  150, now() - interval '1 day', null),
  ('merchant_payment', 'KES', 150,  0,  0, null, now() - interval '1 day', null),
  ('escrow_release',   'KES', 200,  0,  0, null, now() - interval '10 days', now() - interval '5 days');
select id as cat_p2p from public.billing_fee_catalog where transaction_type = 'p2p_transfer' and currency = 'KES' \gset
select id as cat_p2p_ugx from public.billing_fee_catalog where transaction_type = 'p2p_transfer' and currency = 'UGX' \gset
select id as cat_merchant from public.billing_fee_catalog where transaction_type = 'merchant_payment' \gset

-- Catalog windows: adjacent windows are fine, overlapping ones are not.
select lives_ok($$insert into public.billing_fee_catalog
    (transaction_type, currency, percentage_bps, active_from, active_to)
  values ('escrow_release', 'KES', 100, now() - interval '5 days', null)$$,
  'a catalog entry may start exactly where the previous one ended');
select id as cat_escrow_now from public.billing_fee_catalog
 where transaction_type = 'escrow_release' and active_to is null \gset
select throws_ok($$insert into public.billing_fee_catalog (transaction_type, currency, percentage_bps, active_from)
  values ('p2p_transfer', 'KES', 10, now() + interval '1 year')$$,
  '23P01', null, 'a catalog entry cannot overlap an open-ended one of the same type and currency');
select throws_ok($$insert into public.billing_fee_catalog (transaction_type, currency, percentage_bps, active_from, active_to)
  values ('escrow_release', 'KES', 10, now() - interval '6 days', now() - interval '4 days')$$,
  '23P01', null, 'a catalog entry cannot overlap a closed window either');
select lives_ok($$insert into public.billing_fee_catalog (transaction_type, currency, percentage_bps, active_from)
  values ('p2p_transfer', 'TZS', 10, now() + interval '1 day')$$,
  'the same type in another currency is a separate window (starts tomorrow)');

-- Merchant overrides.
insert into public.merchant_fee_profiles
  (merchant_id, transaction_type, currency, waived, percentage_bps, fixed_amount, active_from, active_to) values
  ('21000000-0000-4000-8000-00000000000c', 'merchant_payment', 'KES', false, 100,  0, now() - interval '1 day', null),
  ('21000000-0000-4000-8000-00000000000d', 'merchant_payment', 'KES', true,    0,  0, now() - interval '30 days', now() - interval '1 day'),
  ('21000000-0000-4000-8000-00000000000d', 'merchant_payment', 'KES', true,    0,  0, now() + interval '1 day', null),
  ('21000000-0000-4000-8000-00000000000e', 'merchant_payment', 'KES', true,    0,  0, now() - interval '1 day', null),
  ('21000000-0000-4000-8000-00000000000f', 'merchant_payment', 'KES', false,   0, 10, now() - interval '1 day', null);
select id as prof_duka from public.merchant_fee_profiles where merchant_id = '21000000-0000-4000-8000-00000000000c' \gset
select id as prof_bure from public.merchant_fee_profiles where merchant_id = '21000000-0000-4000-8000-00000000000e' \gset
select throws_ok($$insert into public.merchant_fee_profiles (merchant_id, transaction_type, currency, percentage_bps, active_from)
  values ('21000000-0000-4000-8000-00000000000c', 'merchant_payment', 'KES', 50, now() + interval '1 month')$$,
  '23P01', null, 'a merchant''s overrides of one type cannot overlap either');

-- Rounding: fee = fixed + amount × bps / 10 000, half away from zero to the minor unit.
select is((select fee from hazina.fee_quote('installment', 101.00, 'KES')), 0.51::numeric,
  '0.5% of 101.00 = 0.505 rounds up to 0.51');
select is((select fee from hazina.fee_quote('installment', 100.90, 'KES')), 0.50::numeric,
  '0.5% of 100.90 = 0.5045 rounds down to 0.50 (rounded once, not digit by digit)');
select is((select fee from hazina.fee_quote('installment', 1.00, 'KES')), 0.01::numeric,
  '0.5% of 1.00 = 0.005 rounds half up to 0.01');
select is((select fee from hazina.fee_quote('installment', 0.99, 'KES')), 0.00::numeric,
  '0.5% of 0.99 = 0.00495 rounds to 0.00');
select is((select fee from hazina.fee_quote('installment', 101.00, 'KES'))::text, '0.51',
  'a KES fee carries exactly 2 decimals');
select is((select fee from hazina.fee_quote('p2p_transfer', 1100, 'UGX')), 17::numeric,
  'UGX has no minor unit: 1.5% of 1100 = 16.5 rounds half up to 17');
select is((select fee from hazina.fee_quote('p2p_transfer', 1030, 'UGX')), 15::numeric,
  'UGX: 1.5% of 1030 = 15.45 rounds to 15');
select is((select fee from hazina.fee_quote('p2p_transfer', 1030, 'UGX'))::text, '15',
  'a UGX fee is a whole number');
select is((select rule_id from hazina.fee_quote('p2p_transfer', 1030, 'UGX')), :'cat_p2p_ugx'::uuid,
  'the entry of the requested currency is used');

-- Fixed part and clamping.
select is((select fee from hazina.fee_quote('withdrawal', 1000, 'KES')), 35.00::numeric,
  'fixed part is added: 25.00 + 1% of 1000 = 35.00');
select is((select fee from hazina.fee_quote('withdrawal', 100, 'KES')), 30.00::numeric,
  '25.00 + 1.00 = 26.00 is clamped up to the 30.00 minimum');
select is((select fee from hazina.fee_quote('withdrawal', 20000, 'KES')), 150.00::numeric,
  '25.00 + 200.00 = 225.00 is clamped down to the 150.00 maximum');
select is((select fee from hazina.fee_quote('p2p_transfer', 100, 'KES')), 1.00::numeric,
  'p2p: 0.50 is clamped up to the 1.00 minimum');
select is((select fee from hazina.fee_quote('p2p_transfer', 50000, 'KES')), 100.00::numeric,
  'p2p: 250.00 is clamped down to the 100.00 maximum');
select is((select fee from hazina.fee_quote('p2p_transfer', 1000, 'KES')), 5.00::numeric,
  'p2p: between the bounds the percentage applies (0.5% of 1000 = 5.00)');
select is((select row(rule_source, rule_id)::text from hazina.fee_quote('p2p_transfer', 1000, 'KES')),
  row('catalog', :'cat_p2p'::uuid)::text, 'the quote names the catalog entry it used');

-- No entry, unknown currency, windows.
select is((select row(fee, rule_source, rule_id)::text from hazina.fee_quote('funding', 1000, 'KES')),
  row(0, 'none', null::uuid)::text, 'no catalog entry: fee 0, rule none');
select is((select row(fee, rule_source)::text from hazina.fee_quote('p2p_transfer', 1000, 'TZS')),
  row(0, 'none')::text, 'an entry that starts tomorrow does not apply today');
select throws_ok($$select * from hazina.fee_quote('p2p_transfer', 1000, 'XXX')$$,
  'P0001', 'currency_not_supported', 'an unknown currency is refused');
select is((select row(fee, rule_id)::text from hazina.fee_quote('escrow_release', 200, 'KES')),
  row(2.00, :'cat_escrow_now'::uuid)::text, 'an expired catalog entry is ignored; the current one (1%) applies, not the old 2%');

-- Merchant override precedence.
select is((select row(fee, rule_source, rule_id)::text
             from hazina.fee_quote('merchant_payment', 200, 'KES', '21000000-0000-4000-8000-00000000000c')),
  row(2.00, 'merchant_profile', :'prof_duka'::uuid)::text, 'an active merchant override beats the catalog (1% not 1.5%)');
select is((select row(fee, rule_source, rule_id)::text from hazina.fee_quote('merchant_payment', 200, 'KES')),
  row(3.00, 'catalog', :'cat_merchant'::uuid)::text, 'without a payer the catalog applies');
select is((select row(fee, rule_source)::text
             from hazina.fee_quote('merchant_payment', 200, 'KES', '21000000-0000-4000-8000-00000000000a')),
  row(3.00, 'catalog')::text, 'another user''s override never applies to me');
select is((select row(fee, rule_source, rule_id)::text
             from hazina.fee_quote('merchant_payment', 200, 'KES', '21000000-0000-4000-8000-00000000000e')),
  row(0, 'merchant_profile', :'prof_bure'::uuid)::text, 'a waived override makes the fee 0');
select is((select row(fee, rule_source)::text
             from hazina.fee_quote('merchant_payment', 200, 'KES', '21000000-0000-4000-8000-00000000000d')),
  row(3.00, 'catalog')::text, 'an expired and a future override are ignored: the catalog applies');
select is((select row(fee, rule_source)::text
             from hazina.fee_quote('withdrawal', 1000, 'KES', '21000000-0000-4000-8000-00000000000c')),
  row(35.00, 'catalog')::text, 'an override covers only its own transaction type');

-- public.quote_fee: the caller's own overrides apply.
select pg_temp.act_as('21000000-0000-4000-8000-00000000000c');
select is(public.quote_fee('merchant_payment', 200) - 'amount',
  '{"transaction_type": "merchant_payment", "fee": "2.00", "currency": "KES", "rule_source": "merchant_profile"}'::jsonb,
  'a merchant previews its negotiated fee');
select is((public.quote_fee('merchant_payment', 200) ->> 'amount')::numeric, 200::numeric, 'the quote echoes the amount');
select pg_temp.act_as('21000000-0000-4000-8000-00000000000a');
select is(public.quote_fee('merchant_payment', 200) ->> 'rule_source', 'catalog', 'a customer previews the catalog fee');
select throws_ok($$select public.quote_fee('p2p_transfer', 0)$$, 'P0001', 'invalid_amount', 'a zero amount cannot be quoted');
select throws_ok($$select public.quote_fee('p2p_transfer', -5)$$, 'P0001', 'invalid_amount', 'a negative amount cannot be quoted');
select throws_ok($$select public.quote_fee('p2p_transfer', 1.00001)$$, 'P0001', 'invalid_amount', 'more than 4 decimals cannot be quoted');
select throws_ok($$select public.quote_fee('p2p_transfer', 1e15)$$, 'P0001', 'invalid_amount', 'an amount no posting could move cannot be quoted');
select throws_ok($$select public.quote_fee('p2p_transfer', 'NaN')$$, 'P0001', 'invalid_amount', 'NaN cannot be quoted');
select throws_ok($$select public.quote_fee('p2p_transfer', 'Infinity')$$, 'P0001', 'invalid_amount', 'Infinity cannot be quoted');
select throws_ok($$select * from hazina.fee_quote('p2p_transfer', 100, 'KES')$$, '42501', null,
  'a client cannot call the internal fee_quote (it could pass another merchant''s id)');
reset role;
select pg_temp.act_as_anon();
select throws_ok($$select public.quote_fee('p2p_transfer', 100)$$, '42501', null, 'anon cannot quote fees');
reset role;

-- Fees charged by transfers.
select pg_temp.wallet_open('21000000-0000-4000-8000-00000000000a') as alice,
       pg_temp.wallet_open('21000000-0000-4000-8000-00000000000a', 'UGX') as alice_ugx,
       pg_temp.wallet_open('21000000-0000-4000-8000-00000000000b') as bob,
       pg_temp.wallet_open('21000000-0000-4000-8000-00000000000b', 'UGX') as bob_ugx,
       pg_temp.wallet_open('21000000-0000-4000-8000-00000000000c') as duka,
       pg_temp.wallet_open('21000000-0000-4000-8000-00000000000d') as soko,
       pg_temp.wallet_open('21000000-0000-4000-8000-00000000000e') as bure,
       pg_temp.wallet_open('21000000-0000-4000-8000-00000000000f') as tiny \gset
select hazina.system_wallet('fee_revenue') as revenue, hazina.system_wallet('fee_revenue', 'UGX') as revenue_ugx \gset
select balance as revenue_before from public.wallet_balances where wallet_id = :'revenue' \gset

select pg_temp.fund(:'alice', 10000.00), pg_temp.fund(:'alice_ugx', 50000);

-- Sender-paid (P2P).
select is(hazina.transfer('f-p2p-1', :'alice', :'bob', 1000.00) ->> 'fee', '5.0000', 'a P2P transfer charges the catalog fee');
select id as tx_p2p from public.wallet_transactions where ref = 'f-p2p-1' \gset
select is((select balance from public.wallet_balances where wallet_id = :'alice'), 8995.0000::numeric,
  'the sender pays amount plus fee');
select is((select balance from public.wallet_balances where wallet_id = :'bob'), 1000.0000::numeric,
  'the receiver gets the whole amount');
select is((select balance from public.wallet_balances where wallet_id = :'revenue') - :'revenue_before'::numeric, 5.0000::numeric,
  'the fee lands in the fee_revenue system wallet');
select results_eq(
  format($$select wallet_id, direction::text, amount::numeric(19,4) from public.wallet_ledger where transaction_id = '%s' and leg = 'fee' order by direction$$, :'tx_p2p'),
  format($$values ('%s'::uuid, 'credit'::text, 5.0000::numeric(19,4)), ('%s'::uuid, 'debit', 5.0000)$$, :'revenue', :'alice'),
  'the fee is posted as its own balanced leg in the same transaction');
select results_eq(
  format($$select direction::text, amount::numeric(19,4), currency::text, base_amount::numeric(19,4), rule_source::text, rule_id, payer_wallet_id, payer_user_id, transaction_type, ref collate "default"
             from public.billing_ledger where transaction_id = '%s'$$, :'tx_p2p'),
  format($$values ('charge'::text, 5.0000::numeric(19,4), 'KES'::text, 1000.0000::numeric(19,4), 'catalog'::text, '%s'::uuid,
                   '%s'::uuid, '21000000-0000-4000-8000-00000000000a'::uuid, 'p2p_transfer'::text, '%s#fee'::text)$$,
         :'cat_p2p', :'alice', :'tx_p2p'),
  'exactly one billing_ledger charge row records the fee, its base amount and the rule that set it');
select is(hazina.transfer('f-p2p-1', :'alice', :'bob', 1000.00) ->> 'replayed', 'true', 'a retried transfer replays');
select is((select count(*)::int from public.billing_ledger where transaction_id = :'tx_p2p'), 1,
  'a replay charges no second fee');
select is((select balance from public.wallet_balances where wallet_id = :'alice'), 8995.0000::numeric,
  'and debits nothing twice');

-- UGX fees are whole shillings.
select is(hazina.transfer('f-p2p-ugx', :'alice_ugx', :'bob_ugx', 1100) ->> 'fee', '17.0000', 'a UGX transfer charges 17 on 1100');
select is((select balance from public.wallet_balances where wallet_id = :'revenue_ugx'), 17.0000::numeric,
  'the UGX fee lands in the UGX revenue wallet');
select throws_ok(format($$select hazina.transfer('f-p2p-ugx-cents', '%s', '%s', 100.50)$$, :'alice_ugx', :'bob_ugx'),
  'P0001', 'invalid_amount', 'UGX amounts have no fractional part');

-- Receiver-paid (merchant payments).
select is(hazina.transfer('f-pay-duka', :'alice', :'duka', 200.00, 'merchant_payment') ->> 'fee', '2.0000',
  'a merchant payment charges the merchant''s negotiated fee');
select id as tx_duka from public.wallet_transactions where ref = 'f-pay-duka' \gset
select is((select balance from public.wallet_balances where wallet_id = :'alice'), 8795.0000::numeric,
  'the customer pays only the amount');
select is((select balance from public.wallet_balances where wallet_id = :'duka'), 198.0000::numeric,
  'the merchant receives the amount less its fee');
select results_eq(
  format($$select payer_wallet_id, payer_user_id, amount::numeric(19,4), base_amount::numeric(19,4), rule_source::text, rule_id from public.billing_ledger where transaction_id = '%s'$$, :'tx_duka'),
  format($$values ('%s'::uuid, '21000000-0000-4000-8000-00000000000c'::uuid, 2.0000::numeric(19,4), 200.0000::numeric(19,4), 'merchant_profile'::text, '%s'::uuid)$$,
         :'duka', :'prof_duka'),
  'the billing row names the merchant as payer and the override as the rule');
select is(hazina.transfer('f-pay-soko', :'alice', :'soko', 200.00, 'merchant_payment') ->> 'fee', '3.0000',
  'a merchant whose waivers are expired or not yet active pays the catalog fee');
select is(hazina.transfer('f-pay-bure', :'alice', :'bure', 200.00, 'merchant_payment') ->> 'fee', '0.0000',
  'a merchant with a waiver pays nothing');
select is((select count(*)::int from public.billing_ledger b join public.wallet_transactions t on t.id = b.transaction_id
            where t.ref = 'f-pay-bure'), 0, 'a waived fee writes no billing row');
select is((select count(*)::int from public.wallet_ledger l join public.wallet_transactions t on t.id = l.transaction_id
            where t.ref = 'f-pay-bure' and l.leg = 'fee'), 0, 'and posts no fee leg');
select is((select balance from public.wallet_balances where wallet_id = :'bure'), 200.0000::numeric, 'the waived merchant keeps it all');
select throws_ok(format($$select hazina.transfer('f-pay-tiny-10', '%s', '%s', 10.00, 'merchant_payment')$$, :'alice', :'tiny'),
  'P0001', 'fee_exceeds_amount', 'a receiver-paid fee equal to the amount is refused');
select throws_ok(format($$select hazina.transfer('f-pay-tiny-5', '%s', '%s', 5.00, 'merchant_payment')$$, :'alice', :'tiny'),
  'P0001', 'fee_exceeds_amount', 'a receiver-paid fee above the amount is refused');
select is((select count(*)::int from public.wallet_transactions where ref like 'f-pay-tiny-%'), 0,
  'a refused payment leaves nothing behind');
select is(hazina.transfer('f-pay-tiny-ok', :'alice', :'tiny', 10.01, 'merchant_payment') ->> 'fee', '10.0000',
  'a receiver-paid fee just below the amount is charged');
select is((select balance from public.wallet_balances where wallet_id = :'tiny'), 0.0100::numeric,
  'the merchant nets one cent');
select is((select sum(amount) from public.billing_ledger where direction = 'charge' and currency = 'KES'), 20.0000::numeric,
  'KES fees charged: 5 + 2 + 3 + 10');
select is((select balance from public.wallet_balances where wallet_id = :'revenue') - :'revenue_before'::numeric, 20.0000::numeric,
  'the revenue wallet holds exactly the KES fees billed');

-- Who reads what.
select pg_temp.act_as('21000000-0000-4000-8000-00000000000a');
select is(array(select t.ref::text from public.billing_ledger b join public.wallet_transactions t on t.id = b.transaction_id order by t.ref),
  array['f-p2p-1', 'f-p2p-ugx'],
  'a payer reads only their own billing rows (not the fees merchants paid on their payments)');
select is((select count(*)::int from public.merchant_fee_profiles), 0, 'a customer sees no fee profiles');
select throws_ok($$insert into public.billing_fee_catalog (transaction_type, currency, percentage_bps)
  values ('funding', 'KES', 1)$$, '42501', null, 'a client cannot add catalog entries');
select throws_ok($$update public.billing_fee_catalog set percentage_bps = 0$$, '42501', null, 'a client cannot change catalog entries');
select throws_ok($$insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, transaction_type, direction, amount,
    currency, base_amount, rule_source) select 'x', id, id, 'x', 'refund', 1, 'KES', 1, 'catalog' from public.wallets limit 1$$,
  '42501', null, 'a client cannot write billing rows');
select pg_temp.act_as('21000000-0000-4000-8000-00000000000c');
select is(array(select b.amount::numeric from public.billing_ledger b), array[2.0000::numeric], 'a merchant reads the fees it paid');
select is(array(select id from public.merchant_fee_profiles), array[:'prof_duka'::uuid], 'a merchant reads only its own fee profile');
select throws_ok($$insert into public.merchant_fee_profiles (merchant_id, transaction_type, waived)
  values ('21000000-0000-4000-8000-00000000000c', 'withdrawal', true)$$,
  '42501', null, 'a merchant cannot grant itself a waiver');
select pg_temp.act_as('21000000-0000-4000-8000-00000000000d');
select is((select count(*)::int from public.merchant_fee_profiles), 2, 'another merchant sees its own two profiles, not duka''s');
select pg_temp.act_as('21000000-0000-4000-8000-00000000000b');
select is((select count(*)::int from public.billing_ledger), 0, 'a receiver of P2P money paid no fee and reads no billing rows');
reset role;
select pg_temp.act_as_anon();
select is((select count(*)::int from public.billing_fee_catalog), 9, 'anon reads the whole fee catalog (with the seeded installment late fee)');
select throws_ok($$select count(*) from public.merchant_fee_profiles$$, '42501', null, 'anon cannot read merchant fee profiles');
select throws_ok($$select count(*) from public.billing_ledger$$, '42501', null, 'anon cannot read the billing ledger');
select throws_ok($$insert into public.billing_fee_catalog (transaction_type, currency, percentage_bps)
  values ('funding', 'KES', 1)$$, '42501', null, 'anon cannot add catalog entries');
reset role;

-- Books
select pg_temp.books_balance();

select * from finish();
rollback;
