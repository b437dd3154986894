-- The merchant cancels a plan's order, on every path: while the plan runs (through the plan:
-- POST /installments/:id/cancel; the order's own cancel is refused), and after the plan
-- completed (the order's cancel: an escrowed order refunds out of escrow, a paid-out one from
-- the merchant's wallet). Each: a full refund with no cancellation fee, the stock back, the
-- order canceled, its events, a repeat that moves no money; balances to the cent, books.
begin;
select plan(39);

\ir helpers.psql

select pg_temp.user_create('merchant', '47100000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '47100000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('merchant', '47100000-0000-4000-8000-00000000000c') as other \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 5000);

select pg_temp.as_user(:'duka', $$select public.shop_create('Duka la Tano', 'duka-la-tano')$$) ->> 'id' as shop \gset
select pg_temp.as_user(:'duka', format($$select public.product_create('%s', 'Solar lamp', 'LAMP-1', 1000.01, 10)$$, :'shop')) ->> 'id' as lamp \gset
select pg_temp.as_user(:'duka', format($$select public.shop_installment_settings_set('%s',
  '{"allowed": true, "max_count": 6, "grace_days": 3, "cancellation_fee_bps": 1000, "missed_payments_to_default": 2}')$$, :'shop'));

-- A plan order (deposit 100 of 1000.01, 2 weekly payments), the deposit paid.
create function pg_temp.placed(p_ref text, p_escrow boolean, p_shop uuid, p_lamp uuid, p_wallet uuid) returns jsonb language plpgsql as $$
declare
  v_placed jsonb;
begin
  v_placed := pg_temp.as_user('47100000-0000-4000-8000-00000000000b', format(
    $q$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', %s, null, '%s',
      '{"deposit": "100.00", "count": 2, "interval": "week"}')$q$, p_shop, p_lamp, p_escrow::text, p_ref));
  perform pg_temp.as_user('47100000-0000-4000-8000-00000000000b', format(
    $q$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100.00"}]')$q$,
    v_placed -> 'payment_intent' ->> 'id', p_wallet));
  return v_placed;
end
$$;

-- Plan A, active: 100 + 200 paid, and a payment opened but not confirmed.
select pg_temp.placed('ma', false, :'shop', :'lamp', :'amina_wallet') as placed_a \gset
select (:'placed_a'::jsonb) ->> 'id' as order_a \gset
select (:'placed_a'::jsonb) -> 'installment' ->> 'id' as plan_a \gset
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 200, '%s', 'ma-pay')$$, :'plan_a', :'amina_wallet'));
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 50, null, 'ma-open')$$, :'plan_a'))
  -> 'payment_intent' ->> 'id' as open_a \gset
select is((select stock from public.products where id = :'lamp'), 9, 'the plan''s lamp is reserved');
select pg_temp.balance(:'amina_wallet') as amina_a \gset
select pg_temp.balance(:'duka_wallet') as duka_a \gset

select throws_ok(format($$select pg_temp.as_user('%s', 'select public.order_cancel(''%s'')')$$, :'duka', :'order_a'),
  'P0001', 'order_has_installment_plan', 'the merchant cannot cancel the order of an active plan directly');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.installment_cancel(''%s'')')$$, :'other', :'plan_a'),
  'P0001', 'installment_not_found', 'another merchant cannot cancel it');
select pg_temp.as_user(:'duka', format($$select public.installment_cancel('%s', 'out of stock')$$, :'plan_a')) as canceled_a \gset
select is((:'canceled_a'::jsonb) ->> 'status', 'canceled', 'the merchant cancels the plan');
select is((:'canceled_a'::jsonb) ->> 'cancellation_fee', '0.0000', 'no cancellation fee when the merchant cancels (the shop''s 10% is not charged)');
select is((:'canceled_a'::jsonb) ->> 'amount_refunded', '300.0000', 'everything paid is refunded');
select is((:'canceled_a'::jsonb) ->> 'cancellation_reason', 'out of stock', 'with the merchant''s reason');
select is(pg_temp.balance(:'amina_wallet'), :'amina_a'::numeric + 300, 'the customer has all 300 back, to the cent');
select is(pg_temp.balance(:'duka_wallet'), :'duka_a'::numeric, 'the merchant gets nothing');
select is((select status from public.payment_intents where id = :'open_a'), 'canceled', 'the open payment is canceled');
select is((select (status, cancellation_reason)::text from public.orders where id = :'order_a'), '(canceled,"installment plan canceled")',
  'the order is canceled');
select is((select stock from public.products where id = :'lamp'), 10, 'the lamp is back in stock');
select is((select array_agg(type order by type) from public.events
            where object_id in (:'order_a', :'plan_a') and type in ('installment.canceled', 'order.canceled')),
  array['installment.canceled', 'order.canceled'], 'installment.canceled and order.canceled');
