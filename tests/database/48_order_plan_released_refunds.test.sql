-- Refunds of a completed installment plan's order WITHOUT escrow (migration
-- 20261124001800): the plan paid the merchant at completion, so the refund takes the money
-- back from the merchant's wallet (one partial reversal of the release, with the release fee's
-- share returned by the refund rule), then refunds the buyer through the plan's intents,
-- newest first. A partial then full refund to the cent (the merchant ends where it started, the
-- release fee given back exactly), a retry, a refusal when the merchant's wallet lacks the
-- money (nothing partial), the reconciliation check (and that it can fail), the books.
begin;
select plan(35);

\ir helpers.psql

select pg_temp.user_create('merchant', '48100000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '48100000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 5000);
-- The release is priced here (1%, borne by the merchant), so its fee's refund shows.
insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('escrow_release', 100);

select pg_temp.as_user(:'duka', $$select public.shop_create('Duka la Nne', 'duka-la-nne')$$) ->> 'id' as shop \gset
select pg_temp.as_user(:'duka', format($$select public.product_create('%s', 'Solar lamp', 'LAMP-1', 1000.01, 10)$$, :'shop')) ->> 'id' as lamp \gset
select pg_temp.as_user(:'duka', format($$select public.shop_installment_settings_set('%s',
  '{"allowed": true, "max_count": 6, "grace_days": 3, "cancellation_fee_bps": 1000, "missed_payments_to_default": 2}')$$, :'shop'));

-- A plan without escrow paid in two intents (deposit 100, then 900.01): completed, it pays the merchant.
select pg_temp.balance(:'duka_wallet') as duka0 \gset
select pg_temp.as_user(:'amina', format($q$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]',
  false, null, 'pd', '{"deposit": "100.00", "count": 2, "interval": "week"}')$q$, :'shop', :'lamp')) as placed \gset
select pg_temp.as_user(:'amina', format($q$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100.00"}]')$q$,
  (:'placed'::jsonb) -> 'payment_intent' ->> 'id', :'amina_wallet'));
select pg_temp.as_user(:'amina', format($q$select public.installment_pay('%s', 900.01, '%s', 'pd-pay')$q$,
  (:'placed'::jsonb) -> 'installment' ->> 'id', :'amina_wallet'));
select (:'placed'::jsonb) ->> 'id' as order_d \gset
select (:'placed'::jsonb) -> 'installment' ->> 'id' as plan_d \gset
select id as release_tx from public.wallet_transactions where ref = 'installment:' || :'plan_d' || ':release' \gset
select amount as release_fee from public.billing_ledger where transaction_id = :'release_tx' and direction = 'charge' \gset

select is((select (o.status, i.status, o.amount_paid)::text from public.orders o join public.installments i on i.order_id = o.id
            where o.id = :'order_d'), '(paid,completed,1000.0100)', 'the plan completed and its order is paid');
select ok(:'release_fee'::numeric > 0, 'the release was priced (escrow_release, borne by the merchant)');
select is(pg_temp.balance(:'duka_wallet'), :'duka0'::numeric + 1000.01 - :'release_fee'::numeric,
  'the merchant was paid 1000.01 less the release fee');
select is_empty(format($$select 1 from public.goods_escrows where order_id = '%s'$$, :'order_d'), 'no goods escrow');

-- A partial refund: 400 back to the buyer; the merchant gives 400 less the fee share back.
select hazina.refund_fee_share(:'release_fee'::numeric, 0, 400, 1000.01, false, 2::smallint) as share1 \gset
select is(:'share1'::numeric, round(:'release_fee'::numeric * 400 / 1000.01, 2), 'the fee share is round(fee × 400 / 1000.01, 2)');
select pg_temp.balance(:'amina_wallet') as amina1 \gset
select pg_temp.balance(:'duka_wallet') as duka1 \gset
select pg_temp.balance(hazina.system_wallet('escrow', 'KES')) as escrow1 \gset
select is(pg_temp.as_user(:'duka', format($$select public.order_refund('%s', 400, null, 'part', 'r-d1')$$, :'order_d')) ->> 'status',
  'paid', 'the merchant refunds 400 of a paid-out plan order (order_not_refundable before)');
select is(pg_temp.balance(:'amina_wallet'), :'amina1'::numeric + 400, 'the buyer gets 400 back, to the cent');
select is(pg_temp.balance(:'duka_wallet'), :'duka1'::numeric - 400 + :'share1'::numeric,
  'the merchant pays 400 less the release fee''s share');
select is(pg_temp.balance(hazina.system_wallet('escrow', 'KES')), :'escrow1'::numeric, 'escrow is where it was');
select is((select (principal_amount, kind, reverses_id)::text from public.wallet_transactions
            where ref = 'order:' || :'order_d' || ':refund:r-d1:clawback'),
  format('(400.0000,reversal,%s)', :'release_tx'), 'one partial reversal of the release took it back');
