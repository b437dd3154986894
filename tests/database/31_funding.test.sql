-- Funding sessions (top-ups): start, complete exactly once, cancel, expire, late success, and
-- the paid STK push we never heard back about; what each role can see.
begin;
select plan(32);

\ir helpers.psql
\ir money_movement.psql

-- Start, through the client API
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

-- Complete exactly once
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

-- Cancelled, expired, late success
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

-- Who sees what (another user sees none of them: 33_withdrawals)
select pg_temp.act_as('30000000-0000-4000-8000-00000000000a');
select is((select count(*)::int from public.wallet_funding_sessions), 3, 'the owner sees her sessions');
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
select pg_temp.source_add(:'baraka', 'mpesa', '0712345678') as baraka_shared_phone \gset
select hazina.funding_start('30000000-0000-4000-8000-00000000000a', :'amina_phone', 90, 'KES', 'fund-key-0022') ->> 'id' as s7 \gset
select hazina.funding_start('30000000-0000-4000-8000-00000000000b', :'baraka_shared_phone', 90, 'KES', 'fund-key-0023') ->> 'id' as s8 \gset
select hazina.funding_expire(:'s7', 'provider_unavailable: timed out');
select hazina.funding_expire(:'s8', 'provider_unavailable: timed out');
select is(array(select hazina.webhook_ingest('mpesa', 'stk_callback', 'stk:' || c || ':0', '{}', '{}', null,
                  jsonb_build_object('action', 'funding.succeeded', 'checkout_id', c, 'amount', a, 'msisdn', '254712345678')) ->> 'status'
                  from (values ('ws_CO_0101', '76'), ('ws_CO_0102', '80'), ('ws_CO_0103', '90')) v(c, a)),
  array['unmatched', 'unmatched', 'unmatched'],
  'no other amount, no stale session, no guess between two wallets: those wait for an operator');

select pg_temp.books_balance();

select * from finish();
rollback;