select is(pg_temp.as_user(:'duka', format($$select public.installment_cancel('%s')$$, :'plan_a')) ->> 'amount_refunded', '300.0000',
  'canceling again changes nothing');
select is(pg_temp.balance(:'amina_wallet'), :'amina_a'::numeric + 300, 'and refunds nothing more');
select is((select count(*)::int from public.events where object_id = :'plan_a' and type = 'installment.canceled'), 1, 'one event');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.installment_pay(''%s'', 10, ''%s'', ''ma-late'')')$$,
  :'amina', :'plan_a', :'amina_wallet'), 'P0001', 'installment_not_active', 'a canceled plan takes no payments');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.order_cancel(''%s'')')$$, :'duka', :'order_a'),
  'P0001', 'order_not_cancelable', 'its order is canceled already, not cancelable again');
select * from pg_temp.books_balance('the books reconcile after the merchant cancels an active plan');

-- Plan B, completed into escrow: the merchant cancels the paid order; escrow refunds it.
select pg_temp.placed('mb', true, :'shop', :'lamp', :'amina_wallet') as placed_b \gset
select (:'placed_b'::jsonb) ->> 'id' as order_b \gset
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 900.01, '%s', 'mb-pay')$$,
  (:'placed_b'::jsonb) -> 'installment' ->> 'id', :'amina_wallet'));
select is((select status from public.orders where id = :'order_b'), 'paid', 'plan B completed: its order is paid');
select pg_temp.balance(:'amina_wallet') as amina_b \gset
select pg_temp.balance(:'duka_wallet') as duka_b \gset
select is(pg_temp.as_user(:'duka', format($$select public.order_cancel('%s', 'cannot deliver')$$, :'order_b')) ->> 'status',
  'canceled', 'the merchant cancels the paid order');
select is(pg_temp.balance(:'amina_wallet'), :'amina_b'::numeric + 1000.01, 'the customer has all 1000.01 back');
select is(pg_temp.balance(:'duka_wallet'), :'duka_b'::numeric, 'the merchant neither gets nor pays anything');
select is((select (status, refunded_amount)::text from public.goods_escrows where order_id = :'order_b'), '(refunded,1000.0100)',
  'the escrow is refunded');
select is((select stock from public.products where id = :'lamp'), 10, 'the lamp is back in stock');
select is((select array_agg(type order by type) from public.events where object_id = :'order_b' and type in ('order.canceled', 'order.refunded')),
  array['order.canceled', 'order.refunded'], 'order.refunded and order.canceled');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.order_cancel(''%s'')')$$, :'duka', :'order_b'),
  'P0001', 'order_not_cancelable', 'a second cancel of the canceled order is refused (the orders rule; an Idempotency-Key replays)');
select is(pg_temp.balance(:'amina_wallet'), :'amina_b'::numeric + 1000.01, 'and refunds nothing more');
select * from pg_temp.books_balance('the books reconcile after the merchant cancels an escrowed plan order');

-- Plan C, completed and paid out (no escrow): the merchant cancels; the money comes from its wallet.
select pg_temp.placed('mc', false, :'shop', :'lamp', :'amina_wallet') as placed_c \gset
select (:'placed_c'::jsonb) ->> 'id' as order_c \gset
select pg_temp.balance(:'duka_wallet') as duka_c0 \gset
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 900.01, '%s', 'mc-pay')$$,
  (:'placed_c'::jsonb) -> 'installment' ->> 'id', :'amina_wallet'));
select is(pg_temp.balance(:'duka_wallet'), :'duka_c0'::numeric + 1000.01, 'plan C paid the merchant out (unpriced here)');
select pg_temp.balance(:'amina_wallet') as amina_c \gset
select is(pg_temp.as_user(:'duka', format($$select public.order_cancel('%s')$$, :'order_c')) ->> 'status', 'canceled',
  'the merchant cancels the paid-out order');
select is(pg_temp.balance(:'amina_wallet'), :'amina_c'::numeric + 1000.01, 'the customer has all 1000.01 back');
select is(pg_temp.balance(:'duka_wallet'), :'duka_c0'::numeric, 'taken back from the merchant''s wallet, to the cent');
select is((select stock from public.products where id = :'lamp'), 10, 'the lamp is back in stock');
select is((select (amount_refunded, amount_released)::text from public.installments where order_id = :'order_c'),
  '(1000.0100,0.0000)', 'the plan''s books: all refunded, nothing released');
select * from pg_temp.books_balance('the books reconcile at the end');

select * from finish();
rollback;
