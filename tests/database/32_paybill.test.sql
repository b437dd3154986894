-- Paybill (M-Pesa C2B): validation, a confirmation credits the wallet its account reference
-- names exactly once, and an unknown reference is kept in suspense, never lost.
begin;
select plan(10);

\ir helpers.psql
\ir money_movement.psql

select pg_temp.as_user(:'amina', $$select public.wallet_paybill_reference('KES')$$) ->> 'account_reference' as amina_ref \gset

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
select is(pg_temp.balance(:'amina_wallet'), 495.0000::numeric, 'and credits the matching wallet (500 less 5.00)');
select is(hazina.paybill_credit('mpesa', 'QKL0000001', 500, :'amina_ref', null) ->> 'replayed', 'true',
  'a paybill payment credits once per M-Pesa transaction');
select is(hazina.paybill_credit('mpesa', 'QKL0000002', 70, 'NOSUCH', null) ->> 'matched', 'false',
  'an unknown account reference is not lost');
select is(pg_temp.balance(:'suspense'), :'suspense_before'::numeric + 70, 'it goes to suspense');

select pg_temp.books_balance();

select * from finish();
rollback;
