-- Withdrawals (payouts): request under a hold, cancel, submit, complete (even when the result
-- overtakes the acknowledgement), fail, reverse; what each role can see and change.
begin;
select plan(26);

\ir helpers.psql
\ir money_movement.psql

-- Amina's M-Pesa number has paid in (a top-up of 1000: 990 after the 1% fee), so payouts may
-- go to it; no money has come from her KCB account.
select hazina.funding_start(:'amina', :'amina_phone', 1000, 'KES', 'wd-topup-0001') ->> 'id' as topup \gset
select hazina.funding_complete(:'topup', 1000, 'RCPW000001');

select throws_ok(format($$select hazina.withdrawal_request('30000000-0000-4000-8000-00000000000a', '%s', 100, 'KES', 'wd-key-0001')$$, :'amina_bank'),
  'P0001', 'source_not_verified', 'payouts go only to sources money came from');
select throws_ok(format($$select hazina.withdrawal_request('30000000-0000-4000-8000-00000000000a', '%s', 5, 'KES', 'wd-key-0002')$$, :'amina_phone'),
  'P0001', 'amount_outside_provider_limits', 'B2C has a 10 shilling minimum');
select throws_ok(format($$select hazina.withdrawal_request('30000000-0000-4000-8000-00000000000a', '%s', 1600, 'KES', 'wd-key-0003')$$, :'amina_phone'),
  'P0001', 'insufficient_funds', 'the available balance must cover amount and fee');
select pg_temp.act_as('30000000-0000-4000-8000-00000000000a');
select public.withdrawal_request(:'amina_phone', 500, 'KES', 'wd-key-0004') ->> 'id' as w1 \gset
reset role;
select is(pg_temp.available(:'amina_wallet'), 475.0000::numeric, 'a withdrawal holds amount plus the 15.00 fee');
select pg_temp.act_as('30000000-0000-4000-8000-00000000000b');
select throws_ok(format($$select public.withdrawal_cancel('%s')$$, :'w1'), 'P0001', 'withdrawal_not_found',
  'another user cannot cancel it (or learn it exists)');
reset role;
select pg_temp.act_as('30000000-0000-4000-8000-00000000000a');
select is(public.withdrawal_cancel(:'w1') ->> 'status', 'cancelled', 'the owner cancels a withdrawal not yet sent');
reset role;
select is(pg_temp.available(:'amina_wallet'), 990.0000::numeric, 'cancelling releases the hold');
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
select is(pg_temp.balance(:'amina_wallet'), 675.0000::numeric, 'the wallet paid amount plus fee');
select is(pg_temp.balance(:'in_flight'), 0.0000::numeric, 'nothing is left in flight');
select is(pg_temp.balance(:'mpesa'), :'mpesa_before'::numeric - 1000 + 300,
  'the clearing wallet mirrors M-Pesa: 1000 in (the top-up), 300 out');
select throws_ok(format($$select hazina.withdrawal_fail('%s', '2001', 'late')$$, :'w2'), 'P0001', 'withdrawal_not_pending',
  'a completed withdrawal cannot fail');

select hazina.withdrawal_request('30000000-0000-4000-8000-00000000000a', :'amina_phone', 100, 'KES', 'wd-key-0006') ->> 'id' as w3 \gset
select hazina.withdrawal_mark_submitted(:'w3');
select hazina.withdrawal_mark_processing(:'w3', 'AG_0003');
select is(hazina.withdrawal_fail(:'w3', '2001', 'The initiator information is invalid.') ->> 'status', 'failed',
  'a failed payout fails the withdrawal');
select is(pg_temp.available(:'amina_wallet'), 675.0000::numeric, 'and releases the whole hold, fee included');
select is(hazina.withdrawal_reverse(:'w2', 'customer reversal') ->> 'status', 'reversed', 'a completed payout can be reversed');
select is(pg_temp.balance(:'amina_wallet'), 990.0000::numeric, 'which returns amount and fee');
select is(pg_temp.balance(:'revenue'), :'revenue_before'::numeric + 10, 'revenue keeps only the fees not refunded');

-- Who sees what
select pg_temp.act_as('30000000-0000-4000-8000-00000000000b');
select is((select count(*)::int from public.wallet_funding_sessions) + (select count(*)::int from public.wallet_withdrawals), 0,
  'and none of another user''s sessions or withdrawals');
select throws_ok(format($$update public.wallet_withdrawals set status = 'completed' where id = '%s'$$, :'w3'), '42501', null,
  'nobody changes a withdrawal by hand');
reset role;

select pg_temp.books_balance();

select * from finish();
rollback;
