-- Payment intents: create (idempotent by the merchant's ref), confirm from the customer's
-- wallet (automatic capture posts at once; manual holds), capture (partial releases the rest),
-- cancel, refunds (never above what was captured), expiry by the job runner; what the
-- merchant, the customer, another user, anon and service_role can see and do.
begin;
select plan(66);

\ir helpers.psql

select pg_temp.user_create('merchant', '37000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '37000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('customer', '37000000-0000-4000-8000-00000000000c') as other \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.wallet_open(:'other') as other_wallet \gset
select pg_temp.fund(:'amina_wallet', 1000);
select pg_temp.fund(:'other_wallet', 100);
select pg_temp.fund(:'duka_wallet', 10);
-- The merchant bears a 1.5% fee on what it receives.
insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('payment_intent', 150);

select is((select fee_payer from public.transaction_types where code = 'payment_intent'), 'receiver',
  'the merchant (receiver) pays the payment_intent fee, as for merchant_payment');

-- Create.
select pg_temp.act_as(:'amina');
select throws_ok($$select public.payment_intent_create(100, 'KES', null, null, null, null, null, 'pi-0000')$$,
  'P0001', 'merchant_wallet_required', 'only a merchant wallet can be the payee');
select pg_temp.act_as(:'duka');
select public.payment_intent_create(200, 'KES', 'automatic', :'amina', 'Order 17', '{"order": "17"}', null, 'pi-0001') as created \gset
select is((:'created'::jsonb) ->> 'status', 'requires_confirmation', 'a new intent requires confirmation');
select ok((:'created'::jsonb) ->> 'client_secret' like 'pi\_%\_secret\_%', 'the client_secret is returned on create');
select is(public.payment_intent_create(200, 'KES', 'automatic', :'amina', 'Order 17', '{"order": "17"}', null, 'pi-0001') - 'updated_at',
  ((:'created'::jsonb) - 'client_secret' - 'updated_at') || '{"created": false}',
  'the same Idempotency-Key returns the same intent, without the secret');
select throws_ok(format($$select public.payment_intent_create(300, 'KES', 'automatic', '%s', null, null, null, 'pi-0001')$$, :'amina'),
  'P0001', 'ref_conflict', 'the same key for another intent is a conflict');
select throws_ok($$select public.payment_intent_create(10.001, 'KES', null, null, null, null, null, 'pi-0002')$$,
  'P0001', 'invalid_amount', 'KES amounts have 2 decimals');
select throws_ok($$select public.payment_intent_create(10, 'KES', null, '37000000-0000-4000-8000-0000000000ff', null, null, null, 'pi-0003')$$,
  'P0001', 'customer_not_found', 'the customer must exist');
reset role;
select (:'created'::jsonb) ->> 'id' as pi1 \gset
select isnt((select client_secret_hash from public.payment_intents where id = :'pi1'), (:'created'::jsonb) ->> 'client_secret',
  'only a hash of the client_secret is stored');
select is((select client_secret_hash from public.payment_intents where id = :'pi1'),
  encode(sha256(convert_to((:'created'::jsonb) ->> 'client_secret', 'UTF8')), 'hex'), 'the stored hash is the secret''s sha256');

-- Confirm (automatic capture).
select pg_temp.act_as(:'other');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "200"}]')$$,
  :'pi1', :'other_wallet'), 'P0001', 'payment_intent_not_found', 'another user cannot pay an intent addressed to the customer');
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "150"}]')$$,
  :'pi1', :'amina_wallet'), 'P0001', 'sources_amount_mismatch', 'the parts must sum to the amount');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type": "mpesa", "phone": "254712345678", "amount": "199.50"}, {"type": "wallet", "wallet_id": "%s", "amount": "0.50"}]')$$,
  :'pi1', :'amina_wallet'), 'P0001', 'invalid_amount', 'an M-Pesa part moves whole shillings (M-Pesa parts: 43_payment_intent_mpesa)');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "200"}]')$$,
  :'pi1', :'other_wallet'), 'P0001', 'wallet_not_found', 'the customer pays only from their own wallet');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100"}, {"type": "wallet", "wallet_id": "%s", "amount": "100"}]')$$,
  :'pi1', :'amina_wallet', :'amina_wallet'), 'P0001', 'invalid_argument', 'one part per wallet');
