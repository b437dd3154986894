-- Refunds give the merchant's fee back in proportion: fee_refunded = round(fee × refund /
-- received) half away from zero to the currency's minor units (the one rounding rule), never
-- above what is left of the fee, and the refund that completes the intent takes exactly the
-- remainder. Awkward numbers: three refunds of 33.33 on 100 at 1.5%, thirds of a partial
-- capture, a refund too small to carry any fee. Reconciliation proves each refund is its
-- reversal and the fees add up (and notices when they do not).
begin;
select plan(38);

\ir helpers.psql

select pg_temp.user_create('merchant', '44000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '44000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 5000);
select hazina.system_wallet('fee_revenue', 'KES') as revenue \gset
insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('payment_intent', 150);

select is(hazina.refund_fee_share(1.50, 0, 33.33, 100, false, 2::smallint), 0.50::numeric,
  '1.50 × 33.33 / 100 = 0.49995 rounds half away from zero to 0.50');
select is(hazina.refund_fee_share(1.50, 1.50, 0.01, 100, true, 2::smallint), 0::numeric, 'nothing is left to give back: 0');
select is(hazina.refund_fee_share(1.50, 1.00, 33.34, 100, false, 2::smallint), 0.50::numeric, 'never above the remainder');
select is(hazina.refund_fee_share(1.50, 1.45, 40, 100, false, 2::smallint), 0.05::numeric, 'capped at the remainder (0.60 > 0.05)');
select is(hazina.refund_fee_share(0, 0, 40, 100, true, 2::smallint), 0::numeric, 'no fee, no fee refund');

-- 1. 100.00 at 1.5% = 1.50; refunds of 33.33, 33.33, 33.33, then the last 0.01.
select pg_temp.act_as(:'duka');
select (public.payment_intent_create(100, 'KES', 'automatic', :'amina', 'Thirds', null, null, 'rf-1') ->> 'id') as pi1 \gset
select pg_temp.act_as(:'amina');
select public.payment_intent_confirm(:'pi1', format('[{"type":"wallet","wallet_id":"%s","amount":"100"}]', :'amina_wallet')::jsonb);
select pg_temp.act_as(:'duka');
select is(pg_temp.balance(:'duka_wallet'), 98.5000::numeric, 'the merchant received 100 less 1.50');
select public.payment_refund_create(:'pi1', 33.33, 'first third', 'rf-1-a') as r1 \gset
select is((:'r1'::jsonb) ->> 'fee_refunded', '0.5000', 'the first 33.33 gives back 0.50 of the fee');
select is(pg_temp.balance(:'duka_wallet'), 98.50 - 33.33 + 0.50, 'the merchant paid 33.33 and got 0.50 back');
select is((public.payment_refund_create(:'pi1', 33.33, 'first third', 'rf-1-a') - 'updated_at'),
  ((:'r1'::jsonb) - 'created' - 'updated_at') || '{"created": false}', 'the same key replays the same refund');
select is(public.payment_refund_create(:'pi1', 33.33, null, 'rf-1-b') ->> 'fee_refunded', '0.5000', 'the second 0.50');
select is(public.payment_refund_create(:'pi1', 33.33, null, 'rf-1-c') ->> 'fee_refunded', '0.5000', 'the third 0.50: 1.50 in all');
select is(public.payment_refund_create(:'pi1', null, null, 'rf-1-d') ->> 'fee_refunded', '0.0000',
  'the last 0.01 gets nothing: the whole fee is already back');
select throws_ok(format($$select public.payment_refund_create('%s', 0.01, null, 'rf-1-e')$$, :'pi1'),
  'P0001', 'refund_exceeds_captured', 'nothing is left to refund');
reset role;
select is(pg_temp.balance(:'duka_wallet'), 0.0000::numeric, 'fully refunded, the merchant is back to zero: fee included');
select is(pg_temp.balance(:'amina_wallet'), 5000.0000::numeric, 'and the customer has everything back');
select is((select sum(fee_refunded) from public.payment_refunds where payment_intent_id = :'pi1'), 1.5000::numeric,
  'the fee refunded equals the fee charged');
select is((select count(*)::int from public.payment_refunds r join public.wallet_transactions t on t.id = r.transaction_id
            where r.payment_intent_id = :'pi1' and t.reverses_id = (select capture_transaction_id from public.payment_intents where id = :'pi1')
              and t.kind = 'reversal' and t.principal_amount = r.amount), 4, 'each refund is one reversal of the capture, for its amount');
select is((select count(*)::int from public.billing_ledger b join public.payment_refunds r on r.transaction_id = b.transaction_id
            where r.payment_intent_id = :'pi1' and b.direction = 'refund'
              and b.refund_of = (select capture_transaction_id from public.payment_intents where id = :'pi1')::text || '#fee'), 3,
  'each fee share is a billing refund of the capture''s charge (the 0.00 one has none)');
