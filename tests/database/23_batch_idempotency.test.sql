-- Batch posting (hazina.transfer_batch) and the idempotency store behind the edge
-- middleware (hazina.idempotency_begin / complete / abandon / purge_expired).
begin;
select plan(69);

\ir helpers.psql

select pg_temp.wallet_open(pg_temp.user_create('customer', '23000000-0000-4000-8000-00000000000a')) as alice,
       pg_temp.wallet_open(pg_temp.user_create('customer', '23000000-0000-4000-8000-00000000000b')) as bob,
       pg_temp.wallet_open(pg_temp.user_create('customer', '23000000-0000-4000-8000-00000000000c')) as carol \gset
select hazina.system_wallet('fee_revenue') as revenue, pg_temp.balance(hazina.system_wallet('fee_revenue')) as revenue_start \gset

-- P2P: 0.5%, at least 1.00, at most 100.00.
insert into public.billing_fee_catalog (transaction_type, percentage_bps, minimum_amount, maximum_amount, active_from)
values ('p2p_transfer', 50, 1, 100, now() - interval '1 day');
select pg_temp.fund(:'alice', 1000.00);

---------------------------------------------------------------------------------------------
-- transfer_batch: well-formed ids (the rows are locked up front)
select format('[
  {"ref": "b-1", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "100.00"},
  {"ref": "b-1", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "100.00"},
  {"ref": "b-2", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "5000.00"},
  {"ref": "b-3", "from_wallet_id": "%2$s", "to_wallet_id": "%3$s", "amount": 10},
  {"ref": "b-1", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "99.00"},
  {"ref": "b-4", "from_wallet_id": "%1$s", "to_wallet_id": "23000000-0000-4000-8000-0000000000ff", "amount": "1.00"},
  {"ref": "b-5", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "0.001"},
  {"ref": "b-6", "from_wallet_id": "%1$s", "to_wallet_id": "%1$s", "amount": "1.00"},
  {"from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "1.00"}
]', :'alice', :'bob', :'carol') as batch1 \gset
select hazina.transfer_batch(:'batch1'::jsonb) as result1 \gset

select is(jsonb_path_query_array(:'result1'::jsonb, '$[*].index'), '[0, 1, 2, 3, 4, 5, 6, 7, 8]'::jsonb,
  'the batch returns one result per item, in order');
select is(jsonb_path_query_array(:'result1'::jsonb, '$[*].status'),
  '["posted", "replayed", "failed", "posted", "failed", "failed", "failed", "failed", "failed"]'::jsonb,
  'each item is posted, replayed or failed on its own');
select is(jsonb_path_query_array(:'result1'::jsonb, '$[*] ? (@.status == "failed").error'),
  '["insufficient_funds", "ref_conflict", "wallet_not_found", "invalid_amount", "same_wallet", "invalid_ref"]'::jsonb,
  'a failed item reports its stable error code');
select is(jsonb_path_query_array(:'result1'::jsonb, '$[*] ? (@.status == "failed").ref'),
  '["b-2", "b-1", "b-4", "b-5", "b-6", null]'::jsonb, 'a failed item names its ref');
select is((:'result1'::jsonb -> 0) ->> 'fee', '1.0000', 'a posted item carries the transfer result (fee included)');
select is((:'result1'::jsonb -> 1) ->> 'transaction_id', (:'result1'::jsonb -> 0) ->> 'transaction_id',
  'a duplicate ref inside the batch replays the first one');
select is((select count(*)::int from public.wallet_ledger l join public.wallet_transactions t on t.id = l.transaction_id
            where t.ref = 'b-1'), 4, 'and posts once (principal + fee legs)');
select is((select count(*)::int from public.wallet_transactions where ref in ('b-2', 'b-4', 'b-5', 'b-6')), 0,
  'failed items leave no transaction behind');
select is((select balance from public.wallet_balances where wallet_id = :'alice'), 899.0000::numeric,
  'alice paid 100 + 1.00 once; the failed items took nothing');
select is((select balance from public.wallet_balances where wallet_id = :'bob'), 89.0000::numeric,
  'a later item may spend what an earlier one credited (100 - 10 - 1.00)');
select is((select balance from public.wallet_balances where wallet_id = :'carol'), 10.0000::numeric, 'carol received 10');
select is((select count(*)::int from public.billing_ledger where transaction_id in
            (select id from public.wallet_transactions where ref like 'b-%')), 2, 'one billing row per posted item');

select hazina.transfer_batch(:'batch1'::jsonb) as result1_again \gset
select is(jsonb_path_query_array(:'result1_again'::jsonb, '$[*].status'),
  '["replayed", "replayed", "failed", "replayed", "failed", "failed", "failed", "failed", "failed"]'::jsonb,
  'a retried batch replays what was posted and fails what failed');
select is((select balance from public.wallet_balances where wallet_id = :'alice'), 899.0000::numeric, 'and moves nothing twice');

-- Malformed items fail alone (no up-front locking possible with a bad id).
select format('[
  {"ref": "m-1", "from_wallet_id": "not-a-uuid", "to_wallet_id": "%2$s", "amount": "1.00"},
  {"ref": "m-2", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "abc"},
  {"ref": "m-3", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "50.00"},
  {"ref": "m-4", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": {"value": 1}},
  {"ref": "m-5", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "NaN"},
  {"ref": "m-3", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "50.00"}
]', :'alice', :'bob') as batch2 \gset
select hazina.transfer_batch(:'batch2'::jsonb) as result2 \gset
select is(jsonb_path_query_array(:'result2'::jsonb, '$[*].status'),
  '["failed", "failed", "posted", "failed", "failed", "replayed"]'::jsonb,
  'a bad uuid or a non-numeric amount fails only its own item');
select is(jsonb_path_query_array(:'result2'::jsonb, '$[*] ? (@.status == "failed").error'),
  '["invalid_argument", "invalid_argument", "invalid_argument", "invalid_amount"]'::jsonb,
  'malformed items report invalid_argument (NaN parses, and is an invalid amount)');
select is((select balance from public.wallet_balances where wallet_id = :'alice'), 848.0000::numeric,
  'only the well-formed item moved money (50 + 1.00)');
select is((select count(*)::int from public.wallet_transactions where ref like 'm-%'), 1, 'one transaction for the batch');

select throws_ok($$select hazina.transfer_batch('{"ref": "x"}')$$, 'P0001', 'invalid_entries', 'a batch must be an array');
select throws_ok($$select hazina.transfer_batch('[]')$$, 'P0001', 'invalid_entries', 'a batch cannot be empty');
select throws_ok($$select hazina.transfer_batch(null)$$, 'P0001', 'invalid_entries', 'a batch cannot be null');

-- Every transaction that survived (including those of failed items' savepoints) balances.
select lives_ok($$set constraints all immediate$$, 'the commit-time balance check passes: failed items left no headers');
-- Back to commit time: checked per statement, a header would fail before its entries exist.
set constraints all deferred;
select is((select balance from public.wallet_balances where wallet_id = :'revenue') - :'revenue_start'::numeric, 3.0000::numeric,
  'fee revenue holds the three fees charged');

-- Who may run a batch
select pg_temp.act_as('23000000-0000-4000-8000-00000000000a');
select throws_ok(format($$select hazina.transfer_batch('[{"ref": "c-1", "from_wallet_id": "%s", "to_wallet_id": "%s", "amount": "1"}]')$$,
  :'alice', :'bob'), '42501', null, 'an authenticated client cannot post batches');
reset role;
select pg_temp.act_as_anon();
select throws_ok($$select hazina.transfer_batch('[]')$$, '42501', null, 'anon cannot post batches');
reset role;
select pg_temp.act_as_service_role();
select is(hazina.transfer_batch(format('[{"ref": "s-1", "from_wallet_id": "%s", "to_wallet_id": "%s", "amount": "1.00"}]',
  :'bob', :'carol')::jsonb) -> 0 ->> 'status', 'posted', 'service_role posts batches');
reset role;

---------------------------------------------------------------------------------------------
-- Idempotency store
select is((select row(outcome, response_status, response_body)::text
             from hazina.idempotency_begin('user-1', 'key-00000001', 'POST /transfers', 'hash-a')),
  row('started', null::int, null::jsonb)::text, 'a new key starts the work');
select is((select row(status, locked_until, expires_at)::text from public.payment_idempotency where idempotency_key = 'user-1/key-00000001'),
  row('in_progress', now() + interval '60 seconds', now() + interval '24 hours')::text,
  'it is recorded in progress, locked for 60 s, kept for 24 h');
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'key-00000001', 'POST /transfers', 'hash-a')$$,
  'P0001', 'idempotency_key_in_use', 'the same request while the first is running is idempotency_key_in_use');
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'key-00000001', 'POST /transfers', 'hash-b')$$,
  'P0001', 'idempotency_key_reused', 'another body with the same key is idempotency_key_reused');
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'key-00000001', 'POST /wallets', 'hash-a')$$,
  'P0001', 'idempotency_key_reused', 'another endpoint with the same key is idempotency_key_reused');
