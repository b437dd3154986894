-- Refunds of an order paid by an installment plan (migration 20261124001620): the order has no
-- intent of its own, so its refunds are spread over the plan's succeeded intents, newest
-- first. A merchant's partial then full refund, a retry, a dispute resolved as a refund and as
-- a split (a plan order without escrow: 48_order_plan_released_refunds.test.sql); balances to
-- the cent and the books reconciled.
begin;
select plan(23);

\ir helpers.psql

select pg_temp.user_create('merchant', '48000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '48000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('admin', '48000000-0000-4000-8000-00000000000e') as admin \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 5000);

select pg_temp.as_user(:'duka', $$select public.shop_create('Duka la Tatu', 'duka-la-tatu')$$) ->> 'id' as shop \gset
select pg_temp.as_user(:'duka', format($$select public.product_create('%s', 'Solar lamp', 'LAMP-1', 1000.01, 10)$$, :'shop')) ->> 'id' as lamp \gset
select pg_temp.as_user(:'duka', format($$select public.shop_installment_settings_set('%s',
  '{"allowed": true, "max_count": 6, "grace_days": 3, "cancellation_fee_bps": 1000, "missed_payments_to_default": 2}')$$, :'shop'));

-- A plan paid in two intents (deposit 100, then 900.01): completed, it funds the goods escrow.
create function pg_temp.plan_order(p_ref text, p_escrow boolean, p_shop uuid, p_lamp uuid, p_wallet uuid) returns uuid language plpgsql as $$
declare
  v_placed jsonb;
begin
  v_placed := pg_temp.as_user('48000000-0000-4000-8000-00000000000b', format(
    $q$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', %s, null, '%s',
      '{"deposit": "100.00", "count": 2, "interval": "week"}')$q$,
    p_shop, p_lamp, p_escrow::text, p_ref));
  perform pg_temp.as_user('48000000-0000-4000-8000-00000000000b', format(
    $q$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100.00"}]')$q$,
    v_placed -> 'payment_intent' ->> 'id', p_wallet));
  perform pg_temp.as_user('48000000-0000-4000-8000-00000000000b', format(
    $q$select public.installment_pay('%s', 900.01, '%s', '%s')$q$,
    v_placed -> 'installment' ->> 'id', p_wallet, p_ref || '-pay'));
  return (v_placed ->> 'id')::uuid;
end
$$;

-- Plan A: the merchant refunds part, then the rest.
select pg_temp.plan_order('pa', true, :'shop', :'lamp', :'amina_wallet') as order_a \gset
select id as plan_a from public.installments where order_id = :'order_a' \gset
select is((select (status, amount)::text from public.goods_escrows where order_id = :'order_a'), '(funded,1000.0100)',
  'the completed plan funds the goods escrow');
select pg_temp.balance(:'amina_wallet') as amina0 \gset
select is(pg_temp.as_user(:'duka', format($$select public.order_refund('%s', 950, null, 'part', 'r-a1')$$, :'order_a')) ->> 'status',
  'paid', 'the merchant refunds 950 of a plan-paid order (it was payment_intent_not_found before)');
select is(pg_temp.balance(:'amina_wallet'), :'amina0'::numeric + 950, 'the customer gets 950 back, to the cent');
select is((select jsonb_agg(p.amount_refunded::text order by p.client_ref like '%:deposit' desc) from public.payment_intents p
            where p.subject_type = 'installment' and p.subject_id = :'plan_a' and p.status = 'succeeded'),
  '["49.9900", "900.0100"]'::jsonb, 'newest intent first: 900.01 from the installment, 49.99 from the deposit');
select is((select (refunded_amount, status)::text from public.goods_escrows where order_id = :'order_a'), '(950.0000,funded)',
  'the escrow gave back 950 and still holds 50.01');
select is(pg_temp.as_user(:'duka', format($$select public.order_refund('%s', 950, null, 'part', 'r-a1')$$, :'order_a')) ->> 'amount_refunded',
  '950.0000', 'a retry of the same refund refunds nothing more');
select is(pg_temp.balance(:'amina_wallet'), :'amina0'::numeric + 950, 'and moves no money');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.order_refund(''%s'', 50.02, null, null, ''r-a2'')')$$, :'duka', :'order_a'),
  'P0001', 'refund_exceeds_paid', 'never above what was paid and not refunded');
select is(pg_temp.as_user(:'duka', format($$select public.order_refund('%s', null, null, 'rest', 'r-a3')$$, :'order_a')) ->> 'status',
  'refunded', 'refunding the rest refunds the order');
select is(pg_temp.balance(:'amina_wallet'), :'amina0'::numeric + 1000.01, 'the customer has all 1000.01 back');
select is((select status from public.goods_escrows where order_id = :'order_a'), 'refunded', 'the escrow is refunded');
select * from pg_temp.books_balance('the books reconcile after the merchant''s refunds');

-- Plan B: disputed, the admin refunds everything held.
select pg_temp.plan_order('pb', true, :'shop', :'lamp', :'amina_wallet') as order_b \gset
select id as escrow_b from public.goods_escrows where order_id = :'order_b' \gset
select pg_temp.as_user(:'duka', format($$select public.order_dispatch('%s')$$, :'order_b'));
select pg_temp.as_user(:'duka', format($$select public.order_deliver('%s')$$, :'order_b'));
select pg_temp.as_user(:'amina', format($$select public.order_dispute('%s', 'broken')$$, :'order_b'));
select pg_temp.balance(:'amina_wallet') as amina1 \gset
select pg_temp.balance(:'duka_wallet') as duka1 \gset
select pg_temp.act_as(:'admin');
select is(public.ops_escrow_resolve(:'escrow_b', 'refund', null, 'never arrived') ->> 'status', 'refunded', 'the admin refunds the dispute');
reset role;
select is(pg_temp.balance(:'amina_wallet'), :'amina1'::numeric + 1000.01, 'the buyer has 1000.01 back');
select is(pg_temp.balance(:'duka_wallet'), :'duka1'::numeric, 'the merchant gets nothing');
select * from pg_temp.books_balance('the books reconcile after a dispute refund');

-- Plan C: disputed, split 600 to the buyer, the rest to the merchant.
select pg_temp.plan_order('pc', true, :'shop', :'lamp', :'amina_wallet') as order_c \gset
select id as escrow_c from public.goods_escrows where order_id = :'order_c' \gset
select pg_temp.as_user(:'duka', format($$select public.order_dispatch('%s')$$, :'order_c'));
select pg_temp.as_user(:'duka', format($$select public.order_deliver('%s')$$, :'order_c'));
select pg_temp.as_user(:'amina', format($$select public.order_dispute('%s', 'half broken')$$, :'order_c'));
select pg_temp.balance(:'amina_wallet') as amina2 \gset
select pg_temp.balance(:'duka_wallet') as duka2 \gset
select pg_temp.act_as(:'admin');
select is(public.ops_escrow_resolve(:'escrow_c', 'split', 600, 'one part missing') ->> 'status', 'split', 'the admin splits');
reset role;
select is(pg_temp.balance(:'amina_wallet'), :'amina2'::numeric + 600, 'the buyer gets 600');
select is(pg_temp.balance(:'duka_wallet'),
  :'duka2'::numeric + 400.01 - (hazina.fee_quote('escrow_release', 400.01, 'KES', :'duka'::uuid)).fee,
  'the merchant gets 400.01 less the escrow_release fee');
select * from pg_temp.books_balance('the books reconcile after a split');

-- A plan order without escrow (paid out at completion) is refunded from the merchant's wallet:
-- 48_order_plan_released_refunds.test.sql.

select * from finish();
rollback;
