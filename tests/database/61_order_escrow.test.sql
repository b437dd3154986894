-- Orders after payment: fulfilment (dispatch, deliver, confirm receipt), refunds (partial,
-- by lines, never above what was paid), the merchant's cancel after payment (full refund,
-- restock); goods escrow: funded on payment, released on confirmation (escrow_release fee,
-- receiver pays) or automatically after the window (job, hazina.clock()), disputes and an
-- admin's resolution (release, refund, split), each refused transition a stable code; the
-- escrow wallet always holds what it owes (reconciliation).
begin;
select plan(75);

\ir helpers.psql

select pg_temp.user_create('merchant', '61000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '61000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('customer', '61000000-0000-4000-8000-00000000000c') as other \gset
select pg_temp.user_create('admin', '61000000-0000-4000-8000-00000000000e') as admin \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 10000);
select hazina.system_wallet('escrow') as escrow_wallet \gset
select pg_temp.balance(:'escrow_wallet') as escrow_before \gset
-- The merchant bears 2% on an escrow release and nothing on a direct order here.
insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('escrow_release', 200);

select pg_temp.act_as(:'duka');
select public.shop_create('Duka', 'duka-61', 'KES', 'optional', 3) ->> 'id' as shop \gset
select public.product_create(:'shop', 'Radio', 'RADIO', 1000, 20) ->> 'id' as radio \gset
select public.product_create(:'shop', 'Battery', 'BATT', 50, 100) ->> 'id' as batt \gset

-- A helper: the customer places and pays an order; returns its id.
create function pg_temp.paid_order(p_ref text, p_radios int, p_batts int, p_escrow boolean) returns uuid
  language plpgsql as $$
declare
  v_order jsonb;
begin
  reset role;  -- the fixture looks rows up as the owner; as_user acts as the customer
  v_order := pg_temp.as_user('61000000-0000-4000-8000-00000000000b', format(
    $q$select public.order_create('%s', '[{"product_id": "%s", "quantity": %s}, {"product_id": "%s", "quantity": %s}]', %L, null, %L)$q$,
    (select id from public.shops where slug = 'duka-61'), (select id from public.products where sku = 'RADIO' and shop_id = (select id from public.shops where slug = 'duka-61')), p_radios,
    (select id from public.products where sku = 'BATT' and shop_id = (select id from public.shops where slug = 'duka-61')), p_batts, p_escrow, p_ref));
  perform pg_temp.as_user('61000000-0000-4000-8000-00000000000b', format(
    $q$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "%s"}]')$q$,
    v_order #>> '{payment_intent,id}', (select id from public.wallets where user_id = '61000000-0000-4000-8000-00000000000b'),
    v_order ->> 'total'));
  return (v_order ->> 'id')::uuid;
end $$;

-- Direct order: dispatch, deliver, refunds.
select pg_temp.paid_order('d-1', 1, 4, false) as d1 \gset
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.order_dispatch('%s')$$, :'d1'), 'P0001', 'order_not_found', 'the customer cannot dispatch');
select throws_ok(format($$select public.order_dispute('%s', 'broken')$$, :'d1'), 'P0001', 'order_not_disputable',
  'a direct order has no escrow to dispute');
select pg_temp.act_as(:'other');
select throws_ok(format($$select public.order_refund('%s', null, null, null, 'r-x')$$, :'d1'), 'P0001', 'order_not_found',
  'another user cannot refund it');
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.order_deliver('%s')$$, :'d1'), 'P0001', 'order_not_deliverable', 'not before dispatch');
select is(public.order_dispatch(:'d1') ->> 'status', 'fulfilled', 'the merchant dispatches: fulfilled');
select throws_ok(format($$select public.order_dispatch('%s')$$, :'d1'), 'P0001', 'order_not_dispatchable', 'once');
select is(public.order_refund(:'d1', null, format('[{"product_id": "%s", "quantity": 2}]', :'batt')::jsonb, 'two flat', 'r-1') ->> 'amount_refunded',
  '100.0000', 'a refund of two lines: their snapshot price');
select is(public.order_refund(:'d1', null, format('[{"product_id": "%s", "quantity": 2}]', :'batt')::jsonb, 'two flat', 'r-1') ->> 'amount_refunded',
  '100.0000', 'the same key does not refund twice');
select throws_ok(format($$select public.order_refund('%s', null, '[{"product_id": "%s", "quantity": 3}]', null, 'r-2')$$, :'d1', :'batt'),
  'P0001', 'refund_exceeds_paid', 'no more units than were sold and not refunded');
select throws_ok(format($$select public.order_refund('%s', 1100.01, null, null, 'r-3')$$, :'d1'),
  'P0001', 'refund_exceeds_paid', 'never above what was paid and not refunded');