select pg_temp.act_as(:'duka');
select public.payment_intent_create(5000, null, null, :'amina', null, null, null, 'pi-0004') ->> 'id' as pi_big \gset
select pg_temp.act_as(:'amina');
select is(public.payment_intent_confirm(:'pi_big', format('[{"type": "wallet", "wallet_id": "%s", "amount": "5000"}]', :'amina_wallet')::jsonb)
  #>> '{payment_error,code}', 'insufficient_funds', 'a confirm the wallet cannot cover is a failed attempt');
reset role;
select is((select (status, last_payment_error ->> 'code')::text from public.payment_intents where id = :'pi_big'),
  '(requires_confirmation,insufficient_funds)', 'recorded in last_payment_error; the intent can still be paid');
select is((select count(*)::int from public.payment_intent_parts where payment_intent_id = :'pi_big')
          + (select count(*)::int from public.wallet_holds where ref like 'intent:' || :'pi_big' || '%'), 0,
  'and nothing of it was held');
select pg_temp.act_as(:'amina');
select is(public.payment_intent_confirm(:'pi1', format('[{"type": "wallet", "wallet_id": "%s", "amount": "200"}]', :'amina_wallet')::jsonb)
  ->> 'status', 'succeeded', 'a wallet-only automatic intent succeeds at confirm');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "200"}]')$$,
  :'pi1', :'amina_wallet'), 'P0001', 'intent_not_confirmable', 'a paid intent cannot be confirmed twice');
reset role;
select is(pg_temp.balance(:'amina_wallet'), 800.0000::numeric, 'the customer paid the amount');
select is(pg_temp.balance(:'duka_wallet'), 207.0000::numeric, 'the merchant received it less its 1.5% fee (3.00)');
select is((select (amount_received, amount_capturable, status)::text from public.payment_intents where id = :'pi1'),
  '(200.0000,0.0000,succeeded)', 'received the whole amount, nothing left to capture');
select is((select count(*)::int from public.billing_ledger b join public.payment_intents p on p.capture_transaction_id = b.transaction_id
            where p.id = :'pi1' and b.payer_wallet_id = :'duka_wallet'), 1, 'the fee row links to the capture transaction');

-- Cancel and capture are refused on a succeeded intent.
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.payment_intent_cancel('%s')$$, :'pi1'), 'P0001', 'intent_not_cancelable',
  'a succeeded intent cannot be canceled');
select throws_ok(format($$select public.payment_intent_capture('%s')$$, :'pi1'), 'P0001', 'intent_not_capturable',
  'an automatic intent is never captured by hand');

-- Refunds.
select public.payment_refund_create(:'pi1', 50, 'damaged', 'rf-0001') ->> 'amount' as r1 \gset
select is(:'r1'::text, '50.0000', 'a partial refund');
select is(public.payment_refund_create(:'pi1', 50, 'damaged', 'rf-0001') ->> 'created', 'false', 'the same key replays the refund');
select throws_ok(format($$select public.payment_refund_create('%s', 150.01, null, 'rf-0002')$$, :'pi1'),
  'P0001', 'refund_exceeds_captured', 'never above received minus refunded');
select is(public.payment_refund_create(:'pi1', null, null, 'rf-0003') ->> 'amount', '150.0000', 'no amount refunds the rest');
select throws_ok(format($$select public.payment_refund_create('%s', 0.01, null, 'rf-0004')$$, :'pi1'),
  'P0001', 'refund_exceeds_captured', 'nothing is left to refund');
select pg_temp.act_as(:'other');
select throws_ok(format($$select public.payment_refund_create('%s', 1, null, 'rf-0005')$$, :'pi1'),
  'P0001', 'payment_intent_not_found', 'another user cannot refund it');
reset role;
select is(pg_temp.balance(:'amina_wallet'), 1000.0000::numeric, 'the customer has everything back');
select is(pg_temp.balance(:'duka_wallet'), 10.0000::numeric, 'fully refunded, the fee came back too (in proportion: 44_payment_refund_fees)');
select is((select amount_refunded from public.payment_intents where id = :'pi1'), 200.0000::numeric, 'amount_refunded');
select is((select count(*)::int from public.payment_refunds r join public.wallet_transactions t on t.id = r.transaction_id
            where r.payment_intent_id = :'pi1' and t.reverses_id = (select capture_transaction_id from public.payment_intents where id = :'pi1')),
  2, 'each refund is a reversal of the capture');

-- Manual capture, for anyone holding the client_secret.
select pg_temp.act_as(:'duka');
select public.payment_intent_create(300, null, 'manual', null, null, null, null, 'pi-0010') as manual \gset
reset role;
select (:'manual'::jsonb) ->> 'id' as pi2, (:'manual'::jsonb) ->> 'client_secret' as pi2_secret \gset
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "300"}]')$$,
  :'pi2', :'amina_wallet'), 'P0001', 'payment_intent_not_found', 'an intent for anybody needs its client_secret');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "300"}]', 'pi_wrong')$$,
  :'pi2', :'amina_wallet'), 'P0001', 'payment_intent_not_found', 'a wrong client_secret is refused the same way');
select is(public.payment_intent_confirm(:'pi2', format('[{"type": "wallet", "wallet_id": "%s", "amount": "300"}]', :'amina_wallet')::jsonb,
  :'pi2_secret') ->> 'status', 'requires_capture', 'manual capture leaves the money held');
