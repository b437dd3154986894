-- Guest refunds by B2C payout to the paying phone (20261124001700_guest_refunds.sql): a refund
-- of a guest's M-Pesa payment is pending with its payout (the whole amount held on the payee
-- wallet towards payouts_in_flight), then succeeded (posted, settled against mpesa_clearing,
-- the fee share back) or failed (released; amount_refunded restored). Pending refunds count
-- against what is refundable; replays and duplicate provider answers change nothing; the
-- merchant cannot cancel the payout; too little money is refund_insufficient_funds; RLS of
-- the new columns and the payout from every role; reconciliation clean after each step and
-- noticing a broken one. The provider is played by the functions its confirmed answers call.
begin;
select plan(71);

\ir helpers.psql

select pg_temp.user_create('merchant', '52000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('merchant', '52000000-0000-4000-8000-00000000000b') as kibanda \gset
select pg_temp.user_create('customer', '52000000-0000-4000-8000-00000000000c') as amina \gset
select pg_temp.user_create('customer', '52000000-0000-4000-8000-00000000000d') as other \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'kibanda') as kibanda_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.wallet_open(:'other') as other_wallet \gset
select pg_temp.fund(:'amina_wallet', 1000);
select hazina.system_wallet('mpesa_clearing', 'KES') as clearing \gset
select hazina.system_wallet('fee_revenue', 'KES') as revenue \gset
select hazina.system_wallet('payouts_in_flight', 'KES') as in_flight \gset
insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('payment_intent', 150);
-- A withdrawal fee exists; a refund's payout is never charged it.
insert into public.billing_fee_catalog (transaction_type, fixed_amount)
select 'withdrawal', 25 where not exists (select 1 from public.billing_fee_catalog where transaction_type = 'withdrawal');

-- A guest pays p_amount by M-Pesa from p_phone into the merchant's intent (the provider's
-- confirmed answer is played by funding_complete).
create function pg_temp.guest_pays(p_merchant uuid, p_amount numeric, p_phone text, p_ref text) returns uuid
  language plpgsql as $$
declare
  v_intent jsonb;
  v_session uuid;