select throws_ok(format($$select public.order_refund('%s', 10, '[]', null, 'r-4')$$, :'d1'),
  'P0001', 'invalid_argument', 'an amount or items, not both');
select is(public.order_deliver(:'d1') ->> 'status', 'completed', 'delivered: a direct order is completed');
select is((select count(*)::int from public.payment_refunds where payment_intent_id = (select payment_intent_id from public.orders where id = :'d1')),
  1, 'the refund is a refund of the order''s intent');
select is(public.order_refund(:'d1', null, null, null, 'r-5') ->> 'status', 'refunded', 'refunding the rest: refunded');
select is((select array[amount_paid::text, amount_refunded::text] from public.orders where id = :'d1'), array['1200.0000', '1200.0000'],
  'refunds reached what was paid');
select throws_ok(format($$select public.order_refund('%s', 1, null, null, 'r-6')$$, :'d1'), 'P0001', 'order_not_refundable',
  'nothing left to refund');

-- The merchant cancels a paid order: full refund, stock back.
select (select stock from public.products where id = :'radio') as radios_before \gset
select pg_temp.paid_order('d-2', 2, 0 + 1, false) as d2 \gset
select pg_temp.act_as(:'duka');
select is(public.order_cancel(:'d2', 'sold out') ->> 'status', 'canceled', 'the merchant cancels a paid order');
select is((select array[amount_refunded::text, cancellation_reason] from public.orders where id = :'d2'), array['2050.0000', 'sold out'],
  'everything is refunded');
select is((select stock from public.products where id = :'radio'), :'radios_before'::int, 'and the stock is back');
select pg_temp.paid_order('d-3', 1, 1, false) as d3 \gset
select pg_temp.act_as(:'duka');
select public.order_dispatch(:'d3');
select throws_ok(format($$select public.order_cancel('%s')$$, :'d3'), 'P0001', 'order_not_cancelable', 'not once dispatched (refund instead)');
select pg_temp.act_as(:'amina');
select is(public.order_confirm_receipt(:'d3') ->> 'status', 'completed', 'the buyer confirms a direct order: completed');

-- Escrowed order: funded, dispatched, delivered, confirmed → released with the fee.
reset role;
select pg_temp.balance(:'duka_wallet') as duka_before \gset
select pg_temp.paid_order('e-1', 1, 0 + 1, true) as e1 \gset
select id as e1_escrow from public.goods_escrows where order_id = :'e1' \gset
select is((select array[status, amount::text] from public.goods_escrows where order_id = :'e1'), array['funded', '1050.0000'],
  'paying an escrowed order funds its escrow');
select is(pg_temp.balance(:'escrow_wallet') - :'escrow_before'::numeric, 1050.0000::numeric, 'the money is in the escrow wallet');
select is(pg_temp.balance(:'duka_wallet'), :'duka_before'::numeric, 'not the merchant''s');
select is((select count(*)::int from public.billing_ledger b join public.orders o on true join public.payment_intents i on i.id = o.payment_intent_id
            where o.id = :'e1' and b.transaction_id = i.capture_transaction_id), 0, 'escrow funding charged no fee');
select * from pg_temp.books_balance('the books balance with money in escrow');
select pg_temp.act_as(:'amina');
select is((select status from public.goods_escrows where id = :'e1_escrow'), 'funded', 'the customer reads its escrow');
select throws_ok(format($$select public.order_confirm_receipt('%s')$$, :'e1'), 'P0001', 'order_not_confirmable',
  'nothing to confirm before dispatch');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.goods_escrows), 0, 'another user sees no escrow');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.goods_escrows$$, '42501', null, 'anon cannot read escrows at all');
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.goods_escrows where id = :'e1_escrow'), 1, 'service_role reads every escrow');
select pg_temp.act_as(:'admin');
select is((select count(*)::int from public.orders o join public.goods_escrows e on e.order_id = o.id where e.id = :'e1_escrow'), 1,
  'an admin reads the order and its escrow (to judge disputes)');
select pg_temp.act_as(:'duka');
select is((select status from public.goods_escrows where id = :'e1_escrow'), 'funded', 'the merchant reads its escrow');
select throws_ok(format($$update public.goods_escrows set status = 'released' where id = '%s'$$, :'e1_escrow'), '42501', null,
  'nobody writes an escrow directly');
