-- Guest refunds of invoice payments (20261124001920_invoice_guest_refunds.sql): a guest who
-- paid an invoice by M-Pesa (its pay link) is refunded by payout, pending until it settles.
-- The invoice reacts at creation (owed again, open again); success changes nothing more; a
-- failure counts the money as paid again (closed as paid when nothing is due) with
-- invoice.refund_failed. While a guest refund is pending the invoice takes no payment and
-- cannot be voided (its unconfirmed intents are canceled at the refund; one being paid
-- refuses the refund), so the undo never over-pays it. Orders and installment plans stay
-- refused. RLS unchanged from every role. Reconciliation clean after each step and noticing a
-- payment taken while a refund was pending. The provider is played by the functions its
-- confirmed answers call.
begin;
select plan(75);

\ir helpers.psql

select pg_temp.user_create('merchant', '54000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('merchant', '54000000-0000-4000-8000-00000000000b') as kibanda \gset
select pg_temp.user_create('customer', '54000000-0000-4000-8000-00000000000c') as amina \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'kibanda') as kibanda_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('payment_intent', 150);

-- The merchant issues an invoice of p_amount to a guest (by email) and finalises it; returns its pay token.
create function pg_temp.invoice(p_merchant uuid, p_amount numeric, p_partial boolean, p_ref text) returns text
  language plpgsql as $$
declare
  v_inv jsonb;
begin
  v_inv := pg_temp.as_user(p_merchant, format($q$select public.invoice_create(%L::jsonb, %L)$q$,
    jsonb_build_object('customer_email', 'guest@example.com', 'allow_partial_payment', p_partial,
      'items', jsonb_build_array(jsonb_build_object('description', 'Catering', 'quantity', '1', 'unit_amount', p_amount::text))),
    p_ref));
  return pg_temp.as_user(p_merchant, format($q$select public.invoice_finalize(%L)$q$, v_inv ->> 'id')) ->> 'pay_token';
end $$;

-- A guest opens the pay link's intent for p_amount and confirms it by M-Pesa from p_phone;
-- p_complete: the provider's confirmed answer arrives (else the intent stays processing).
create function pg_temp.guest_pays(p_token text, p_amount numeric, p_phone text, p_ref text, p_complete boolean default true)
  returns uuid
  language plpgsql as $$
declare
  v_intent jsonb := hazina.invoice_pay(null, null, p_amount, p_token);
  v_session uuid;
begin
  v_session := (hazina.payment_intent_confirm((v_intent ->> 'id')::uuid, null,
    jsonb_build_array(jsonb_build_object('type', 'mpesa', 'phone', p_phone, 'amount', p_amount::text)),
    v_intent ->> 'client_secret') #>> '{mpesa,funding_session_id}')::uuid;
  perform hazina.funding_mark_requested(v_session, 'mr-' || p_ref, 'ws_CO_' || p_ref);
  if p_complete then
    perform hazina.funding_complete(v_session, p_amount, 'RC' || upper(substr(md5(p_ref), 1, 8)));
  end if;
  return (v_intent ->> 'id')::uuid;
end $$;

-- An invoice as 'status:amount_paid:amount_due:paid?'.
create function pg_temp.inv(p_token text) returns text
  language sql as $$ select status || ':' || amount_paid::numeric(19, 2) || ':' || amount_due::numeric(19, 2) || ':'
                            || (paid_at is not null) from public.invoices where pay_token = p_token $$;
create function pg_temp.inv_events(p_token text, p_type text) returns integer
  language sql as $$ select count(*)::int from public.events e join public.invoices i on i.id = e.object_id
                      where i.pay_token = p_token and e.type = p_type $$;
create function pg_temp.money(p_wallet uuid) returns text
  language sql as $$ select balance::numeric(19, 2) || '/' || (balance - available)::numeric(19, 2)
                       from public.wallet_balances where wallet_id = p_wallet $$;
create function pg_temp.refund(p_merchant uuid, p_intent uuid, p_amount numeric, p_ref text) returns jsonb
  language sql as $$ select pg_temp.as_user(p_merchant, format($q$select public.payment_refund_create(%L, %s, null, %L)$q$,
                                              p_intent, coalesce(p_amount::text, 'null'), p_ref)) $$;

-- 1. A guest pays a 1000 invoice in full by M-Pesa: paid; the merchant has 985.00.
select pg_temp.invoice(:'duka', 1000, false, 'igr-inv-a') as tok_a \gset
select id as inv_a from public.invoices where pay_token = :'tok_a' \gset
select pg_temp.guest_pays(:'tok_a', 1000, '254712540001', 'igr-1') as pi1 \gset
select is(pg_temp.inv(:'tok_a'), 'paid:1000.00:0.00:true', 'the guest paid the invoice');
select is((select customer_id from public.payment_intents where id = :'pi1'), null, 'a guest''s intent (no customer)');
select is(pg_temp.money(:'duka_wallet'), '985.00/0.00', '1000 less the 15.00 fee');

-- 2. Refund 400: pending, by payout to the phone; the invoice is owed 400 again at once.
select pg_temp.refund(:'duka', :'pi1', 400, 'igr-1-a') as r1 \gset
select (:'r1'::jsonb) ->> 'id' as r1_id, (:'r1'::jsonb) ->> 'payout_id' as p1 \gset
select is((:'r1'::jsonb) ->> 'status', 'pending', 'a guest''s invoice refund is pending, no longer refused');
select is((select msisdn || ':' || amount::numeric(19, 2) from public.wallet_withdrawals where id = :'p1'), '254712540001:400.00',
  'its payout goes to the paying phone');
select is(pg_temp.inv(:'tok_a'), 'open:600.00:400.00:false', 'the invoice is open again, 400 due, at creation');
select is(pg_temp.inv_events(:'tok_a', 'invoice.payment_refunded'), 1, 'invoice.payment_refunded');
select is(pg_temp.money(:'duka_wallet'), '985.00/400.00', '400 held for the payout');
select * from pg_temp.books_balance('the books reconcile with a pending invoice guest refund');

-- 3. While it is pending the invoice takes no payment and cannot be voided.
select throws_ok(format($$select hazina.invoice_pay(null, null, 400, '%s')$$, :'tok_a'),
  'P0001', 'invoice_refund_pending', 'the pay link refuses a payment while a guest refund is pending');
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.invoice_void('%s')$$, :'inv_a'),
  'P0001', 'invoice_refund_pending', 'nor can the merchant void it');