begin
  v_intent := pg_temp.as_user(p_merchant, format(
    $q$select public.payment_intent_create(%s, 'KES', 'automatic', null, 'Guest order', null, null, %L)$q$, p_amount, p_ref));
  v_session := (hazina.payment_intent_confirm((v_intent ->> 'id')::uuid, null,
    jsonb_build_array(jsonb_build_object('type', 'mpesa', 'phone', p_phone, 'amount', p_amount::text)),
    v_intent ->> 'client_secret') #>> '{mpesa,funding_session_id}')::uuid;
  perform hazina.funding_mark_requested(v_session, 'mr-' || p_ref, 'ws_CO_' || p_ref);
  perform hazina.funding_complete(v_session, p_amount, 'RC' || upper(substr(md5(p_ref), 1, 8)));
  return (v_intent ->> 'id')::uuid;
end $$;

-- What the payee wallet holds and has available, as 'balance/held'.
create function pg_temp.money(p_wallet uuid) returns text
  language sql as $$ select balance::numeric(19, 2) || '/' || (balance - available)::numeric(19, 2)
                       from public.wallet_balances where wallet_id = p_wallet $$;

-- 1. A guest pays 1000 (fee 15.00): the merchant has 985.00.
select pg_temp.guest_pays(:'duka', 1000, '254712520001', 'gr-1') as pi1 \gset
select is(pg_temp.money(:'duka_wallet'), '985.00/0.00', 'the guest paid 1000 less the 15.00 fee');
select is((select sum(amount) from public.payment_intent_parts where payment_intent_id = :'pi1'), 1000.0000::numeric,
  'one M-Pesa part');

-- 2. A refund of 400: pending, its payout to the paying phone, the whole amount held.
select pg_temp.act_as(:'duka');
select public.payment_refund_create(:'pi1', 400, 'damaged', 'gr-1-a') as r1 \gset
select is((:'r1'::jsonb) ->> 'status', 'pending', 'a guest''s refund is pending');
select is((:'r1'::jsonb) ->> 'fee_refunded', '6.0000', 'its fee share is 15.00 × 400 / 1000 = 6.00 (given back on success)');
select is((:'r1'::jsonb) ->> 'transaction_id', null, 'nothing is posted yet');
select isnt((:'r1'::jsonb) ->> 'payout_id', null, 'it has a payout');
reset role;
select (:'r1'::jsonb) ->> 'id' as r1_id, (:'r1'::jsonb) ->> 'payout_id' as p1 \gset
select is((select w.msisdn || ':' || coalesce(w.source_id::text, 'no source') || ':' || w.status || ':' || w.amount || ':'
                  || (w.wallet_id = :'duka_wallet') || ':' || w.user_id
             from public.wallet_withdrawals w where w.id = :'p1'),
  '254712520001:no source:pending:400.0000:true:' || :'duka', 'the payout goes from the payee wallet to the phone that paid');
select is((select h.status || ':' || h.amount || ':' || h.fee_amount || ':' || h.transaction_type || ':' || (h.counterparty_id = :'in_flight')
             from public.wallet_holds h join public.wallet_withdrawals w on w.hold_id = h.id where w.id = :'p1'),
  'pending:400.0000:0.0000:refund_payout:true', 'its hold: 400 towards payouts_in_flight, no withdrawal fee');
select is(pg_temp.money(:'duka_wallet'), '985.00/400.00', 'the merchant''s 400 is held, not moved');
select is((select amount_refunded from public.payment_intents where id = :'pi1'), 400.0000::numeric,
  'amount_refunded counts the pending refund');
select is((select count(*)::int from public.events where object_id = :'r1_id' and type = 'payment_refund.created'), 1,
  'payment_refund.created, in the same transaction');
select * from pg_temp.books_balance('the books reconcile with a pending guest refund');

-- 3. Replays and limits: the same key is the same refund (one payout); pending counts.
select pg_temp.act_as(:'duka');
select is(public.payment_refund_create(:'pi1', 400, 'damaged', 'gr-1-a') ->> 'created', 'false', 'the same key replays it');
select throws_ok(format($$select public.payment_refund_create('%s', 601, null, 'gr-1-x')$$, :'pi1'),
  'P0001', 'refund_exceeds_captured', 'only 600 is refundable while 400 is pending');
select throws_ok(format($$select public.payment_refund_create('%s', 100.50, null, 'gr-1-y')$$, :'pi1'),
  'P0001', 'invalid_amount', 'M-Pesa pays whole shillings only');
select throws_ok(format($$select public.withdrawal_cancel('%s')$$, :'p1'),
  'P0001', 'withdrawal_not_cancellable', 'the merchant cannot cancel a refund''s payout');
reset role;
select is((select count(*)::int from public.wallet_withdrawals where user_id = :'duka'), 1, 'one payout');

-- 4. M-Pesa pays it (duplicated answer): succeeded once; the fee share comes back.
select hazina.withdrawal_mark_submitted(:'p1');
select hazina.withdrawal_mark_processing(:'p1', 'AG_gr_1');
select is(hazina.withdrawal_complete(:'p1', 'RCGR1PAID', 400) ->> 'status', 'completed', 'the payout completes');
select is(hazina.withdrawal_complete(:'p1', 'RCGR1PAID', 400) ->> 'replayed', 'true', 'a duplicate answer is a replay');
select is((select status from public.payment_refunds where id = :'r1_id'), 'succeeded', 'the refund succeeded');
select is(pg_temp.money(:'duka_wallet'), '591.00/0.00', '985 − 400 + the 6.00 fee share');
select is((select t.principal_amount || ':' || t.kind from public.payment_refunds r join public.wallet_transactions t on t.id = r.transaction_id
            where r.id = :'r1_id'), '400.0000:refund_payout', 'its transaction is the posted payout');
select is((select t.reverses_id from public.payment_refunds r join public.wallet_transactions t on t.id = r.fee_transaction_id
            where r.id = :'r1_id'), (select capture_transaction_id from public.payment_intents where id = :'pi1'),
  'its fee share is a reversal of the capture');
select is((select b.amount::numeric from public.billing_ledger b join public.payment_refunds r on r.fee_transaction_id = b.transaction_id
            where r.id = :'r1_id' and b.direction = 'refund'), 6.0000::numeric, 'billed as a refund of the capture''s fee');
select is((select count(*)::int from public.events where object_id = :'r1_id' and type = 'payment_refund.succeeded'), 1,
  'payment_refund.succeeded once');
select is((select fee::numeric from public.wallet_withdrawals where id = :'p1'), 0.0000::numeric, 'no withdrawal fee was charged');
select * from pg_temp.books_balance('the books reconcile after a paid guest refund');
select throws_ok(format($$select hazina.withdrawal_fail('%s', '2001', 'forged')$$, :'p1'),
  'P0001', 'withdrawal_not_pending', 'a paid refund cannot fail afterwards');

-- 5. A refund of 300 whose payout fails (twice): the money stays, 300 is refundable again.
select pg_temp.act_as(:'duka');
select public.payment_refund_create(:'pi1', 300, null, 'gr-1-b') as r2 \gset
reset role;
select (:'r2'::jsonb) ->> 'id' as r2_id, (:'r2'::jsonb) ->> 'payout_id' as p2 \gset
select is((:'r2'::jsonb) ->> 'fee_refunded', '4.5000', '15.00 × 300 / 1000 = 4.50');
select is(pg_temp.money(:'duka_wallet'), '591.00/300.00', '300 held');
select hazina.withdrawal_mark_submitted(:'p2');
select is(hazina.withdrawal_fail(:'p2', '2001', 'The initiator information is invalid.') ->> 'status', 'failed', 'the payout fails');
select is(hazina.withdrawal_fail(:'p2', '2001', 'again') ->> 'status', 'failed', 'a duplicate failure is a no-op');
select is((select status || ':' || fee_refunded || ':' || failure_code from public.payment_refunds where id = :'r2_id'),
  'failed:0.0000:2001', 'the refund failed and gave nothing back');
select is(pg_temp.money(:'duka_wallet'), '591.00/0.00', 'the hold is released: nothing moved');
select is((select amount_refunded from public.payment_intents where id = :'pi1'), 400.0000::numeric, 'amount_refunded restored');
select is((select count(*)::int from public.events where object_id = :'r2_id' and type = 'payment_refund.failed'), 1,
  'payment_refund.failed once');
select throws_ok(format($$select hazina.withdrawal_complete('%s', 'RCLATE', 300)$$, :'p2'),
  'P0001', 'withdrawal_not_pending', 'a failed payout cannot complete afterwards');
select throws_ok(format($$select hazina.payment_refund_succeed('%s')$$, :'r2_id'),
  'P0001', 'refund_not_pending', 'nor its refund succeed');
select * from pg_temp.books_balance('the books reconcile after a failed guest refund');

-- 6. The rest: 100 then all that remains (500, which completes it and takes the rest of the fee).
-- The whole amounts must be available (591 + a 9.00 top-up = 600): fee shares come back on success.
select pg_temp.fund(:'duka_wallet', 9);
select pg_temp.act_as(:'duka');
select public.payment_refund_create(:'pi1', 100, null, 'gr-1-c') as r3 \gset
select public.payment_refund_create(:'pi1', null, null, 'gr-1-d') as r4 \gset
select is((:'r3'::jsonb) ->> 'fee_refunded', '1.5000', '100 gives back 1.50');
select is((:'r4'::jsonb) ->> 'amount' || ':' || ((:'r4'::jsonb) ->> 'fee_refunded'), '500.0000:7.5000',
  'the last 500 takes the rest of the fee: 15 − 6 − 1.50');
select throws_ok(format($$select public.payment_refund_create('%s', null, null, 'gr-1-e')$$, :'pi1'),
  'P0001', 'refund_exceeds_captured', 'nothing is left while they are pending');
reset role;
select hazina.withdrawal_mark_submitted(((:'r3'::jsonb) ->> 'payout_id')::uuid);
select hazina.withdrawal_mark_submitted(((:'r4'::jsonb) ->> 'payout_id')::uuid);
select hazina.withdrawal_complete(((:'r3'::jsonb) ->> 'payout_id')::uuid, 'RCGR3PAID', 100);
select hazina.withdrawal_complete(((:'r4'::jsonb) ->> 'payout_id')::uuid, 'RCGR4PAID', null);
select is(pg_temp.money(:'duka_wallet'), '9.00/0.00', 'fully refunded, only the top-up is left: the fee came back in full');
select is((select sum(fee_refunded) from public.payment_refunds where payment_intent_id = :'pi1'), 15.0000::numeric,
  'exactly the fee came back');
select is((select amount_refunded || ':' || amount_received from public.payment_intents where id = :'pi1'), '1000.0000:1000.0000',
  'the intent is refunded in full');
select * from pg_temp.books_balance('the books reconcile after a fully refunded guest payment');

-- 7. Too little money: a merchant with only its 98.50 from a guest's 100 cannot pay 100 back.
select pg_temp.guest_pays(:'kibanda', 100, '254712520002', 'gr-2') as pi2 \gset
select pg_temp.act_as(:'kibanda');
select throws_ok(format($$select public.payment_refund_create('%s', null, null, 'gr-2-a')$$, :'pi2'),
  'P0001', 'refund_insufficient_funds', 'the whole amount must be available (the fee share comes back on success)');
reset role;
select is((select count(*)::int from public.payment_refunds where payment_intent_id = :'pi2'), 0, 'no refund');
select is((select count(*)::int from public.wallet_withdrawals where user_id = :'kibanda'), 0, 'no payout');
select is(pg_temp.money(:'kibanda_wallet'), '98.50/0.00', 'nothing moved');

-- A guest's payment of an order (or an installment plan) is not refunded by payout: those
-- are paid by a signed-in customer only (invoices: 55_invoice_guest_refunds.test.sql).
savepoint subject;
update public.payment_intents set subject_type = 'order', subject_id = gen_random_uuid() where id = :'pi2';
select pg_temp.act_as(:'kibanda');
select throws_ok(format($$select public.payment_refund_create('%s', 10, null, 'gr-2-inv')$$, :'pi2'),
  'P0001', 'refund_not_supported', 'a guest''s order payment is refused (nothing moves)');
reset role;
rollback to savepoint subject;

-- 8. A signed-in customer's refund is unchanged: to the wallet at once.
select pg_temp.act_as(:'kibanda');
select (public.payment_intent_create(200, 'KES', 'automatic', :'amina', 'Signed in', null, null, 'gr-3') ->> 'id') as pi3 \gset
select pg_temp.act_as(:'amina');
select public.payment_intent_confirm(:'pi3', format('[{"type":"wallet","wallet_id":"%s","amount":"200"}]', :'amina_wallet')::jsonb);
select pg_temp.act_as(:'kibanda');
select public.payment_refund_create(:'pi3', 50, null, 'gr-3-a') as r5 \gset
select is((:'r5'::jsonb) ->> 'status' || ':' || coalesce((:'r5'::jsonb) ->> 'payout_id', 'none'), 'succeeded:none',
  'a wallet refund succeeds at once, no payout');
reset role;
select is(pg_temp.balance(:'amina_wallet'), 850.0000::numeric, 'the customer has 50 back');
-- Now kibanda can refund the guest partly (98.50 + 197.00 − 50 + 0.75 available).
select pg_temp.act_as(:'kibanda');
select public.payment_refund_create(:'pi2', 60, null, 'gr-2-b') as r6 \gset
reset role;

-- 9. Row level security: the refund and its payout, from every role.
select pg_temp.act_as(:'kibanda');
select is((select status || ':' || (payout_id is not null) from public.payment_refunds where id = ((:'r6'::jsonb) ->> 'id')::uuid),
  'pending:true', 'the merchant reads its pending refund');
select is((select count(*)::int from public.wallet_withdrawals where id = ((:'r6'::jsonb) ->> 'payout_id')::uuid), 1,
  'and its payout (money leaving its wallet)');
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.payment_refunds where id = ((:'r6'::jsonb) ->> 'id')::uuid), 0,
  'another merchant does not see the refund');
