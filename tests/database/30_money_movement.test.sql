-- Money in and out: sources, funding sessions, withdrawals, webhook events — state
-- machines, exactly-once application, and what each role can see.
begin;
select plan(85);

\ir helpers.psql

create function pg_temp.balance(p_wallet uuid) returns numeric
  language sql as $$ select balance from public.wallet_balances where wallet_id = p_wallet $$;
create function pg_temp.available(p_wallet uuid) returns numeric
  language sql as $$ select available from public.wallet_balances where wallet_id = p_wallet $$;

insert into public.auth_users (id, email, role) values
  ('30000000-0000-4000-8000-00000000000a', 'amina@money.test', 'customer'),
  ('30000000-0000-4000-8000-00000000000b', 'baraka@money.test', 'customer');

-- Fees for these tests: funding 1% (min 1), withdrawal fixed 15.
insert into public.billing_fee_catalog (transaction_type, percentage_bps, minimum_amount)
select 'funding', 100, 1 where not exists (select 1 from public.billing_fee_catalog where transaction_type = 'funding');
insert into public.billing_fee_catalog (transaction_type, fixed_amount)
select 'withdrawal', 15 where not exists (select 1 from public.billing_fee_catalog where transaction_type = 'withdrawal');

-- Sources, through the client API
select pg_temp.act_as('30000000-0000-4000-8000-00000000000a');
select public.wallet_open('KES');
select is(public.wallet_source_add('mpesa', '0712 345-678', null, null, 'My phone') ->> 'msisdn', '254712345678',
  'an M-Pesa number is stored in Daraja''s 2547XXXXXXXX form');
select is(public.wallet_source_add('mpesa', '+254712345678') ->> 'created', 'false',
  'adding the same number again returns the existing source');
select is((select is_default from public.wallet_sources where msisdn = '254712345678'), true,
  'the first source becomes the default');
select throws_ok($$select public.wallet_source_add('mpesa', '12345')$$, 'P0001', 'invalid_source', 'a malformed number is refused');
select throws_ok($$select public.wallet_source_add('equity', null, '0123456789')$$, 'P0001', 'provider_not_supported',
  'unknown providers are refused');
select is(public.wallet_source_add('kcb', null, '1100223344', 'Amina W') ->> 'kind', 'bank_account', 'a KCB account is a bank source');
select public.wallet_paybill_reference('KES') ->> 'account_reference' as first_ref \gset
select is(public.wallet_paybill_reference('KES') ->> 'account_reference', :'first_ref',
  'a user keeps one paybill account reference');
reset role;
select pg_temp.act_as('30000000-0000-4000-8000-00000000000b');
select public.wallet_open('KES');
select public.wallet_source_add('mpesa', '0722000111');
reset role;

select id as amina_wallet from public.wallets where user_id = '30000000-0000-4000-8000-00000000000a' \gset
select id as baraka_wallet from public.wallets where user_id = '30000000-0000-4000-8000-00000000000b' \gset
select id as amina_phone from public.wallet_sources where msisdn = '254712345678' \gset
select id as amina_bank from public.wallet_sources where account_number = '1100223344' \gset
select id as baraka_phone from public.wallet_sources where msisdn = '254722000111' \gset
select reference as amina_ref from public.wallet_account_references where wallet_id = :'amina_wallet' \gset
select hazina.system_wallet('mpesa_clearing') as mpesa \gset
select hazina.system_wallet('kcb_clearing') as kcb \gset
select hazina.system_wallet('payouts_in_flight') as in_flight \gset
select hazina.system_wallet('suspense') as suspense \gset
select hazina.system_wallet('fee_revenue') as revenue \gset
select pg_temp.balance(:'mpesa') as mpesa_before \gset
select pg_temp.balance(:'revenue') as revenue_before \gset
select pg_temp.balance(:'suspense') as suspense_before \gset

-- Funding: start
select pg_temp.act_as('30000000-0000-4000-8000-00000000000a');
select is(public.funding_start(:'amina_phone', 1000, 'KES', 'fund-key-0001') ->> 'status', 'pending',
  'a top-up starts pending');
