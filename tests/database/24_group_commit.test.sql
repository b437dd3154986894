-- Group commit (the group_commit migration): hazina.transfer_group runs several callers'
-- transfers in one transaction, each item as its own caller (its claims become
-- request.jwt.claims, so hazina.caller_id decides per item), with its own Idempotency-Key
-- record, checks and outcome; hazina.idempotency_complete_group stores the answers. Only
-- the edge (service_role) may call them. public.transfer keeps its behaviour through the
-- shared hazina.transfer_authorize.
begin;
select plan(29);

\ir helpers.psql

select pg_temp.user_create('customer', '43000000-0000-4000-8000-00000000000a') as alice_id,
       pg_temp.user_create('customer', '43000000-0000-4000-8000-00000000000b') as bob_id,
       pg_temp.user_create('customer', '43000000-0000-4000-8000-00000000000c') as carol_id,
       pg_temp.user_create('customer', '43000000-0000-4000-8000-00000000000d') as dave_id \gset
select pg_temp.wallet_open(:'alice_id') as alice, pg_temp.wallet_open(:'bob_id') as bob,
       pg_temp.wallet_open(:'carol_id') as carol, pg_temp.wallet_open(:'dave_id') as dave \gset
select pg_temp.fund(:'alice', 100.00), pg_temp.fund(:'bob', 100.00), pg_temp.fund(:'dave', 100.00);
-- Dave's login has been revoked since his token was issued.
insert into public.auth_sessions (user_id, refresh_token_hash, family_id, expires_at, revoked_at, revoked_reason)
values (:'dave_id', 'h43-dave', '43000000-0000-4000-8000-0000000000d5', now() + interval '1 day', now(), 'logout');

-- Who may call it: the edge (service_role), never a client.
select pg_temp.act_as(:'alice_id');
select throws_ok($$select hazina.transfer_group('[]')$$, '42501', null, 'a signed-in user may not call transfer_group');
select throws_ok($$select hazina.idempotency_complete_group('[]')$$, '42501', null,
  'nor idempotency_complete_group');
reset role;
select pg_temp.act_as_anon();
select throws_ok($$select hazina.transfer_group('[]')$$, '42501', null, 'nor anon');
reset role;

create function pg_temp.item(p_user uuid, p_key text, p_from uuid, p_to uuid, p_amount text,
                             p_session uuid default null, p_hash text default 'h') returns jsonb
  language sql as $$
  select jsonb_build_object('owner', p_user::text, 'key', p_key, 'scope', 'POST /wallets/transfers', 'hash', p_hash,
    'claims', jsonb_strip_nulls(jsonb_build_object('sub', p_user, 'role', 'authenticated', 'session_id', p_session)),
    'headers', jsonb_build_object('x-request-id', 'req-' || p_key),
    'from_wallet_id', p_from, 'to_wallet_id', p_to, 'amount', p_amount) $$;

select pg_temp.act_as_service_role();
select throws_ok($$select hazina.transfer_group('[]')$$, 'P0001', 'invalid_entries', 'an empty group is refused');

-- A clean group of two callers posts set-based, each as its own caller.
select hazina.transfer_group(jsonb_build_array(
  pg_temp.item(:'alice_id', 'gc-key-0001', :'alice', :'carol', '10.00'),
  pg_temp.item(:'bob_id', 'gc-key-0002', :'bob', :'carol', '20.00'))) as g1 \gset
select is(jsonb_path_query_array(:'g1'::jsonb, '$[*].outcome'), '["posted", "posted"]', 'both items post');
select is((:'g1'::jsonb) -> 0 -> 'result' ->> 'ref', 'gc-key-0001', 'the result carries the client''s own ref');
select is((:'g1'::jsonb) -> 1 -> 'result' ->> 'amount', '20.0000', 'each item its own result');
reset role;
select results_eq(
  $$select created_by, metadata ->> 'initiated_by' from public.wallet_transactions
     where ref in ('transfer:43000000-0000-4000-8000-00000000000a:gc-key-0001',
                   'transfer:43000000-0000-4000-8000-00000000000b:gc-key-0002') order by ref$$,
  $$values ('43000000-0000-4000-8000-00000000000a'::uuid, '43000000-0000-4000-8000-00000000000a'),
           ('43000000-0000-4000-8000-00000000000b'::uuid, '43000000-0000-4000-8000-00000000000b')$$,
  'each posting was created by, and initiated by, its own caller');
select results_eq(
  $$select status, response_status, response_body ->> 'ref' from public.payment_idempotency
     where idempotency_key in ('43000000-0000-4000-8000-00000000000a/gc-key-0001',
                               '43000000-0000-4000-8000-00000000000b/gc-key-0002') order by idempotency_key$$,
  $$values ('completed', 201, 'gc-key-0001'), ('completed', 201, 'gc-key-0002')$$,
  'each item has its own key record, completed with its own posting as the stored response');
select pg_temp.act_as_service_role();
select hazina.transfer_group(jsonb_build_array(
  pg_temp.item(:'bob_id', 'gc-key-0010', :'bob', :'bob', '1.00'))) as g0 \gset