reset role;

-- 4. The payout fails: the merchant kept the money, the invoice counts it as paid and is closed again.
select hazina.withdrawal_mark_submitted(:'p1');
select is(hazina.withdrawal_fail(:'p1', '2001', 'The initiator information is invalid.') ->> 'status', 'failed', 'the payout fails');
select is(hazina.withdrawal_fail(:'p1', '2001', 'again') ->> 'status', 'failed', 'a duplicate failure is a no-op');
select is((select status from public.payment_refunds where id = :'r1_id'), 'failed', 'the refund failed');
select is(pg_temp.inv(:'tok_a'), 'paid:1000.00:0.00:true', 'the invoice is paid again, nothing due');
select is(pg_temp.inv_events(:'tok_a', 'invoice.refund_failed'), 1, 'invoice.refund_failed once');
select is(pg_temp.inv_events(:'tok_a', 'invoice.paid'), 2, 'invoice.paid again (it closed again)');
select is((select data ->> 'status' from public.events where object_id = :'inv_a' and type = 'invoice.refund_failed'), 'paid',
  'the event carries the invoice after the change');
select is((select amount_refunded::numeric(19, 2) from public.payment_intents where id = :'pi1'), 0.00, 'nothing refunded');
select is(pg_temp.money(:'duka_wallet'), '985.00/0.00', 'the hold is released: nothing moved');
select * from pg_temp.books_balance('the books reconcile after a failed invoice guest refund');

-- 5. Refund it all, paid this time: open with everything due; success changes nothing more.
select pg_temp.fund(:'duka_wallet', 15);  -- the whole amount must be available (the fee share comes back on success)
select pg_temp.refund(:'duka', :'pi1', null, 'igr-1-b') as r2 \gset
select (:'r2'::jsonb) ->> 'id' as r2_id, (:'r2'::jsonb) ->> 'payout_id' as p2 \gset
select is(pg_temp.inv(:'tok_a'), 'open:0.00:1000.00:false', 'refunding it all: open, all due');
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.invoice_void('%s')$$, :'inv_a'),
  'P0001', 'invoice_refund_pending', 'nothing is paid now, but void waits for the refund (its failure would pay it again)');