select is(public.funding_start(:'amina_phone', 1000, 'KES', 'fund-key-0001') ->> 'created', 'false',
  'the same key returns the same session');
select throws_ok(format($$select public.funding_start('%s', 999, 'KES', 'fund-key-0001')$$, :'amina_phone'),
  'P0001', 'ref_conflict', 'the same key for a different top-up is a ref_conflict');
select throws_ok(format($$select public.funding_start('%s', 10.50, 'KES', 'fund-key-0002')$$, :'amina_phone'),
  'P0001', 'invalid_amount', 'M-Pesa moves whole shillings');
select throws_ok(format($$select public.funding_start('%s', 250001, 'KES', 'fund-key-0003')$$, :'amina_phone'),
  'P0001', 'amount_outside_provider_limits', 'M-Pesa''s per-transaction limit applies');
select throws_ok(format($$select public.funding_start('%s', 100, 'KES', 'fund-key-0004')$$, :'baraka_phone'),
  'P0001', 'source_not_found', 'nobody can fund from another user''s source');
select throws_ok(format($$select public.funding_start('%s', 100, 'USD', 'fund-key-0005')$$, :'amina_phone'),
  'P0001', 'wallet_not_found', 'a top-up needs a wallet in its currency');
select throws_ok(format($$select hazina.funding_complete(id, 1000, 'X') from public.wallet_funding_sessions$$),
  '42501', null, 'a client cannot complete its own top-up');
reset role;

select id as s1 from public.wallet_funding_sessions where client_ref = 'fund-key-0001' \gset

-- Funding: complete exactly once
select throws_ok(format($$select hazina.funding_complete('%s', 999, 'RCP0000001')$$, :'s1'),
  'P0001', 'funding_amount_mismatch', 'the provider''s amount must match the session');
select is(hazina.funding_mark_requested(:'s1', 'mr-1', 'ws_CO_0001') ->> 'provider_checkout_id', 'ws_CO_0001',
  'the provider''s checkout id is recorded');
select is(hazina.funding_complete(:'s1', 1000, 'RCP0000001') ->> 'status', 'completed', 'a confirmed top-up completes');
select is(pg_temp.balance(:'amina_wallet'), 990.0000::numeric, 'the wallet gets the amount less the 1% funding fee');
select is(pg_temp.balance(:'mpesa'), :'mpesa_before'::numeric - 1000, 'the M-Pesa clearing wallet mirrors the money at M-Pesa');
select is(hazina.funding_complete(:'s1', 1000, 'RCP0000001') ->> 'replayed', 'true', 'completing again replays');
select is(pg_temp.balance(:'amina_wallet'), 990.0000::numeric, 'and credits nothing twice');
select throws_ok(format($$select hazina.funding_complete('%s', 1000, 'RCP0000999')$$, :'s1'),
  'P0001', 'funding_session_not_pending', 'a second, different receipt for a completed session is refused');
select throws_ok(format($$select hazina.funding_fail('%s', 'failed', '1', 'late failure')$$, :'s1'),
  'P0001', 'funding_session_not_pending', 'a completed session cannot fail');
select is((select verification_status from public.wallet_sources where id = :'amina_phone'), 'verified',
  'money in from a source verifies it');
select is((select b.amount::numeric from public.billing_ledger b join public.wallet_transactions t on t.id = b.transaction_id
            where t.ref = 'funding:' || :'s1'), 10.0000::numeric,
  'the funding fee is in the billing ledger');

-- Funding: cancelled, expired, late success
select hazina.funding_start('30000000-0000-4000-8000-00000000000a', :'amina_phone', 50, 'KES', 'fund-key-0010') ->> 'id' as s2 \gset
select is(hazina.funding_fail(:'s2', 'cancelled', '1032', 'Request cancelled by user') ->> 'status', 'cancelled',
  'a declined prompt cancels the session');
