-- Callback trust: a Daraja callback is a claim. Paybill confirmations and B2C results wait
-- ('unconfirmed') for M-Pesa's answer to a Transaction Status query WE made; answers that
-- name no query of ours decide nothing; refused claims never hold the event key; refused
-- bodies are stored bounded; the provider sweep's admin is decided here.
begin;
select plan(27);

\ir helpers.psql

create function pg_temp.answer(p_ocid text, p_code text, p_status text, p_receipt text, p_amount text, p_party text)
  returns jsonb language sql as $$
  select hazina.webhook_ingest('mpesa', 'transaction_status', 'status:' || p_ocid || ':' || p_code, '{}', '{}', null,
    jsonb_build_object('action', 'status.answer', 'originator_conversation_id', p_ocid, 'result_code', p_code,
                       'result_desc', 'sandbox', 'transaction_status', p_status, 'receipt', p_receipt, 'amount', p_amount,
                       'credit_party', p_party)) $$;
create function pg_temp.confirmation(p_trans_id text, p_amount text, p_account text, p_short_code text default '600000')
  returns jsonb language sql as $$
  select hazina.webhook_ingest('mpesa', 'c2b_confirmation',
    'c2b_confirmation:' || p_trans_id || ':' || p_amount || ':' || p_short_code || ':' || p_account, '{}', '{}', null,
    jsonb_build_object('action', 'paybill.credit', 'trans_id', p_trans_id, 'amount', p_amount, 'account_reference', p_account,
                       'msisdn', '254700000001', 'short_code', p_short_code, 'paybill', '600000')) $$;
create function pg_temp.event(p_id uuid) returns public.wallet_webhook_events
  language sql as $$ select * from public.wallet_webhook_events where id = p_id $$;

insert into public.auth_users (id, email, role) values
  ('34000000-0000-4000-8000-00000000000a', 'trust-a@money.test', 'customer'),
  ('34000000-0000-4000-8000-00000000000b', 'trust-b@money.test', 'customer'),
  ('34000000-0000-4000-8000-00000000000c', 'trust-admin@money.test', 'admin');
select pg_temp.act_as('34000000-0000-4000-8000-00000000000a');
select public.wallet_open('KES');
select public.wallet_source_add('mpesa', '0713 400 001') ->> 'id' as phone \gset
select public.wallet_paybill_reference('KES') ->> 'account_reference' as ref_a \gset
reset role;
select pg_temp.act_as('34000000-0000-4000-8000-00000000000b');
select public.wallet_open('KES');
select public.wallet_paybill_reference('KES') ->> 'account_reference' as ref_b \gset
reset role;
select id as wallet_a from public.wallets where user_id = '34000000-0000-4000-8000-00000000000a' \gset
select id as wallet_b from public.wallets where user_id = '34000000-0000-4000-8000-00000000000b' \gset

-- Paybill confirmations
select is(pg_temp.confirmation('TRUST00001', '500', :'ref_a') ->> 'status', 'unconfirmed',
  'a paybill confirmation credits nothing by itself: it waits for M-Pesa');
select is(pg_temp.balance(:'wallet_a'), 0.0000::numeric, 'nothing is credited yet');
select is(pg_temp.answer('AG_UNASKED_1', '0', 'Completed', 'TRUST00001', '500', '600000') ->> 'status', 'unmatched',
  'an answer that names no query of ours is not believed');
select is(pg_temp.balance(:'wallet_a'), 0.0000::numeric, 'and credits nothing');
select is((select count(*)::int from public.wallet_webhook_events
            where status = 'unconfirmed' and payload ->> 'trans_id' = 'TRUST00001'), 1, 'the confirmation still waits');

select hazina.provider_query_open('mpesa', 'paybill', 'TRUST00001', 'AG_ASKED_1', '600000');
select is(pg_temp.answer('AG_ASKED_1', 'R000001', null, null, null, null) ->> 'status', 'processed',
  'M-Pesa''s answer to our query is applied');
select matches((select error from public.wallet_webhook_events
                 where event_type = 'c2b_confirmation' and payload ->> 'trans_id' = 'TRUST00001'),
  '^not_confirmed_by_provider: M-Pesa does not know this transaction', 'a TransID M-Pesa does not know is refused, saying why');
select is(pg_temp.balance(:'wallet_a'), 0.0000::numeric, 'and nothing is credited');

select pg_temp.confirmation('TRUST00002', '9000', :'ref_a') ->> 'event_id' as inflated \gset
select pg_temp.confirmation('TRUST00002', '90', :'ref_a') ->> 'event_id' as genuine \gset
select hazina.provider_query_open('mpesa', 'paybill', 'TRUST00002', 'AG_ASKED_2', '600000');
select pg_temp.answer('AG_ASKED_2', '0', 'Completed', 'TRUST00002', '90', '600000');
select is((pg_temp.event(:'genuine')).status, 'processed', 'the confirmation M-Pesa agrees with is credited');
select is(pg_temp.balance(:'wallet_a'), 90.0000::numeric, 'for the amount M-Pesa confirmed');
select is((pg_temp.event(:'inflated')).status, 'refused', 'an inflated copy of the same TransID is refused');
select matches((pg_temp.event(:'inflated')).error, 'amount 9000, M-Pesa says 90', 'and its record says what was wrong');