reset role;
select hazina.withdrawal_mark_submitted(:'p2');
select hazina.withdrawal_mark_processing(:'p2', 'AG_igr_2');
select is(hazina.withdrawal_complete(:'p2', 'RCIGR2PAID', 1000) ->> 'status', 'completed', 'the payout completes');
select is((select status from public.payment_refunds where id = :'r2_id'), 'succeeded', 'the refund succeeded');
select is(pg_temp.inv(:'tok_a'), 'open:0.00:1000.00:false', 'the invoice is unchanged by the success');
select is(pg_temp.inv_events(:'tok_a', 'invoice.refund_failed') || ':' || pg_temp.inv_events(:'tok_a', 'invoice.payment_refunded'),
  '1:2', 'no further invoice events');
select is(pg_temp.money(:'duka_wallet'), '15.00/0.00', '1000 − 1000 + the 15.00 fee back');
select * from pg_temp.books_balance('the books reconcile after a paid invoice guest refund');
select is((hazina.invoice_pay(null, null, 1000, :'tok_a')) ->> 'status', 'requires_confirmation',
  'settled: the invoice takes payments again');
select pg_temp.act_as(:'duka');
select is(public.invoice_void(:'inv_a') ->> 'status', 'void', 'and can be voided');
reset role;

-- 6. The concurrency rule on a part-paid invoice: its unconfirmed intent is canceled by the
-- refund; one being paid refuses the refund; a failure re-applies only what is still due.
select pg_temp.invoice(:'kibanda', 300, true, 'igr-inv-b') as tok_b \gset
select id as inv_b from public.invoices where pay_token = :'tok_b' \gset
select pg_temp.guest_pays(:'tok_b', 100, '254712540002', 'igr-2') as pi2 \gset
select is(pg_temp.inv(:'tok_b'), 'open:100.00:200.00:false', 'a guest paid 100 of 300');
select (hazina.invoice_pay(null, null, 200, :'tok_b') ->> 'id') as pi_open \gset
select pg_temp.fund(:'kibanda_wallet', 10);
select pg_temp.refund(:'kibanda', :'pi2', 100, 'igr-2-a') as r3 \gset
select (:'r3'::jsonb) ->> 'id' as r3_id, (:'r3'::jsonb) ->> 'payout_id' as p3 \gset
select is((select status || ':' || cancellation_reason from public.payment_intents where id = :'pi_open'), 'canceled:replaced',
  'the invoice''s unconfirmed intent is canceled by the refund');
select is(pg_temp.inv(:'tok_b'), 'open:0.00:300.00:false', 'all 300 due while the refund is pending');
select throws_ok(format($$select hazina.invoice_pay(null, null, 300, '%s')$$, :'tok_b'),
  'P0001', 'invoice_refund_pending', 'no new payment meanwhile');
select is_empty($$select * from hazina.reconcile_invoice_guest_refunds()$$, 'the pending-refund checks are clean');
select hazina.withdrawal_mark_submitted(:'p3');
select hazina.withdrawal_fail(:'p3', '2001', 'failed');
select is(pg_temp.inv(:'tok_b'), 'open:100.00:200.00:false', 'the failure counts the 100 as paid again; still open, 200 due');
select is(pg_temp.inv_events(:'tok_b', 'invoice.refund_failed') || ':' || pg_temp.inv_events(:'tok_b', 'invoice.paid'), '1:0',
  'invoice.refund_failed, no invoice.paid (it was not paid before)');
select * from pg_temp.books_balance('the books reconcile after a failed part refund');
-- A payment on its way (confirmed, M-Pesa not answered yet) refuses a refund: nothing moves.
select pg_temp.guest_pays(:'tok_b', 200, '254712540003', 'igr-3', false) as pi3 \gset
select is((select status from public.payment_intents where id = :'pi3'), 'processing', 'a payment of the rest is on its way');
select throws_ok(format($$select pg_temp.refund('%s', '%s', 100, 'igr-2-b')$$, :'kibanda', :'pi2'),
  'P0001', 'invoice_payment_in_progress', 'a guest refund waits until the invoice''s payment in progress has finished');
select is((select count(*)::int from public.payment_refunds where payment_intent_id = :'pi2'), 1, 'no refund was made');
select hazina.funding_complete((select funding_session_id from public.payment_intent_parts where payment_intent_id = :'pi3' limit 1),
  200, 'RCIGR3PAID');
select is(pg_temp.inv(:'tok_b'), 'paid:300.00:0.00:true', 'the rest is paid');
select is(pg_temp.money(:'kibanda_wallet'), '305.50/0.00', '300 − 4.50 fees + 10');
select * from pg_temp.books_balance('the books reconcile after the part-paid invoice is paid');