select is(hazina.funding_fail(:'s2', 'cancelled', '1032', 'Request cancelled by user') ->> 'status', 'cancelled',
  'a duplicate failure is a no-op');
select throws_ok(format($$select hazina.funding_complete('%s', 50, 'RCP0000002')$$, :'s2'),
  'P0001', 'funding_session_not_pending', 'a cancelled session is never credited');
select hazina.funding_start('30000000-0000-4000-8000-00000000000a', :'amina_phone', 20, 'KES', 'fund-key-0011') ->> 'id' as s3 \gset
select is(hazina.funding_expire(:'s3') ->> 'status', 'expired', 'the sweep expires an unanswered session');
select is(hazina.funding_complete(:'s3', 20, 'RCP0000003') ->> 'status', 'completed',
  'a late success the provider confirms is still credited (the money arrived)');
select is(pg_temp.balance(:'amina_wallet'), 1009.0000::numeric, '20 less the 1.00 minimum fee');

-- Webhook events: store first, apply once
select is(hazina.webhook_ingest('mpesa', 'stk_callback', 'stk:ws_CO_0002:0', '{}', '{}', null,
  '{"action": "funding.succeeded", "checkout_id": "ws_CO_0002", "amount": "30", "receipt": "RCP0000004"}') ->> 'status',
  'unmatched', 'a callback that overtakes the checkout id is kept as unmatched');
select hazina.funding_start('30000000-0000-4000-8000-00000000000a', :'amina_phone', 30, 'KES', 'fund-key-0012') ->> 'id' as s4 \gset
select is(hazina.funding_mark_requested(:'s4', 'mr-4', 'ws_CO_0002') ->> 'status', 'completed',
  'recording the checkout id applies the early callback');
select is((select status from public.wallet_webhook_events where provider_event_key = 'stk:ws_CO_0002:0'), 'processed',
  'and the event is processed');
select is(hazina.webhook_ingest('mpesa', 'stk_callback', 'stk:ws_CO_0002:0', '{}', '{}', null,
  '{"action": "funding.succeeded", "checkout_id": "ws_CO_0002", "amount": "30", "receipt": "RCP0000004"}') ->> 'status',
  'duplicate', 'the same message again is recorded as a duplicate');
select is((select count(*)::int from public.wallet_webhook_events where provider_event_key = 'stk:ws_CO_0002:0'), 2,
  'both copies are stored');
select is(pg_temp.balance(:'amina_wallet'), 1038.0000::numeric, 'and the money arrived once (30 less 1.00)');
select is(hazina.webhook_ingest('mpesa', 'stk_callback', 'stk:ws_CO_0002:1032', '{}', '{}', null,
  '{"action": "funding.failed", "checkout_id": "ws_CO_0002", "outcome": "cancelled", "result_code": "1032"}') ->> 'error',
  'funding_session_not_pending', 'a contradicting callback after completion fails and changes nothing');
select is(hazina.webhook_ingest('kcb', 'collection.succeeded', 'evt-forged', '{}', '{}', false,
  '{"action": "funding.succeeded", "funding_session_id": "00000000-0000-0000-0000-000000000000"}') ->> 'status',
  'rejected', 'a message with a bad signature is stored as rejected and never applied');
select is(hazina.webhook_ingest('kcb', 'collection.succeeded', 'evt-forged', '{}', '{}', true,
  '{"action": "funding.succeeded", "funding_session_id": "00000000-0000-0000-0000-000000000000"}') ->> 'status',
  'unmatched', 'and a forged message never takes the key from a genuine one');
select is(hazina.webhook_ingest('mpesa', 'stk_callback', 'stk:ws_CO_0003:0', '{}', '{}', null,
  '{"action": "something.else"}') ->> 'error', 'invalid_webhook_payload', 'an unknown action fails with a stable code');
select is((select status from public.wallet_webhook_events where provider_event_key = 'stk:ws_CO_0003:0'), 'refused',
  'and the event stays stored as refused (never re-applied)');