select pg_temp.confirmation('TRUST00003', '40', :'ref_a') ->> 'event_id' as to_a \gset
select pg_temp.confirmation('TRUST00003', '40', :'ref_b') ->> 'event_id' as to_b \gset
select hazina.provider_query_open('mpesa', 'paybill', 'TRUST00003', 'AG_ASKED_3', '600000');
select pg_temp.answer('AG_ASKED_3', '0', 'Completed', 'TRUST00003', '40', '600000');
select is(array[(pg_temp.event(:'to_a')).status, (pg_temp.event(:'to_b')).status], array['refused', 'refused'],
  'confirmations of one TransID naming different accounts are both refused (M-Pesa cannot say whose it is)');
select is(pg_temp.balance(:'wallet_a') + pg_temp.balance(:'wallet_b'), 90.0000::numeric, 'and neither is credited');

select is(pg_temp.confirmation('TRUST00004', '40', :'ref_a', '600638') ->> 'status', 'refused',
  'a payment to another short code is refused at once');
select matches((select error from public.wallet_webhook_events where payload ->> 'trans_id' = 'TRUST00004'),
  '^paybill_short_code_mismatch', 'with the reason');

-- B2C results
select hazina.funding_start('34000000-0000-4000-8000-00000000000a', :'phone', 1000, 'KES', 'trust-fund-1') ->> 'id' as session \gset
select hazina.funding_mark_requested(:'session', 'mr-trust', 'ws_CO_TRUST_1');
select hazina.funding_complete(:'session', 1000, 'TRUSTRCPT1');
select pg_temp.balance(:'wallet_a') as funded \gset
select hazina.withdrawal_request('34000000-0000-4000-8000-00000000000a', :'phone', 300, 'KES', 'trust-wd-1') ->> 'id' as wd \gset
select hazina.withdrawal_mark_submitted(:'wd');
select hazina.withdrawal_mark_processing(:'wd', 'AG_B2C_TRUST_1');
select hazina.webhook_ingest('mpesa', 'b2c_result', 'b2c:' || :'wd' || ':2001', '{}', '{}', null,
  jsonb_build_object('action', 'payout.failed', 'withdrawal_id', :'wd', 'result_code', '2001', 'result_desc', 'forged'))
  ->> 'event_id' as forged_failure \gset
select is((pg_temp.event(:'forged_failure')).status, 'unconfirmed', 'a B2C failure is a claim: stored unconfirmed');
select is((select status from public.wallet_withdrawals where id = :'wd'), 'processing', 'the hold is not released on its word');
-- M-Pesa's answer arrives before we recorded the query (it comes by callback): it waits.
select is(pg_temp.answer('AG_ASKED_4', '0', 'Completed', 'B2CTRUST01', '300', null) ->> 'status', 'unmatched',
  'an answer that overtakes our record of the query waits');
select hazina.provider_query_open('mpesa', 'withdrawal', :'wd', 'AG_ASKED_4', '600000');
select is((select status from public.wallet_withdrawals where id = :'wd'), 'completed',
  'recording the query applies the answer: M-Pesa says paid, so the payout completed');
select is((pg_temp.event(:'forged_failure')).status, 'refused', 'and the contradicting failure is refused');
select is(pg_temp.answer('AG_ASKED_4', '2001', null, null, null, null) ->> 'status', 'refused',
  'a second, different answer to one query is not believed');

-- Refused claims never hold the key; refused bodies are bounded
select is(hazina.webhook_ingest('mpesa', 'stk_callback', 'stk:ws_CO_TRUST_2:0', repeat('x', 5000), '{}', false,
  '{"action": "rejected", "reason": "wrong path token"}') ->> 'status', 'rejected', 'a bad token is rejected');
select is((select array[length(raw_body), body_bytes] from public.wallet_webhook_events
            where provider_event_key = 'stk:ws_CO_TRUST_2:0' and status = 'rejected'), array[2048, 5000],
  'and only its first 2 KB is stored, with its size');
select is((select body_sha256 from public.wallet_webhook_events where provider_event_key = 'stk:ws_CO_TRUST_2:0'),
  encode(sha256(convert_to(repeat('x', 5000), 'UTF8')), 'hex'), 'and the hash of the whole body');

-- The provider sweep's admin
select pg_temp.act_as('34000000-0000-4000-8000-00000000000a');
select throws_ok($$select public.provider_sweep_authorize()$$, 'P0001', 'forbidden', 'a customer may not run the provider sweep');
reset role;
select pg_temp.act_as('34000000-0000-4000-8000-00000000000c');
select lives_ok($$select public.provider_sweep_authorize()$$, 'an admin (by auth_users.role) may');
reset role;

select * from finish();
rollback;