-- 7. The undo never over-pays: were the invoice paid again meanwhile (a bug), the failure is refused.
select pg_temp.refund(:'kibanda', :'pi2', 100, 'igr-2-c') as r4 \gset
select (:'r4'::jsonb) ->> 'payout_id' as p4 \gset
select is(pg_temp.inv(:'tok_b'), 'open:200.00:100.00:false', 'a second refund of the first payment: 100 due again');
select hazina.withdrawal_mark_submitted(:'p4');
savepoint forged;
update public.invoices set amount_paid = 300, amount_due = 0, status = 'paid', paid_at = now() where id = :'inv_b';
select is((select array_agg(check_name order by check_name) from hazina.reconcile_invoice_guest_refunds()),
  array['invoice_pending_refunds_still_due'], 'reconciliation notices an invoice paid while a refund is pending');
select throws_ok(format($$select hazina.withdrawal_fail('%s', '2001', 'failed')$$, :'p4'),
  'P0001', 'invoice_overpayment', 'and the failure is refused rather than over-paying the invoice');
rollback to savepoint forged;
savepoint forged2;
update public.payment_refunds set created_at = created_at - interval '1 hour' where id = ((:'r4'::jsonb) ->> 'id')::uuid;
update public.payment_intents set succeeded_at = now() - interval '1 minute' where id = :'pi3';
select is((select array_agg(check_name order by check_name) from hazina.reconcile_invoice_guest_refunds()),
  array['invoice_no_payment_while_refund_pending'], 'reconciliation notices a payment taken while a refund was pending');
rollback to savepoint forged2;
select hazina.withdrawal_fail(:'p4', '2001', 'failed');
select is(pg_temp.inv(:'tok_b'), 'paid:300.00:0.00:true', 'the failure closes it as paid again');
select is(pg_temp.inv_events(:'tok_b', 'invoice.refund_failed') || ':' || pg_temp.inv_events(:'tok_b', 'invoice.paid'), '2:2',
  'invoice.refund_failed and invoice.paid');
select * from pg_temp.books_balance('the books reconcile at the end of the part-paid invoice');

-- 8. Orders and installment plans always have their customer, so never a guest; refused anyway.
select col_not_null('public', 'orders', 'customer_id', 'an order always has its customer');
select col_not_null('public', 'installments', 'customer_id', 'an installment plan always has its customer');
savepoint subject;
update public.payment_intents set subject_type = 'order' where id = :'pi2';
select throws_ok(format($$select pg_temp.refund('%s', '%s', 10, 'igr-2-order')$$, :'kibanda', :'pi2'),
  'P0001', 'refund_not_supported', 'a guest-paid order intent is refused');
update public.payment_intents set subject_type = 'installment' where id = :'pi2';
select throws_ok(format($$select pg_temp.refund('%s', '%s', 10, 'igr-2-plan')$$, :'kibanda', :'pi2'),
  'P0001', 'refund_not_supported', 'so is a guest-paid installment intent');
rollback to savepoint subject;

-- 9. Row level security, unchanged: from every role.
select pg_temp.refund(:'kibanda', :'pi2', 10, 'igr-2-d') as r5 \gset
select pg_temp.act_as(:'kibanda');
select is((select status from public.payment_refunds where id = ((:'r5'::jsonb) ->> 'id')::uuid), 'pending',
  'the merchant reads its pending refund');
select is((select status from public.invoices where id = :'inv_b'), 'open', 'and its invoice');
select throws_ok(format($$select hazina.invoice_refund_pending('%s')$$, :'inv_b'), '42501', null,
  'a user cannot call the internal check');
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.payment_refunds where payment_intent_id = :'pi2'), 0, 'another merchant sees no refund');
select is((select count(*)::int from public.invoices where id = :'inv_b'), 0, 'nor the invoice');
select pg_temp.act_as(:'amina');
select is((select count(*)::int from public.payment_refunds where payment_intent_id = :'pi2'), 0,
  'a customer sees no guest''s refund');
select is((select count(*)::int from public.invoices where id = :'inv_b'), 0, 'nor an invoice not addressed to it');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.payment_refunds$$, '42501', null, 'anon reads no refunds');
select throws_ok($$select count(*) from public.invoices$$, '42501', null, 'nor invoices');
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.payment_refunds where payment_intent_id = :'pi2'), 3, 'the service role reads them (two failed, one pending)');
select is((select count(*)::int from hazina.reconcile_invoice_guest_refunds()), 0, 'and runs the new check');
reset role;
select * from pg_temp.books_balance('the books reconcile at the end');

select * from finish();
rollback;
