-- Provider webhook events: stored first, applied once; duplicates, callbacks that overtake
-- the request, contradictions, bad signatures and unknown actions; who may read them.
begin;
select plan(15);

\ir helpers.psql
\ir money_movement.psql

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
select is(pg_temp.balance(:'amina_wallet'), 29.0000::numeric, 'and the money arrived once (30 less 1.00)');
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

-- Who sees what
select pg_temp.act_as('30000000-0000-4000-8000-00000000000b');
select throws_ok($$select count(*) from public.wallet_webhook_events$$, '42501', null, 'users cannot read webhook events');
reset role;
select pg_temp.act_as_service_role();
select ok((select count(*) from public.wallet_webhook_events) >= 6, 'the service role reads webhook events');
reset role;

select pg_temp.books_balance();

select * from finish();
rollback;