select is((select outcome from hazina.idempotency_begin('user-2', 'key-00000001', 'POST /transfers', 'hash-a')), 'started',
  'keys are scoped to their owner: another user may use the same key');

select hazina.idempotency_complete('user-1', 'key-00000001', 201, '{"transaction_id": "t-1", "amount": "10.00"}');
select is((select row(outcome, response_status, response_body)::text
             from hazina.idempotency_begin('user-1', 'key-00000001', 'POST /transfers', 'hash-a')),
  row('replay', 201, '{"transaction_id": "t-1", "amount": "10.00"}'::jsonb)::text,
  'a completed key replays the stored status and body');
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'key-00000001', 'POST /transfers', 'hash-b')$$,
  'P0001', 'idempotency_key_reused', 'a completed key with another body is idempotency_key_reused');
select hazina.idempotency_complete('user-1', 'key-00000001', 500, '{"error": "late"}');
select hazina.idempotency_abandon('user-1', 'key-00000001');
select is((select row(outcome, response_status)::text from hazina.idempotency_begin('user-1', 'key-00000001', 'POST /transfers', 'hash-a')),
  row('replay', 201)::text, 'a stored response is never overwritten or abandoned');

-- abandon: a server error lets the client retry
select hazina.idempotency_begin('user-1', 'key-00000002', 'POST /transfers', 'hash-a');
select hazina.idempotency_abandon('user-1', 'key-00000002');
select is((select count(*)::int from public.payment_idempotency where idempotency_key = 'user-1/key-00000002'), 0,
  'abandoning an in-progress key forgets it');