-- Paybill (C2B)
select is(hazina.paybill_validate(:'amina_ref', 100) ->> 'accept', 'true', 'validation accepts a known account reference');
select is(hazina.paybill_validate('99999999', 100) ->> 'reason', 'unknown_account', 'and refuses an unknown one');
select is(hazina.webhook_ingest('mpesa', 'c2b_confirmation', 'c2b:QKL0000001', '{}', '{}', null,
  jsonb_build_object('action', 'paybill.credit', 'trans_id', 'QKL0000001', 'amount', '500', 'account_reference', ' ' || :'amina_ref',
                     'msisdn', '254712345678', 'short_code', '600000', 'paybill', '600000')) ->> 'status', 'unconfirmed',
  'a paybill confirmation waits for M-Pesa''s word');
select hazina.provider_query_open('mpesa', 'paybill', 'QKL0000001', 'AG_Q_0001', '600000');
select is(hazina.webhook_ingest('mpesa', 'transaction_status', 'status:AG_Q_0001:0', '{}', '{}', null,
  '{"action": "status.answer", "originator_conversation_id": "AG_Q_0001", "result_code": "0", "transaction_status": "Completed",
    "receipt": "QKL0000001", "amount": "500", "credit_party": "600000"}') ->> 'status', 'processed',
  'a paybill payment is applied when M-Pesa''s answer to our query confirms it');
select is(pg_temp.balance(:'amina_wallet'), 1533.0000::numeric, 'and credits the matching wallet (500 less 5.00)');
select is(hazina.paybill_credit('mpesa', 'QKL0000001', 500, :'amina_ref', null) ->> 'replayed', 'true',
  'a paybill payment credits once per M-Pesa transaction');
select is(hazina.paybill_credit('mpesa', 'QKL0000002', 70, 'NOSUCH', null) ->> 'matched', 'false',
  'an unknown account reference is not lost');
select is(pg_temp.balance(:'suspense'), :'suspense_before'::numeric + 70, 'it goes to suspense');

-- Withdrawals
select throws_ok(format($$select hazina.withdrawal_request('30000000-0000-4000-8000-00000000000a', '%s', 100, 'KES', 'wd-key-0001')$$, :'amina_bank'),
  'P0001', 'source_not_verified', 'payouts go only to sources money came from');
select throws_ok(format($$select hazina.withdrawal_request('30000000-0000-4000-8000-00000000000a', '%s', 5, 'KES', 'wd-key-0002')$$, :'amina_phone'),
  'P0001', 'amount_outside_provider_limits', 'B2C has a 10 shilling minimum');
select throws_ok(format($$select hazina.withdrawal_request('30000000-0000-4000-8000-00000000000a', '%s', 1600, 'KES', 'wd-key-0003')$$, :'amina_phone'),
  'P0001', 'insufficient_funds', 'the available balance must cover amount and fee');
select pg_temp.act_as('30000000-0000-4000-8000-00000000000a');
select public.withdrawal_request(:'amina_phone', 500, 'KES', 'wd-key-0004') ->> 'id' as w1 \gset
reset role;
select is(pg_temp.available(:'amina_wallet'), 1018.0000::numeric, 'a withdrawal holds amount plus the 15.00 fee');
select pg_temp.act_as('30000000-0000-4000-8000-00000000000b');
select throws_ok(format($$select public.withdrawal_cancel('%s')$$, :'w1'), 'P0001', 'withdrawal_not_found',
  'another user cannot cancel it (or learn it exists)');
reset role;
select pg_temp.act_as('30000000-0000-4000-8000-00000000000a');
select is(public.withdrawal_cancel(:'w1') ->> 'status', 'cancelled', 'the owner cancels a withdrawal not yet sent');
reset role;
select is(pg_temp.available(:'amina_wallet'), 1533.0000::numeric, 'cancelling releases the hold');
select throws_ok(format($$select hazina.withdrawal_mark_submitted('%s')$$, :'w1'), 'P0001', 'withdrawal_not_pending',
  'a cancelled withdrawal is never sent');