select is((select status from public.payment_idempotency where idempotency_key = :'bob_id' || '/gc-key-0010'),
  'in_progress', 'a refused item''s key is left in progress, for the edge to store the refusal');
select hazina.idempotency_complete_group(jsonb_build_array(
  jsonb_build_object('owner', :'bob_id', 'key', 'gc-key-0010')));
reset role;
select is((select count(*)::int from public.payment_idempotency where idempotency_key = :'bob_id' || '/gc-key-0010'),
  0, 'complete_group abandons a key with no status (a 5xx: the client may retry)');

-- A mixed group: each failure is its own, the others post (item by item after the fast
-- path declines, wallets locked up front).
select pg_temp.act_as_service_role();
select hazina.transfer_group(jsonb_build_array(
  pg_temp.item(:'alice_id', 'gc-key-0001', :'alice', :'carol', '10.00'),            -- replay of a stored answer
  pg_temp.item(:'alice_id', 'gc-key-0001', :'alice', :'carol', '11.00', null, 'x'), -- same key, other request
  pg_temp.item(:'carol_id', 'gc-key-0003', :'carol', :'bob', '500.00'),             -- cannot pay
  pg_temp.item(:'carol_id', 'gc-key-0004', :'alice', :'bob', '1.00'),               -- not carol's wallet
  pg_temp.item(:'dave_id', 'gc-key-0005', :'dave', :'bob', '1.00', '43000000-0000-4000-8000-0000000000d5'), -- revoked login
  pg_temp.item(:'bob_id', 'gc-key-0006', :'bob', :'alice', '5.00'),                 -- fine
  pg_temp.item(:'bob_id', 'gc-key-0006', :'bob', :'alice', '5.00'),                 -- the same key again, in the group
  pg_temp.item(:'carol_id', 'gc-key-0007', :'carol', :'carol', '1.00'))) as g2 \gset
select is(jsonb_path_query_array(:'g2'::jsonb, '$[*].outcome'),
  '["replay", "refused", "failed", "failed", "failed", "posted", "refused", "failed"]', 'one outcome per item');
select is((:'g2'::jsonb) -> 0 ->> 'status', '201', 'a replay returns the stored status');
select is((:'g2'::jsonb) -> 0 -> 'body' ->> 'ref', 'gc-key-0001', 'and the stored body');
select is((:'g2'::jsonb) -> 1 -> 'error' ->> 'message', 'idempotency_key_reused', 'same key, other request: reused');
select is((:'g2'::jsonb) -> 2 -> 'error' ->> 'message', 'insufficient_funds', 'a payer who cannot pay fails alone');
select is((:'g2'::jsonb) -> 3 -> 'error' ->> 'message', 'wallet_not_found', 'a wallet that is not the caller''s: not found');
select is((:'g2'::jsonb) -> 3 -> 'error' ->> 'detail', jsonb_build_object('wallet_id', :'alice'::uuid)::text,
  'with the details the edge turns into the error body');
select is((:'g2'::jsonb) -> 4 -> 'error' ->> 'message', 'unauthenticated', 'a revoked login is refused for its item only');
select is((:'g2'::jsonb) -> 4 -> 'error' ->> 'detail', '{"reason": "session_revoked"}', 'as hazina.caller_id says it');
select is((:'g2'::jsonb) -> 5 -> 'result' ->> 'amount', '5.0000', 'the good item posts');
select is((:'g2'::jsonb) -> 6 -> 'error' ->> 'message', 'idempotency_key_in_use',
  'a key an earlier item of the group holds: in use (409), not a second posting');
select is((:'g2'::jsonb) -> 7 -> 'error' ->> 'message', 'same_wallet', 'a refusal of hazina.transfer itself fails alone');
select hazina.idempotency_complete_group(jsonb_build_array(jsonb_build_object('owner', :'carol_id', 'key', 'gc-key-0003',
  'status', 409, 'body', '{"error": {"code": "insufficient_funds"}}'::jsonb)));
reset role;
select is((select status || ' ' || response_status || ' ' || (response_body -> 'error' ->> 'code')
             from public.payment_idempotency where idempotency_key = :'carol_id' || '/gc-key-0003'),
  'completed 409 insufficient_funds', 'complete_group stores the refusal the edge built');
select is((select count(*)::int from public.wallet_transactions where ref like 'transfer:%:gc-key-000%'), 3,
  'only the postable items posted (two before, one now)');

-- A disabled user's item is refused in the database, whatever the token says.
update public.auth_users set status = 'disabled' where id = :'alice_id';
select pg_temp.act_as_service_role();
select hazina.transfer_group(jsonb_build_array(
  pg_temp.item(:'alice_id', 'gc-key-0008', :'alice', :'bob', '1.00'),
  pg_temp.item(:'bob_id', 'gc-key-0009', :'bob', :'carol', '1.00'))) as g3 \gset
select is(jsonb_path_query_array(:'g3'::jsonb, '$[*].outcome'), '["failed", "posted"]', 'the disabled user''s item fails, the other posts');
select is((:'g3'::jsonb) -> 0 -> 'error' ->> 'message', 'account_disabled', 'account_disabled');
reset role;

select * from pg_temp.books_balance();
select * from finish();
rollback;