select is((select outcome from hazina.idempotency_begin('user-1', 'key-00000002', 'POST /transfers', 'hash-b')), 'started',
  'so a retry (even with a corrected body) starts again');

-- A run whose server died: its lock lapses and a retry takes over.
select hazina.idempotency_begin('user-1', 'key-00000003', 'POST /transfers', 'hash-c');
update public.payment_idempotency set locked_until = now() - interval '1 second' where idempotency_key = 'user-1/key-00000003';
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'key-00000003', 'POST /transfers', 'hash-d')$$,
  'P0001', 'idempotency_key_reused', 'a lapsed lock is not taken over by a different request');
select is((select outcome from hazina.idempotency_begin('user-1', 'key-00000003', 'POST /transfers', 'hash-c')), 'started',
  'the same request takes over an in-progress key whose lock lapsed');
select is((select locked_until from public.payment_idempotency where idempotency_key = 'user-1/key-00000003'),
  now() + interval '60 seconds', 'and locks it again');
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'key-00000003', 'POST /transfers', 'hash-c')$$,
  'P0001', 'idempotency_key_in_use', 'so a third attempt waits for it');

-- Keys expire after 24 h: an expired key starts fresh, whatever it held.
update public.payment_idempotency set expires_at = now() - interval '1 second' where idempotency_key = 'user-1/key-00000001';
select is((select row(outcome, response_status)::text from hazina.idempotency_begin('user-1', 'key-00000001', 'POST /transfers', 'hash-z')),
  row('started', null::int)::text, 'an expired key starts fresh, even with another body');
select is((select row(status, request_hash, response_body)::text from public.payment_idempotency where idempotency_key = 'user-1/key-00000001'),
  row('in_progress', 'hash-z', null::jsonb)::text, 'the old response is gone');
update public.payment_idempotency set expires_at = now() - interval '1 second' where owner_id = 'user-2';
select is(hazina.idempotency_purge_expired(), 1, 'the purge removes expired keys');
select is((select count(*)::int from public.payment_idempotency), 3, 'and only those');

-- Key format
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'short', 'POST /transfers', 'hash-a')$$,
  'P0001', 'invalid_idempotency_key', 'a key needs at least 8 characters');
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'has space 123', 'POST /transfers', 'hash-a')$$,
  'P0001', 'invalid_idempotency_key', 'a key is letters, digits and _ . : -');
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'owner/key-0001', 'POST /transfers', 'hash-a')$$,
  'P0001', 'invalid_idempotency_key', 'a key cannot contain the owner separator');