select * from pg_temp.books_balance('the books reconcile after four refunds of one intent');

-- 2. A partial capture of 333.33 (fee 4.99995 → 5.00), refunded in thirds: 1.67, 1.67, 1.66.
select pg_temp.act_as(:'duka');
select (public.payment_intent_create(1000, 'KES', 'manual', :'amina', 'Partial', null, null, 'rf-2') ->> 'id') as pi2 \gset
select pg_temp.act_as(:'amina');
select public.payment_intent_confirm(:'pi2', format('[{"type":"wallet","wallet_id":"%s","amount":"1000"}]', :'amina_wallet')::jsonb);
select pg_temp.act_as(:'duka');
select public.payment_intent_capture(:'pi2', 333.33);
reset role;
select is((select amount::numeric from public.billing_ledger where transaction_id = (select capture_transaction_id from public.payment_intents where id = :'pi2')),
  5.0000::numeric, '1.5% of 333.33 is 4.99995, billed as 5.00');
select pg_temp.act_as(:'duka');
select is(public.payment_refund_create(:'pi2', 111.11, null, 'rf-2-a') ->> 'fee_refunded', '1.6700', '5.00 × 111.11 / 333.33 = 1.66668 → 1.67');
select is(public.payment_refund_create(:'pi2', 111.11, null, 'rf-2-b') ->> 'fee_refunded', '1.6700', 'again 1.67');
select is(public.payment_refund_create(:'pi2', null, null, 'rf-2-c') ->> 'fee_refunded', '1.6600',
  'the last third takes the remainder, 1.66, so exactly 5.00 comes back');
reset role;
select is(pg_temp.balance(:'duka_wallet'), 0.0000::numeric, 'the merchant is back to zero');
select * from pg_temp.books_balance('the books reconcile after thirds of a partial capture');

-- 3. Small and uneven: 1000 (fee 15.00); 0.01 → 0.00015 → 0.00; 0.50 → 0.0075 → 0.01 (half
-- away from zero); 999.49 completes → 14.99.
select pg_temp.act_as(:'duka');
select (public.payment_intent_create(1000, 'KES', 'automatic', :'amina', 'Uneven', null, null, 'rf-3') ->> 'id') as pi3 \gset
select pg_temp.act_as(:'amina');
select public.payment_intent_confirm(:'pi3', format('[{"type":"wallet","wallet_id":"%s","amount":"1000"}]', :'amina_wallet')::jsonb);
select pg_temp.act_as(:'duka');
select is(public.payment_refund_create(:'pi3', 0.01, null, 'rf-3-a') ->> 'fee_refunded', '0.0000', 'a cent carries no fee (0.00015 → 0.00)');
select is(public.payment_refund_create(:'pi3', 0.50, null, 'rf-3-b') ->> 'fee_refunded', '0.0100', '0.0075 → 0.01, half away from zero');
select public.payment_refund_create(:'pi3', 400, null, 'rf-3-c') as r3c \gset
select is((:'r3c'::jsonb) ->> 'fee_refunded', '6.0000', '400 → 6.00');
select is(public.payment_refund_create(:'pi3', 599.49, null, 'rf-3-d') ->> 'fee_refunded', '8.9900',
  'the refund that completes it takes the remainder: 15.00 − 6.01 = 8.99');
reset role;
select is((select sum(fee_refunded) from public.payment_refunds where payment_intent_id = :'pi3'), 15.0000::numeric,
  'exactly the fee, across refunds');
select is(pg_temp.balance(:'amina_wallet'), 5000.0000::numeric, 'every intent fully refunded: the customer has all 5000 back');
select * from pg_temp.books_balance('the books reconcile after uneven refunds');

-- Reconciliation notices a fee share that does not match its billing, or an overpaid fee.
update public.payment_refunds set fee_refunded = fee_refunded + 0.01 where id = ((:'r3c'::jsonb) ->> 'id')::uuid;
select is((select array_agg(check_name order by check_name) from hazina.reconcile()),
  array['payment_intent_fee_refunds_within_fee', 'payment_refund_fee_is_billed'], 'a tampered fee share is reported twice');
update public.payment_refunds set fee_refunded = fee_refunded - 0.01 where id = ((:'r3c'::jsonb) ->> 'id')::uuid;
update public.payment_refunds set amount = amount + 1 where id = ((:'r3c'::jsonb) ->> 'id')::uuid;
select ok((select bool_or(check_name = 'payment_refund_reverses_capture') from hazina.reconcile()),
  'a refund whose reversal moved another amount is reported');
update public.payment_refunds set amount = amount - 1 where id = ((:'r3c'::jsonb) ->> 'id')::uuid;
select is_empty($$select * from hazina.reconcile()$$, 'and the books agree again');

select * from finish();
rollback;