select is((select count(*)::int from public.wallet_withdrawals where id = ((:'r6'::jsonb) ->> 'payout_id')::uuid), 0,
  'nor its payout');
select throws_ok(format($$select hazina.payment_refund_fail('%s', 'x', 'y')$$, (:'r6'::jsonb) ->> 'id'),
  '42501', null, 'a user cannot settle a refund');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.payment_refunds where payment_intent_id = :'pi2'), 0,
  'another user sees no refund of a guest''s payment');
select pg_temp.act_as(:'amina');
select is((select count(*)::int from public.payment_refunds where payment_intent_id = :'pi2'), 0,
  'nor does a customer (a guest''s refund names none)');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.payment_refunds$$, '42501', null, 'anon reads no refunds');
select throws_ok($$select count(*) from public.wallet_withdrawals$$, '42501', null, 'nor payouts');
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.payment_refunds where payment_intent_id = :'pi2'), 1, 'the service role reads it');
reset role;

-- 10. Reconciliation notices a pending refund without its hold, and a paid one without its fee.
savepoint broken;
update public.wallet_holds set amount = amount - 1
 where id = (select hold_id from public.wallet_withdrawals where id = ((:'r6'::jsonb) ->> 'payout_id')::uuid);
select is((select array_agg(distinct check_name) from hazina.reconcile_guest_refunds()),
  array['guest_refund_pending_is_held'], 'a pending refund whose hold is short is reported');
rollback to savepoint broken;
savepoint broken2;
update public.payment_refunds set fee_refunded = fee_refunded + 1 where id = :'r1_id';
select ok('guest_refund_fee_is_billed' = any (select check_name from hazina.reconcile_guest_refunds()),
  'a succeeded refund whose fee share is not what was billed is reported');
rollback to savepoint broken2;
select * from pg_temp.books_balance('the books reconcile at the end');

select * from finish();
rollback;
