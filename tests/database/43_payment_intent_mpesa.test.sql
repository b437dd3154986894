-- Payment intents with an M-Pesa part: a signed-in customer pays half from the wallet and half
-- by STK push (the push tops up the wallet and joins the intent as a second hold; capture posts
-- both in one transaction), a guest pays by M-Pesa only (straight from mpesa_clearing to the
-- payee); 1032 cancel, timeout, late and duplicate callbacks, and the expiry job first: after
-- each, balances to the cent, no hold left, books reconciled. The provider is played here by
-- the functions its confirmed callbacks call (funding_mark_requested / complete / fail / expire).
begin;
select plan(79);

\ir helpers.psql

select pg_temp.user_create('merchant', '43000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '43000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('customer', '43000000-0000-4000-8000-00000000000c') as other \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.wallet_open(:'other') as other_wallet \gset
select pg_temp.fund(:'amina_wallet', 2000);
select hazina.system_wallet('mpesa_clearing', 'KES') as clearing \gset
select hazina.system_wallet('suspense', 'KES') as suspense \gset
-- The merchant bears a 1.5% fee on what it receives; a top-up fee exists too, and an
-- intent's M-Pesa part is not charged it.
insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('payment_intent', 150);
insert into public.billing_fee_catalog (transaction_type, fixed_amount)
select 'funding', 10 where not exists (select 1 from public.billing_fee_catalog where transaction_type = 'funding');

-- 1. Signed-in, automatic: half wallet, half M-Pesa; success.
select pg_temp.act_as(:'duka');
select (public.payment_intent_create(1000, 'KES', 'automatic', :'amina', 'Order 1', null, null, 'mp-1') ->> 'id') as pi1 \gset
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type":"mpesa","phone":"254712345678","amount":"400"},{"type":"mpesa","phone":"254712345679","amount":"600"}]')$$, :'pi1'),
  'P0001', 'invalid_argument', 'one M-Pesa part per plan');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type":"mpesa","phone":"0712345678","amount":"1000"}]')$$, :'pi1'),
  'P0001', 'invalid_argument', 'the phone is an M-Pesa number 2547…/2541…');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type":"mpesa","phone":"254712345678","amount":"999.50"},{"type":"wallet","wallet_id":"%s","amount":"0.50"}]')$$, :'pi1', :'amina_wallet'),
  'P0001', 'invalid_amount', 'M-Pesa moves whole shillings');