select is((select b.amount::numeric from public.billing_ledger b join public.wallet_transactions t on t.id = b.transaction_id
            where t.ref = 'order:' || :'order_d' || ':refund:r-d1:clawback' and b.direction = 'refund'),
  :'share1'::numeric, 'its billing row refunds the fee share');
select is((select jsonb_agg(p.amount_refunded::text order by p.client_ref like '%:deposit' desc) from public.payment_intents p
            where p.subject_type = 'installment' and p.subject_id = :'plan_d' and p.status = 'succeeded'),
  '["0.0000", "400.0000"]'::jsonb, 'newest intent first: the installment gives the 400');
select is((select (amount_refunded, amount_released)::text from public.installments where id = :'plan_d'), '(400.0000,600.0100)',
  'the plan''s books: 400 moved from released to refunded');
select is((select array_agg(type) from public.events where object_id = :'order_d' and type like 'order.%refunded'),
  array['order.partially_refunded'], 'order.partially_refunded');
select is(pg_temp.as_user(:'duka', format($$select public.order_refund('%s', 400, null, 'part', 'r-d1')$$, :'order_d')) ->> 'amount_refunded',
  '400.0000', 'a retry of the same refund refunds nothing more');
select is(pg_temp.balance(:'duka_wallet'), :'duka1'::numeric - 400 + :'share1'::numeric, 'and takes nothing more from the merchant');
select * from pg_temp.books_balance('the books reconcile after the partial refund');

-- The merchant's wallet cannot cover the rest (most of it is held): refused, nothing moves.
select pg_temp.balance(:'duka_wallet') as duka2 \gset
select hazina.hold_create('test-hold-48-1', :'duka_wallet', :'amina_wallet', pg_temp.available(:'duka_wallet') - 100,
  now() + interval '1 hour') as hold \gset
select pg_temp.balance(:'amina_wallet') as amina2 \gset
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.order_refund(''%s'', null, null, ''rest'', ''r-d2'')')$$, :'duka', :'order_d'),
  'P0001', 'order_refund_merchant_funds', 'the merchant''s wallet lacks the money: refused');
select is(pg_temp.balance(:'amina_wallet'), :'amina2'::numeric, 'the buyer got nothing');
select is(pg_temp.balance(:'duka_wallet'), :'duka2'::numeric, 'the merchant paid nothing');
select is((select (amount_refunded, status)::text from public.orders where id = :'order_d'), '(400.0000,paid)', 'the order is unchanged');
select is((select count(*)::int from public.payment_refunds where client_ref like 'order:' || :'order_d' || ':refund:r-d2%'), 0,
  'no refund row');
select is((select count(*)::int from public.wallet_transactions where reverses_id = :'release_tx'), 1, 'no second reversal');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.order_cancel(''%s'')')$$, :'duka', :'order_d'),
  'P0001', 'order_refund_merchant_funds', 'a merchant cancel of the paid order is refused the same way');
select hazina.hold_void(:'hold');

-- With the money there, the rest: the order is refunded, the merchant is back where it started.
select is(pg_temp.as_user(:'duka', format($$select public.order_refund('%s', null, null, 'rest', 'r-d3')$$, :'order_d')) ->> 'status',
  'refunded', 'refunding the rest refunds the order');
select is(pg_temp.balance(:'amina_wallet'), :'amina1'::numeric + 1000.01, 'the buyer has all 1000.01 back');
select is(pg_temp.balance(:'duka_wallet'), :'duka0'::numeric, 'the merchant is back where it started, to the cent');
select is((select sum(amount::numeric) from public.billing_ledger where refund_of = (select ref from public.billing_ledger
            where transaction_id = :'release_tx' and direction = 'charge')), :'release_fee'::numeric,
  'the whole release fee came back, exactly');
select is((select (amount_refunded, amount_released)::text from public.installments where id = :'plan_d'), '(1000.0100,0.0000)',
  'the plan released nothing in the end');
select is((select array_agg(type order by type) from public.events where object_id = :'order_d' and type like 'order.%refunded'),
  array['order.partially_refunded', 'order.refunded'], 'order.refunded');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.order_refund(''%s'', 1, null, null, ''r-d4'')')$$, :'duka', :'order_d'),
  'P0001', 'order_not_refundable', 'a refunded order takes no more refunds');
select * from pg_temp.books_balance('the books reconcile at the end');

-- The new check can fail: a plan claiming a refund its merchant never paid back.
savepoint tamper;
update public.installments set amount_refunded = amount_refunded - 1, amount_released = amount_released + 1 where id = :'plan_d';
select is((select check_name from hazina.reconcile_installment_clawbacks() where subject = :'plan_d'),
  'installment_clawback_matches_refunds', 'reconciliation catches a refund not taken back from the merchant');
rollback to savepoint tamper;

select * from finish();
rollback;