select pg_temp.act_as(:'duka');
select public.order_dispatch(:'e1');
select is(public.order_deliver(:'e1') #>> '{goods_escrow,status}', 'delivered', 'delivered: the inspection window opens');
reset role;
select ok((select auto_release_at between hazina.clock() + interval '3 days' - interval '1 minute' and hazina.clock() + interval '3 days'
             from public.goods_escrows where id = :'e1_escrow'), 'auto-release in auto_release_days (3)');
select pg_temp.act_as(:'amina');
select is(public.order_confirm_receipt(:'e1') ->> 'status', 'completed', 'the buyer confirms receipt: completed');
reset role;
select is((select array[status, released_amount::text] from public.goods_escrows where id = :'e1_escrow'), array['released', '1050.0000'],
  'the escrow is released');
select is(pg_temp.balance(:'duka_wallet') - :'duka_before'::numeric, 1029.0000::numeric, 'the merchant received it less the 2% escrow_release fee');
select is(pg_temp.balance(:'escrow_wallet'), :'escrow_before'::numeric, 'the escrow wallet is back to what it held');
select is((select kind::text from public.wallet_transactions where ref = 'escrow:' || :'e1_escrow' || ':release'), 'escrow_release',
  'one release transaction, ref escrow:<id>:release');
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.order_refund('%s', 10, null, null, 'er-1')$$, :'e1'), 'P0001', 'order_not_refundable',
  'a released escrow cannot be refunded');
select throws_ok(format($$select public.payment_refund_create('%s', 10, null, 'er-2')$$,
  (select payment_intent_id from public.orders where id = :'e1')), 'P0001', 'order_not_refundable',
  'not even through the intent itself');

-- Auto-release: nothing before the window ends; once, with the clock moved on.
select pg_temp.paid_order('e-2', 1, 0 + 1, true) as e2 \gset
select id as e2_escrow from public.goods_escrows where order_id = :'e2' \gset
select pg_temp.act_as(:'duka');
select public.order_dispatch(:'e2');
select public.order_deliver(:'e2');
reset role;
select is((hazina.run_job('orders.release_escrows') #>> '{report,processed}')::int, 0, 'nothing is due before the window ends');
select hazina.clock_travel(interval '3 days 1 minute');
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.order_dispute('%s', 'late')$$, :'e2'), 'P0001', 'dispute_window_closed',
  'no dispute after the window');