select public.payment_intent_confirm(:'pi1', format('[{"type":"wallet","wallet_id":"%s","amount":"500"},{"type":"mpesa","phone":"254712345678","amount":"500"}]', :'amina_wallet')::jsonb) as c1 \gset
select is((:'c1'::jsonb) ->> 'status', 'processing', 'with an M-Pesa part the intent is processing');
select is((:'c1'::jsonb) #>> '{mpesa,msisdn}', '254712345678', 'the reply names the STK push for the edge to send');
select is(jsonb_array_length((:'c1'::jsonb) -> 'sources'), 2, 'both parts are shown');
select is((:'c1'::jsonb) #>> '{sources,1,phone}', '2547******78', 'the phone is shown masked');
select is((:'c1'::jsonb) #>> '{sources,1,funding_status}', 'pending', 'the M-Pesa part waits for its funding session');
select (:'c1'::jsonb) #>> '{mpesa,funding_session_id}' as s1 \gset
select is(pg_temp.available(:'amina_wallet'), 1500.0000::numeric, 'the wallet part is held at once');
select is((select user_id || ':' || wallet_id || ':' || payment_intent_id || ':' || status from public.wallet_funding_sessions where id = :'s1'),
  :'amina' || ':' || :'amina_wallet' || ':' || :'pi1' || ':pending', 'the customer reads its own funding session, linked to the intent');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type":"mpesa","phone":"254712345678","amount":"1000"}]')$$, :'pi1'),
  'P0001', 'intent_not_confirmable', 'a processing intent cannot be confirmed again');
reset role;
select hazina.funding_mark_requested(:'s1', 'mr-1', 'ws_CO_mp_1');
select hazina.funding_complete(:'s1', 500, 'RCPT00001');
select is((select status || ':' || amount_received || ':' || amount_capturable from public.payment_intents where id = :'pi1'),
  'succeeded:1000.0000:0.0000', 'the M-Pesa money joined the intent, which succeeded');
select is((select fee from public.wallet_funding_sessions where id = :'s1'), 0.0000::numeric, 'no top-up fee on an intent''s M-Pesa part');
select is(pg_temp.balance(:'amina_wallet'), 1500.0000::numeric, 'the customer paid 500 from the wallet (and 500 by M-Pesa)');
select is(pg_temp.available(:'amina_wallet'), 1500.0000::numeric, 'no hold is left');
select is(pg_temp.balance(:'duka_wallet'), 985.0000::numeric, 'the merchant received 1000 less its 1.5% fee');
select is((select count(*)::int from hazina.transaction_entries((select capture_transaction_id from public.payment_intents where id = :'pi1'))
            where leg = 'principal' and direction = 'credit' and wallet_id = :'duka_wallet'), 1, 'one capture transaction credits the payee once');
select is((select count(*)::int from public.wallet_holds where metadata ->> 'payment_intent_id' = :'pi1' and status = 'voided'), 2,
  'both holds were released into the one capture posting');
-- A duplicate confirmed callback changes nothing.
select is(hazina.funding_complete(:'s1', 500, 'RCPT00001') ->> 'replayed', 'true', 'a duplicate callback is a replay');
select is(pg_temp.balance(:'duka_wallet'), 985.0000::numeric, 'and pays nothing twice');
select * from pg_temp.books_balance('the books reconcile after an M-Pesa-funded intent');

-- 2. Signed-in, manual capture: both holds, then a partial capture in one posting.
select pg_temp.act_as(:'duka');
select (public.payment_intent_create(600, 'KES', 'manual', :'amina', 'Order 2', null, null, 'mp-2') ->> 'id') as pi2 \gset
select pg_temp.act_as(:'amina');
select (public.payment_intent_confirm(:'pi2', format('[{"type":"wallet","wallet_id":"%s","amount":"300"},{"type":"mpesa","phone":"254712345678","amount":"300"}]', :'amina_wallet')::jsonb)
         #>> '{mpesa,funding_session_id}') as s2 \gset
reset role;
select hazina.funding_mark_requested(:'s2', 'mr-2', 'ws_CO_mp_2');
select hazina.funding_complete(:'s2', 300, 'RCPT00002');
select is((select status || ':' || amount_capturable from public.payment_intents where id = :'pi2'), 'requires_capture:600.0000',
  'manual: both parts held, the intent requires capture');
select is(pg_temp.balance(:'amina_wallet') - pg_temp.available(:'amina_wallet'), 600.0000::numeric, '600 is held on the wallet');
select * from pg_temp.books_balance('the authorised M-Pesa intent reconciles (capturable is held)');
select pg_temp.act_as(:'duka');
select is(public.payment_intent_capture(:'pi2', 450) ->> 'status', 'succeeded', 'the merchant captures part of it');
reset role;
select is(pg_temp.balance(:'amina_wallet'), 1350.0000::numeric, 'the customer paid 450; the rest is back');
select is(pg_temp.available(:'amina_wallet'), 1350.0000::numeric, 'nothing is held any more');
select is(pg_temp.balance(:'duka_wallet'), 985.0000 + 450 - 6.75, 'the merchant got 450 less 6.75');

-- 3. 1032: the customer cancels the prompt. The wallet hold is released, the intent is back.
select pg_temp.act_as(:'duka');
select (public.payment_intent_create(800, 'KES', 'automatic', :'amina', 'Order 3', null, null, 'mp-3') ->> 'id') as pi3 \gset
select pg_temp.act_as(:'amina');
select (public.payment_intent_confirm(:'pi3', format('[{"type":"wallet","wallet_id":"%s","amount":"400"},{"type":"mpesa","phone":"254712345678","amount":"400"}]', :'amina_wallet')::jsonb)
         #>> '{mpesa,funding_session_id}') as s3 \gset
reset role;
select hazina.funding_mark_requested(:'s3', 'mr-3', 'ws_CO_mp_3');
select hazina.funding_fail(:'s3', 'cancelled', '1032', 'Request cancelled by user');
select is((select status || ':' || (last_payment_error ->> 'code') || ':' || (last_payment_error #>> '{details,provider_code}')
             from public.payment_intents where id = :'pi3'),
  'requires_confirmation:mpesa_cancelled:1032', 'a cancelled prompt returns the intent with last_payment_error');
select is(pg_temp.available(:'amina_wallet'), 1350.0000::numeric, 'the wallet part''s hold is voided');
select is((select count(*)::int from public.events where object_id = :'pi3'), 3, 'created, processing, requires_confirmation events');
-- Paying again is a new attempt; the intent shows only its parts.
select pg_temp.act_as(:'amina');
select public.payment_intent_confirm(:'pi3', format('[{"type":"wallet","wallet_id":"%s","amount":"800"}]', :'amina_wallet')::jsonb) as c3 \gset
select is((:'c3'::jsonb) ->> 'status', 'succeeded', 'a second attempt (wallet only) succeeds');
select is(jsonb_array_length((:'c3'::jsonb) -> 'sources'), 1, 'the intent shows the parts of its latest attempt');
reset role;
select is((select count(*)::int from public.payment_intent_parts where payment_intent_id = :'pi3'), 3, 'every attempt''s parts are kept');
select is(pg_temp.balance(:'amina_wallet'), 550.0000::numeric, 'the customer paid 800 once');
select * from pg_temp.books_balance('the books reconcile after a cancelled M-Pesa part');

-- 4. Timeout: the sweep gives up (expired); a late success stays in the customer's wallet.
select pg_temp.act_as(:'duka');
select (public.payment_intent_create(300, 'KES', 'automatic', :'amina', 'Order 4', null, null, 'mp-4') ->> 'id') as pi4 \gset
select pg_temp.act_as(:'amina');
select (public.payment_intent_confirm(:'pi4', '[{"type":"mpesa","phone":"254712345678","amount":"300"}]'::jsonb)
         #>> '{mpesa,funding_session_id}') as s4 \gset
reset role;
select is((select wallet_id from public.wallet_funding_sessions where id = :'s4'), :'amina_wallet'::uuid,
  'with no wallet part, the M-Pesa part tops up the customer''s wallet of the currency');
select hazina.funding_mark_requested(:'s4', 'mr-4', 'ws_CO_mp_4');
select hazina.funding_expire(:'s4', 'the provider could not confirm the payment');
select is((select status || ':' || (last_payment_error ->> 'code') from public.payment_intents where id = :'pi4'),
  'requires_confirmation:mpesa_timeout', 'a timed-out part returns the intent');
select hazina.funding_complete(:'s4', 300, 'RCPT00004');
select is((select status from public.payment_intents where id = :'pi4'), 'requires_confirmation', 'a late success does not pay the intent');
select is(pg_temp.balance(:'amina_wallet'), 850.0000::numeric, 'the late money stays in the customer''s wallet: nothing is lost');
select * from pg_temp.books_balance('the books reconcile after a timeout and a late success');

-- 5. Expiry first, then the callback (the race, in one order): the intent is canceled and the
-- money stays in the wallet.
select pg_temp.act_as(:'duka');
select (public.payment_intent_create(200, 'KES', 'automatic', :'amina', 'Order 5', null, null, 'mp-5') ->> 'id') as pi5 \gset
select pg_temp.act_as(:'amina');
select (public.payment_intent_confirm(:'pi5', format('[{"type":"wallet","wallet_id":"%s","amount":"100"},{"type":"mpesa","phone":"254712345678","amount":"100"}]', :'amina_wallet')::jsonb)
         #>> '{mpesa,funding_session_id}') as s5 \gset
reset role;
select hazina.funding_mark_requested(:'s5', 'mr-5', 'ws_CO_mp_5');
update public.payment_intents set expires_at = now() - interval '1 second' where id = :'pi5';
select hazina.run_job('payments.expire_intents');
select hazina.funding_complete(:'s5', 100, 'RCPT00005');
select is((select status from public.payment_intents where id = :'pi5'), 'canceled', 'expired first: canceled');
select is(pg_temp.balance(:'amina_wallet'), 950.0000::numeric, 'the money arrived in the wallet and stays there');
select is(pg_temp.available(:'amina_wallet'), 950.0000::numeric, 'no hold is left');
-- The callback first, then an expired deadline: nothing for the job to do.
select pg_temp.act_as(:'duka');
select (public.payment_intent_create(200, 'KES', 'automatic', :'amina', 'Order 6', null, null, 'mp-6') ->> 'id') as pi6 \gset
select pg_temp.act_as(:'amina');
select (public.payment_intent_confirm(:'pi6', '[{"type":"mpesa","phone":"254712345678","amount":"200"}]'::jsonb)
         #>> '{mpesa,funding_session_id}') as s6 \gset
reset role;
select hazina.funding_complete(:'s6', 200, 'RCPT00006');
update public.payment_intents set expires_at = now() - interval '1 second' where id = :'pi6';
select hazina.run_job('payments.expire_intents');
select is((select status from public.payment_intents where id = :'pi6'), 'succeeded', 'the callback first: succeeded, the job leaves it');
select * from pg_temp.books_balance('the books reconcile after both orders of the race');

-- 6. Guests: M-Pesa only, automatic only, the client_secret, straight to the payee.
select pg_temp.act_as(:'duka');
select public.payment_intent_create(500, 'KES', 'automatic', null, 'Guest order', null, null, 'mp-7') as g7 \gset
select public.payment_intent_create(500, 'KES', 'manual', null, 'Guest manual', null, null, 'mp-8') as g8 \gset
reset role;
select (:'g7'::jsonb) ->> 'id' as pi7, (:'g7'::jsonb) ->> 'client_secret' as secret7 \gset
select throws_ok(format($$select hazina.payment_intent_confirm('%s', null, '[{"type":"mpesa","phone":"254712345678","amount":"500"}]', 'pi_wrong')$$, :'pi7'),
  'P0001', 'payment_intent_not_found', 'a guest needs the client_secret');
select throws_ok(format($$select hazina.payment_intent_confirm('%s', null, '[{"type":"wallet","wallet_id":"%s","amount":"500"}]', '%s')$$, :'pi7', :'amina_wallet', :'secret7'),
  'P0001', 'wallet_not_found', 'a guest has no wallet');
select throws_ok(format($$select hazina.payment_intent_confirm('%s', null, '[{"type":"mpesa","phone":"254712345678","amount":"500"}]', '%s')$$,
  :'g8'::jsonb ->> 'id', :'g8'::jsonb ->> 'client_secret'),
  'P0001', 'invalid_argument', 'a guest pays automatic-capture intents only');
select throws_ok(format($$select hazina.payment_intent_confirm('%s', null, '[{"type":"mpesa","phone":"254712345678","amount":"500"}]', null)$$,
  :'pi1'), 'P0001', 'payment_intent_not_found', 'a customer''s intent is not a guest''s');
select (hazina.payment_intent_confirm(:'pi7', null, '[{"type":"mpesa","phone":"254712345678","amount":"500"}]', :'secret7')
         #>> '{mpesa,funding_session_id}') as s7 \gset
select is((select coalesce(user_id::text, 'guest') || ':' || wallet_id from public.wallet_funding_sessions where id = :'s7'),
  'guest:' || :'duka_wallet', 'a guest''s session belongs to no user and lands in the payee wallet');
select is(hazina.payment_intent_checkout_json(:'pi7', :'secret7') ->> 'status', 'processing', 'the checkout view reads it by client_secret');
select throws_ok(format($$select hazina.payment_intent_checkout_json('%s', 'pi_wrong')$$, :'pi7'),
  'P0001', 'payment_intent_not_found', 'not with a wrong secret');
select is((select array_agg(k order by k) from jsonb_object_keys(hazina.payment_intent_checkout_json(:'pi7', :'secret7')) k),
  array['amount', 'amount_received', 'canceled_at', 'capture_method', 'created_at', 'currency', 'description', 'expires_at',
        'for_customer', 'id', 'last_payment_error', 'object', 'sources', 'status', 'succeeded_at', 'updated_at'],
  'the checkout view shows no merchant, wallet, customer, phone or metadata');
select hazina.funding_mark_requested(:'s7', 'mr-7', 'ws_CO_mp_7');
select lives_ok(format($$select hazina.funding_complete('%s', 500, 'RCPT00007')$$, :'s7'), 'the guest''s money arrives');
select is((select status || ':' || amount_received from public.payment_intents where id = :'pi7'), 'succeeded:500.0000', 'the guest''s intent succeeded');
select is(pg_temp.balance(:'duka_wallet'), 985.0000 + 450 - 6.75 + 800 - 12 + 200 - 3 + 500 - 7.5,
  'the payee got 500 less 7.50 straight from mpesa_clearing');
select is((select count(*)::int from public.billing_ledger where transaction_id = (select capture_transaction_id from public.payment_intents where id = :'pi7')),
  1, 'its fee is billed with the capture');
select pg_temp.act_as(:'duka');
select is(public.payment_refund_create(:'pi7', 100, null, 'rf-guest') ->> 'status', 'pending',
  'a guest''s payment is not refunded to mpesa_clearing: it goes back by B2C payout (52_guest_refunds)');
reset role;
-- A guest's money that arrives after its intent stopped waiting lands in suspense.
select pg_temp.act_as(:'duka');
select public.payment_intent_create(250, 'KES', 'automatic', null, 'Guest late', null, null, 'mp-9') as g9 \gset
reset role;
select (:'g9'::jsonb) ->> 'id' as pi9, (:'g9'::jsonb) ->> 'client_secret' as secret9 \gset
select (hazina.payment_intent_confirm(:'pi9', null, '[{"type":"mpesa","phone":"254712345678","amount":"250"}]', :'secret9')
         #>> '{mpesa,funding_session_id}') as s9 \gset
select pg_temp.balance(:'suspense') as suspense_before \gset
update public.payment_intents set expires_at = now() - interval '1 second' where id = :'pi9';
select hazina.run_job('payments.expire_intents');
select hazina.funding_complete(:'s9', 250, 'RCPT00009');
select is((select status from public.payment_intents where id = :'pi9'), 'canceled', 'expired first: canceled');
select is(pg_temp.balance(:'suspense') - :'suspense_before'::numeric, 250.0000::numeric, 'the guest''s late money is in suspense, not lost');
-- A guest's cancelled prompt returns the intent.
select pg_temp.act_as(:'duka');
select public.payment_intent_create(120, 'KES', 'automatic', null, null, null, null, 'mp-10') as g10 \gset
reset role;
select (:'g10'::jsonb) ->> 'id' as pi10, (:'g10'::jsonb) ->> 'client_secret' as secret10 \gset
select (hazina.payment_intent_confirm(:'pi10', null, '[{"type":"mpesa","phone":"254712345678","amount":"120"}]', :'secret10')
         #>> '{mpesa,funding_session_id}') as s10 \gset
select hazina.funding_fail(:'s10', 'cancelled', '1032', 'Request cancelled by user');
select is(hazina.payment_intent_checkout_json(:'pi10', :'secret10') #>> '{last_payment_error,code}',
  'mpesa_cancelled', 'the guest sees why the payment failed');
select * from pg_temp.books_balance('the books reconcile after the guests');

-- 7. Who sees what: parts and sessions follow the intent's RLS.
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.payment_intent_parts where payment_intent_id = :'pi1'), 0, 'another user sees no part');
select is((select count(*)::int from public.wallet_funding_sessions where payment_intent_id is not null), 0, 'nor any intent''s session');
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.payment_intent_parts where payment_intent_id = :'pi1'), 2, 'the merchant sees the parts');
select is((select count(*)::int from public.wallet_funding_sessions where payment_intent_id is not null), 0,
  'but not the sessions (the customer''s top-ups; guests'' belong to nobody)');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.payment_intent_parts$$, '42501', null, 'anon reads no part');
select throws_ok(format($$select hazina.payment_intent_checkout_json('%s', 'x')$$, :'pi7'), '42501', null,
  'anon cannot call the checkout view directly (the edge does, as service_role)');
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.payment_intent_parts where payment_intent_id = :'pi1'), 2,
  'service_role (the edge, the sweep) reads every part');
select is(hazina.payment_intent_checkout_json(:'pi7', :'secret7') ->> 'status', 'succeeded', 'service_role runs the checkout view');
reset role;

select * from pg_temp.books_balance();
select * from finish();
rollback;