reset role;
select is(pg_temp.available(:'amina_wallet'), 700.0000::numeric, 'the amount is held on the customer''s wallet');
select ok((select expires_at between now() + interval '7 days' - interval '1 minute' and now() + interval '7 days'
             from public.payment_intents where id = :'pi2'), 'an authorisation lasts 7 days');
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.payment_intent_capture('%s', 300.01)$$, :'pi2'), 'P0001', 'capture_exceeds_authorized',
  'capture at most what was authorised');
select is(public.payment_intent_capture(:'pi2', 250) ->> 'amount_received', '250.0000', 'a partial capture');
select is(public.payment_intent_capture(:'pi2') ->> 'status', 'succeeded', 'capturing again is a no-op');
reset role;
select is((pg_temp.balance(:'amina_wallet'), pg_temp.available(:'amina_wallet'))::text, '(750.0000,750.0000)',
  'the customer paid 250 and the other 50 was released');
select is(pg_temp.balance(:'duka_wallet'), 256.2500::numeric, 'the merchant received 250 less 3.75');

-- Cancel a held intent.
select pg_temp.act_as(:'duka');
select public.payment_intent_create(100, null, 'manual', :'amina', null, null, null, 'pi-0020') ->> 'id' as pi3 \gset
select pg_temp.act_as(:'amina');
select public.payment_intent_confirm(:'pi3', format('[{"type": "wallet", "wallet_id": "%s", "amount": "100"}]', :'amina_wallet')::jsonb);
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.payment_intent_cancel('%s')$$, :'pi3'), 'P0001', 'payment_intent_not_found',
  'only the merchant cancels');
select pg_temp.act_as(:'duka');
select is(public.payment_intent_cancel(:'pi3', 'out of stock') ->> 'status', 'canceled', 'the merchant cancels a held intent');
select is(public.payment_intent_cancel(:'pi3') ->> 'cancellation_reason', 'out of stock', 'canceling again is a no-op');
select throws_ok(format($$select public.payment_intent_capture('%s')$$, :'pi3'), 'P0001', 'intent_not_capturable',
  'a canceled intent cannot be captured');
reset role;
select is(pg_temp.available(:'amina_wallet'), 750.0000::numeric, 'canceling released the hold');

-- Expiry: an unconfirmed intent and an uncaptured authorisation.
select pg_temp.act_as(:'duka');
select public.payment_intent_create(40, null, null, :'amina', null, null, null, 'pi-0030') ->> 'id' as pi4 \gset
select public.payment_intent_create(60, null, 'manual', :'amina', null, null, null, 'pi-0031') ->> 'id' as pi5 \gset
select pg_temp.act_as(:'amina');
select public.payment_intent_confirm(:'pi5', format('[{"type": "wallet", "wallet_id": "%s", "amount": "60"}]', :'amina_wallet')::jsonb);
reset role;
update public.payment_intents set expires_at = now() - interval '1 second' where id in (:'pi4', :'pi5');
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "40"}]')$$,
  :'pi4', :'amina_wallet'), 'P0001', 'intent_expired', 'an expired intent cannot be paid');
reset role;
select is(hazina.run_job('payments.expire_intents') #>> '{report,processed}', '2', 'the job cancels both expired intents');
select is((select array_agg(cancellation_reason || ':' || status order by amount) from public.payment_intents where id in (:'pi4', :'pi5')),
  array['expired:canceled', 'expired:canceled'], 'as expired');
select is(pg_temp.available(:'amina_wallet'), 750.0000::numeric, 'the expired authorisation released its hold');

-- Who sees what.
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.payment_intents), 6, 'the merchant sees its intents');
select is((select count(*)::int from public.payment_refunds), 2, 'and its refunds');
select pg_temp.act_as(:'amina');
select is((select count(*)::int from public.payment_intents), 6, 'the customer sees the intents it pays (pi2 once it paid)');
select is((select count(*)::int from public.payment_intent_parts), 4, 'and their parts');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.payment_intents) + (select count(*)::int from public.payment_intent_parts)
          + (select count(*)::int from public.payment_refunds), 0, 'another user sees none of them');
select throws_ok(format($$update public.payment_intents set amount_received = 0 where id = '%s'$$, :'pi1'), '42501', null,
  'nobody writes an intent directly');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.payment_intents$$, '42501', null, 'anon reads no intents');
select throws_ok($$select public.payment_intent_create(1, null, null, null, null, null, null, 'x')$$, '42501', null,
  'anon creates none');
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.payment_intents where merchant_id = :'duka'), 6, 'service_role sees every intent');
reset role;

select * from pg_temp.books_balance();
select * from finish();
rollback;