reset role;
select is((hazina.run_job('orders.release_escrows') #>> '{report,processed}')::int, 1, 'the job releases it once the window passed');
select is((hazina.run_job('orders.release_escrows') #>> '{report,processed}')::int, 0, 'and never again');
select is((select array[e.status, o.status] from public.goods_escrows e join public.orders o on o.id = e.order_id where e.id = :'e2_escrow'),
  array['released', 'completed'], 'released, completed');
select hazina.clock_travel(null, true);

-- A release the ledger refuses (the merchant's wallet is frozen) fails alone and stays due.
select pg_temp.user_create('merchant', '61000000-0000-4000-8000-00000000001a') as mama \gset
select pg_temp.wallet_open(:'mama') as mama_wallet \gset
select (pg_temp.as_user(:'mama', $$select public.shop_create('Mama', 'mama-61', 'KES', 'required', 1)$$) ->> 'id') as mama_shop \gset
select (pg_temp.as_user(:'mama', format($$select public.product_create('%s', 'Mat', 'MAT', 300, null)$$, :'mama_shop')) ->> 'id') as mat \gset
select pg_temp.as_user(:'amina', format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'm-1')$$,
  :'mama_shop', :'mat')) as m1 \gset
select pg_temp.as_user(:'amina', format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "300.00"}]')$$,
  (:'m1'::jsonb) #>> '{payment_intent,id}', :'amina_wallet'));
select pg_temp.as_user(:'mama', format($$select public.order_dispatch('%s')$$, (:'m1'::jsonb) ->> 'id'));
select pg_temp.as_user(:'mama', format($$select public.order_deliver('%s')$$, (:'m1'::jsonb) ->> 'id'));
select pg_temp.paid_order('e-2b', 1, 1, true) as e2b \gset
select pg_temp.as_user(:'duka', format($$select public.order_dispatch('%s')$$, :'e2b'));
select pg_temp.as_user(:'duka', format($$select public.order_deliver('%s')$$, :'e2b'));
reset role;
update public.wallets set status = 'frozen' where id = :'mama_wallet';
select hazina.clock_travel(interval '4 days');
select is((hazina.run_job('orders.release_escrows') -> 'report') - 'remaining', '{"processed": 1, "failed": 1}'::jsonb,
  'the frozen merchant''s release fails alone; the other is released');
select is((select status from public.goods_escrows where order_id = ((:'m1'::jsonb) ->> 'id')::uuid), 'delivered', 'and stays due');
update public.wallets set status = 'active' where id = :'mama_wallet';
select is((hazina.run_job('orders.release_escrows') -> 'report') - 'remaining', '{"processed": 1, "failed": 0}'::jsonb,
  'released once the wallet is active again');
select hazina.clock_travel(null, true);

-- Dispute and resolution.
select pg_temp.paid_order('e-3', 2, 0 + 2, true) as e3 \gset
select id as e3_escrow from public.goods_escrows where order_id = :'e3' \gset
select pg_temp.act_as(:'duka');
select public.order_dispatch(:'e3');
select public.order_deliver(:'e3');
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.order_dispute('%s', '')$$, :'e3'), 'P0001', 'invalid_argument', 'a dispute says why');
select is(public.order_dispute(:'e3', 'one radio is broken') #>> '{goods_escrow,status}', 'disputed', 'the buyer disputes');
select throws_ok(format($$select public.order_confirm_receipt('%s')$$, :'e3'), 'P0001', 'order_not_confirmable',
  'a disputed escrow waits for the decision');
reset role;
select is((hazina.run_job('orders.release_escrows') #>> '{report,processed}')::int, 0, 'and is never auto-released');
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.ops_escrow_resolve('%s', 'release')$$, :'e3_escrow'), 'P0001', 'forbidden',
  'the merchant cannot resolve its own dispute');
select pg_temp.act_as(:'admin');
select throws_ok(format($$select public.ops_escrow_resolve('%s', 'split', 2100)$$, :'e3_escrow'), 'P0001', 'invalid_argument',
  'a split gives the buyer less than is held');
select throws_ok(format($$select public.ops_escrow_resolve('%s', 'split')$$, :'e3_escrow'), 'P0001', 'invalid_argument',
  'a split names the buyer''s part');
reset role;
select pg_temp.balance(:'amina_wallet') as amina_before \gset
select pg_temp.balance(:'duka_wallet') as duka_before2 \gset
select pg_temp.act_as(:'admin');
select is(public.ops_escrow_resolve(:'e3_escrow', 'split', 1000, 'one radio refunded') ->> 'status', 'split', 'the admin splits');
reset role;
select is(pg_temp.balance(:'amina_wallet') - :'amina_before'::numeric, 1000.0000::numeric, 'the buyer gets its part back');
select is(pg_temp.balance(:'duka_wallet') - :'duka_before2'::numeric, 1078.0000::numeric, 'the merchant the rest (1100) less 2%');
select is((select array[released_amount::text, refunded_amount::text, resolution, resolved_by::text] from public.goods_escrows where id = :'e3_escrow'),
  array['1100.0000', '1000.0000', 'split', :'admin'], 'the two parts sum to the escrowed amount');
select ok(exists (select 1 from public.audit_logs where table_name = 'goods_escrows' and row_id = :'e3_escrow'
                   and actor_id = :'admin'::uuid and new_values ->> 'resolution' = 'split'), 'the resolution is audited with the admin');
select pg_temp.act_as(:'admin');
select throws_ok(format($$select public.ops_escrow_resolve('%s', 'refund')$$, :'e3_escrow'), 'P0001', 'escrow_not_disputed',
  'a resolved escrow is not resolved again');

-- A dispute refunded in full by the admin; a merchant's cancel of a funded escrow.
select pg_temp.paid_order('e-4', 1, 0 + 1, true) as e4 \gset
select pg_temp.act_as(:'amina');
select public.order_dispute(:'e4', 'never arrived');
select pg_temp.act_as(:'admin');
select is(public.ops_escrow_resolve((select id from public.goods_escrows where order_id = :'e4'), 'refund') ->> 'status', 'refunded',
  'the admin refunds');
select is((select status from public.orders where id = :'e4'), 'refunded', 'the order is refunded');
select pg_temp.paid_order('e-5', 1, 0 + 1, true) as e5 \gset
select pg_temp.act_as(:'duka');
select is(public.order_refund(:'e5', 50, null, 'battery missing', 'er-5') #>> '{goods_escrow,refunded_amount}', '50.0000',
  'a partial refund comes out of escrow');
select is(public.order_cancel(:'e5') #>> '{goods_escrow,status}', 'refunded', 'cancelling the funded escrow refunds the rest');
select is((select array[status, amount_refunded::text] from public.orders where id = :'e5'), array['canceled', '1050.0000'],
  'canceled, all refunded');

reset role;
select is((select array_agg(distinct type order by type) from public.events where object_type = 'goods_escrow'),
  array['escrow.delivered', 'escrow.dispatched', 'escrow.disputed', 'escrow.funded', 'escrow.refunded', 'escrow.released',
        'escrow.resolved', 'escrow.split'], 'every escrow transition is an event');
select ok((select count(*) from public.events where object_type = 'order' and type = 'order.fulfilled') >= 4, 'order.fulfilled events');
select is(pg_temp.balance(:'escrow_wallet'), :'escrow_before'::numeric, 'the escrow wallet holds nothing for settled escrows');
select * from pg_temp.books_balance();
select * from finish();
rollback;