select hazina.withdrawal_request('30000000-0000-4000-8000-00000000000a', :'amina_phone', 300, 'KES', 'wd-key-0005') ->> 'id' as w2 \gset
select throws_ok(format($$select hazina.withdrawal_complete('%s', 'B2C0000001')$$, :'w2'), 'P0001', 'withdrawal_not_submitted',
  'nothing unsent can complete');
select hazina.withdrawal_mark_submitted(:'w2');
select pg_temp.act_as('30000000-0000-4000-8000-00000000000a');
select throws_ok(format($$select public.withdrawal_cancel('%s')$$, :'w2'), 'P0001', 'withdrawal_not_cancellable',
  'once sent to the provider it cannot be cancelled');
reset role;
select is(hazina.webhook_ingest('mpesa', 'b2c_result', 'b2c:' || :'w2' || ':0', '{}', '{}', null,
  jsonb_build_object('action', 'payout.succeeded', 'withdrawal_id', :'w2', 'receipt', 'B2C0000001', 'amount', '300')) ->> 'status',
  'unconfirmed', 'a B2C result that overtakes the acknowledgement waits for M-Pesa''s word');
select hazina.provider_query_open('mpesa', 'withdrawal', :'w2', 'AG_Q_0002', '600000');
select is(hazina.webhook_ingest('mpesa', 'transaction_status', 'status:AG_Q_0002:0', '{}', '{}', null,
  '{"action": "status.answer", "originator_conversation_id": "AG_Q_0002", "result_code": "0", "transaction_status": "Completed",
    "receipt": "B2C0000001", "amount": "300"}') ->> 'status', 'processed',
  'M-Pesa''s answer to our Transaction Status query completes the payout');
select is(hazina.withdrawal_mark_processing(:'w2', 'AG_0001') ->> 'status', 'completed',
  'the late acknowledgement only records the conversation id');
select is(pg_temp.balance(:'amina_wallet'), 1218.0000::numeric, 'the wallet paid amount plus fee');
select is(pg_temp.balance(:'in_flight'), 0.0000::numeric, 'nothing is left in flight');
select is(pg_temp.balance(:'mpesa'), :'mpesa_before'::numeric - 1620 + 300,
  'the clearing wallet mirrors M-Pesa: 1620 in (STK + paybill), 300 out');
select throws_ok(format($$select hazina.withdrawal_fail('%s', '2001', 'late')$$, :'w2'), 'P0001', 'withdrawal_not_pending',
  'a completed withdrawal cannot fail');

select hazina.withdrawal_request('30000000-0000-4000-8000-00000000000a', :'amina_phone', 100, 'KES', 'wd-key-0006') ->> 'id' as w3 \gset
select hazina.withdrawal_mark_submitted(:'w3');
select hazina.withdrawal_mark_processing(:'w3', 'AG_0003');
select is(hazina.withdrawal_fail(:'w3', '2001', 'The initiator information is invalid.') ->> 'status', 'failed',
  'a failed payout fails the withdrawal');
select is(pg_temp.available(:'amina_wallet'), 1218.0000::numeric, 'and releases the whole hold, fee included');
select is(hazina.withdrawal_reverse(:'w2', 'customer reversal') ->> 'status', 'reversed', 'a completed payout can be reversed');
select is(pg_temp.balance(:'amina_wallet'), 1533.0000::numeric, 'which returns amount and fee');
select is(pg_temp.balance(:'revenue'), :'revenue_before'::numeric + 10 + 1 + 1 + 5, 'revenue keeps only the fees not refunded');

-- Who sees what
select pg_temp.act_as('30000000-0000-4000-8000-00000000000b');
select is((select count(*)::int from public.wallet_sources), 1, 'a user sees only their own sources');
select is((select count(*)::int from public.wallet_funding_sessions) + (select count(*)::int from public.wallet_withdrawals), 0,
  'and none of another user''s sessions or withdrawals');