select throws_ok($$select * from hazina.idempotency_begin('user-1', repeat('k', 256), 'POST /transfers', 'hash-a')$$,
  'P0001', 'invalid_idempotency_key', 'a key has at most 255 characters');
select throws_ok($$select * from hazina.idempotency_begin('user-1', null, 'POST /transfers', 'hash-a')$$,
  'P0001', 'invalid_idempotency_key', 'a key is required');
select is((select outcome from hazina.idempotency_begin('user-1', repeat('k', 255), 'POST /transfers', 'hash-a')), 'started',
  'a 255-character key is accepted');

-- Clients can run none of it.
select pg_temp.act_as('23000000-0000-4000-8000-00000000000a');
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'key-00000009', 'POST /transfers', 'hash-a')$$,
  '42501', null, 'an authenticated client cannot begin idempotency records');
select throws_ok($$select hazina.idempotency_complete('user-1', 'key-00000003', 200, '{}')$$,
  '42501', null, 'an authenticated client cannot complete them');
select throws_ok($$select hazina.idempotency_abandon('user-1', 'key-00000003')$$,
  '42501', null, 'an authenticated client cannot abandon them');
select throws_ok($$select count(*) from public.payment_idempotency$$, '42501', null, 'an authenticated client cannot read them');
reset role;
select pg_temp.act_as_anon();
select throws_ok($$select * from hazina.idempotency_begin('user-1', 'key-00000009', 'POST /transfers', 'hash-a')$$,
  '42501', null, 'anon cannot begin idempotency records');
select throws_ok($$select hazina.idempotency_complete('user-1', 'key-00000003', 200, '{}')$$, '42501', null, 'anon cannot complete them');
select throws_ok($$select hazina.idempotency_abandon('user-1', 'key-00000003')$$, '42501', null, 'anon cannot abandon them');
reset role;
select is(
  array(select format('%s:%s', r, f) from unnest(array['anon', 'authenticated']) r,
          unnest(array['hazina.transfer_batch(jsonb)', 'hazina.idempotency_begin(text,text,text,text,integer)',
                       'hazina.idempotency_complete(text,text,integer,jsonb)', 'hazina.idempotency_abandon(text,text)',
                       'hazina.idempotency_purge_expired()']) f
         where has_function_privilege(r, f::regprocedure, 'EXECUTE')),
  array[]::text[], 'no client role holds EXECUTE on the batch or idempotency functions');
select pg_temp.act_as_service_role();
select is((select outcome from hazina.idempotency_begin('svc:payouts', 'key-00000010', 'POST /payouts', 'hash-s')), 'started',
  'service_role runs the idempotency store');
select lives_ok($$select hazina.idempotency_complete('svc:payouts', 'key-00000010', 200, '{"ok": true}')$$,
  'service_role completes');
select is((select response_status from public.payment_idempotency where idempotency_key = 'svc:payouts/key-00000010'), 200,
  'and reads the stored response');
reset role;

-- Admission limit: at most N new keys per owner per minute; replays always answer.
select hazina.idempotency_begin('user-rl', 'rl-key-0001', 'POST /transfers', 'h1', 2);
select hazina.idempotency_begin('user-rl', 'rl-key-0002', 'POST /transfers', 'h2', 2);
select throws_ok($$select * from hazina.idempotency_begin('user-rl', 'rl-key-0003', 'POST /transfers', 'h3', 2)$$,
  'P0001', 'rate_limited', 'a third new key within the minute is refused');
select hazina.idempotency_complete('user-rl', 'rl-key-0001', 201, '{"done": true}');
select is((select outcome from hazina.idempotency_begin('user-rl', 'rl-key-0001', 'POST /transfers', 'h1', 2)), 'replay',
  'a replay of a known key still answers');
select is((select outcome from hazina.idempotency_begin('user-rl-other', 'rl-key-0003', 'POST /transfers', 'h3', 2)), 'started',
  'the limit is per owner');
update public.payment_idempotency set created_at = now() - interval '61 seconds' where owner_id = 'user-rl';
select is((select outcome from hazina.idempotency_begin('user-rl', 'rl-key-0003', 'POST /transfers', 'h3', 2)), 'started',
  'a minute later the owner may start again');
select is((select outcome from hazina.idempotency_begin('user-rl', 'rl-key-0004', 'POST /transfers', 'h4')), 'started',
  'without a limit nothing is refused');

-- Books
select pg_temp.books_balance();

select * from finish();
rollback;
