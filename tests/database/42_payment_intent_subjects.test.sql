-- An intent opened for a commerce object names it, may pay into another wallet (escrow) and
-- posts as its own transaction type; the merchant's own intents are unchanged.
begin;
select plan(9);

\ir helpers.psql

select pg_temp.user_create('merchant', '42000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '42000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 100);
select hazina.system_wallet('escrow') as escrow \gset

select hazina.payment_intent_open(:'duka', 30, 'KES', 'automatic', :'amina', 'Order 1', null, null, 'sub-0001',
  'order', '42000000-0000-4000-8000-0000000000f1', :'escrow', 'merchant_payment') ->> 'id' as pi1 \gset
select is((select array[subject_type, subject_id::text, payee_wallet_id::text, transaction_type::text]
             from public.payment_intents where id = :'pi1'),
  array['order', '42000000-0000-4000-8000-0000000000f1', :'escrow', 'merchant_payment'], 'subject, payee and type are kept');
select is(hazina.payment_intent_open(:'duka', 30, 'KES', 'automatic', :'amina', 'Order 1', null, null, 'sub-0001',
  'order', '42000000-0000-4000-8000-0000000000f1', :'escrow', 'merchant_payment') ->> 'created', 'false', 'the same request returns it');
select throws_ok(format($$select hazina.payment_intent_open('%s', 30, 'KES', 'automatic', '%s', null, null, null, 'sub-0001',
  'order', '42000000-0000-4000-8000-0000000000f2', null, null)$$, :'duka', :'amina'), 'P0001', 'ref_conflict',
  'the same ref for another subject is a conflict');
select throws_ok(format($$select hazina.payment_intent_open('%s', 30, 'KES', 'automatic', null, null, null, null, 'sub-0002',
  'order', null, null, null)$$, :'duka'), 'P0001', 'invalid_argument', 'a subject needs both halves');
select throws_ok(format($$select hazina.payment_intent_open('%s', 30, 'KES', 'automatic', null, null, null, null, 'sub-0003',
  null, null, null, 'no_such_type')$$, :'duka'), 'P0001', 'unknown_transaction_type', 'an unknown transaction type');
select throws_ok(format($$select hazina.payment_intent_open('%s', 30, 'KES', 'automatic', null, null, null, null, 'sub-0004',
  null, null, gen_random_uuid(), null)$$, :'duka'), 'P0001', 'wallet_not_found', 'an unknown payee wallet');

select hazina.payment_intent_confirm(:'pi1', :'amina', format('[{"type": "wallet", "wallet_id": "%s", "amount": "30"}]', :'amina_wallet')::jsonb);
select is((select kind::text from public.wallet_transactions t join public.payment_intents p on p.capture_transaction_id = t.id
            where p.id = :'pi1'), 'merchant_payment', 'the capture posts as the intent''s type');
select is(pg_temp.balance(:'escrow'), 30.0000, 'the money reached the named payee');

select hazina.payment_intent_create(:'duka', 10, 'KES', 'automatic', :'amina', null, null, null, 'sub-0005') ->> 'id' as pi2 \gset
select is((select array[payee_wallet_id::text, transaction_type::text, coalesce(subject_type, '-')] from public.payment_intents where id = :'pi2'),
  array[:'duka_wallet', 'payment_intent', '-'], 'a merchant''s own intent pays its wallet as payment_intent');

select * from finish();
rollback;