select throws_ok($$select count(*) from public.wallet_webhook_events$$, '42501', null, 'users cannot read webhook events');
select throws_ok(format($$update public.wallet_withdrawals set status = 'completed' where id = '%s'$$, :'w3'), '42501', null,
  'nobody changes a withdrawal by hand');
reset role;
select pg_temp.act_as('30000000-0000-4000-8000-00000000000a');
select is((select count(*)::int from public.wallet_funding_sessions), 5, 'the owner sees her sessions');
reset role;
select pg_temp.act_as(null, 'anon');
select throws_ok($$select count(*) from public.wallet_sources$$, '42501', null, 'anon reads no sources');
reset role;
select pg_temp.act_as(null, 'service_role');
select ok((select count(*) from public.wallet_webhook_events) >= 6, 'the service role reads webhook events');
reset role;

-- An STK push whose request timed out on our side (session expired, no checkout id) still
-- reached the phone and was paid: the success callback names a checkout we never learned.
select hazina.funding_start('30000000-0000-4000-8000-00000000000a', :'amina_phone', 75, 'KES', 'fund-key-0020') ->> 'id' as s5 \gset
select hazina.funding_expire(:'s5', 'provider_unavailable: timed out');
select pg_temp.balance(:'amina_wallet') as amina_before_orphan \gset
select is(hazina.webhook_ingest('mpesa', 'stk_callback', 'stk:ws_CO_0100:0', '{}', '{}', null,
  '{"action": "funding.succeeded", "checkout_id": "ws_CO_0100", "amount": "75", "receipt": "RCP0000100", "msisdn": "254712345678"}') ->> 'status',
  'processed', 'a paid STK push we never heard back about is matched by number, amount and time');
select results_eq(format($$select status, provider_checkout_id from public.wallet_funding_sessions where id = '%s'$$, :'s5'),
  $$values ('completed'::text, 'ws_CO_0100'::text)$$, 'the session completes and takes the checkout id');
select is(pg_temp.balance(:'amina_wallet'), :'amina_before_orphan'::numeric + 74, 'the money is credited once (75 less 1.00)');
-- Not matched: another amount, a session older than the prompt could live, or sessions of
-- two wallets with the same number.
select hazina.funding_start('30000000-0000-4000-8000-00000000000a', :'amina_phone', 80, 'KES', 'fund-key-0021') ->> 'id' as s6 \gset
select hazina.funding_expire(:'s6', 'provider_unavailable: timed out');
update public.wallet_funding_sessions set created_at = now() - interval '1 hour' where id = :'s6';
select pg_temp.act_as('30000000-0000-4000-8000-00000000000b');
select public.wallet_source_add('mpesa', '0712345678') ->> 'id' as baraka_shared_phone \gset
reset role;
select hazina.funding_start('30000000-0000-4000-8000-00000000000a', :'amina_phone', 90, 'KES', 'fund-key-0022') ->> 'id' as s7 \gset
select hazina.funding_start('30000000-0000-4000-8000-00000000000b', :'baraka_shared_phone', 90, 'KES', 'fund-key-0023') ->> 'id' as s8 \gset
select hazina.funding_expire(:'s7', 'provider_unavailable: timed out');
select hazina.funding_expire(:'s8', 'provider_unavailable: timed out');
select is(array(select hazina.webhook_ingest('mpesa', 'stk_callback', 'stk:' || c || ':0', '{}', '{}', null,
                  jsonb_build_object('action', 'funding.succeeded', 'checkout_id', c, 'amount', a, 'msisdn', '254712345678')) ->> 'status'
                  from (values ('ws_CO_0101', '76'), ('ws_CO_0102', '80'), ('ws_CO_0103', '90')) v(c, a)),
  array['unmatched', 'unmatched', 'unmatched'],
  'no other amount, no stale session, no guess between two wallets: those wait for an operator');

select is_empty($$select * from hazina.reconcile()$$, 'reconciliation finds no discrepancy');

select * from finish();
rollback;
