-- Auth caller (database/migrations/*_auth_caller.sql): who may act through the client
-- functions, and who is an admin. A token outlives its login's revocation, and its user's
-- suspension, until `exp`, but from then on it cannot act: not as a user (move money,
-- open wallets), not as an admin (ops), not on the owner's other logins (logout).
begin;
select plan(45);
\ir helpers.psql

-- Acting as the holder of a token: PostgREST's role + claims, with the login's session_id.
create function pg_temp.act_with_session(p_sub uuid, p_session uuid, p_app_role text default 'customer') returns void
  language plpgsql as $$
begin
  perform set_config('request.jwt.claims', json_build_object('sub', p_sub, 'role', 'authenticated', 'session_id', p_session,
                                                             'app_metadata', json_build_object('role', p_app_role))::text, true);
  perform set_config('role', 'authenticated', true);
end $$;

-- Fixture (as the migration owner): user B.
insert into public.auth_users (id, email, password_hash, email_verified_at) values
  ('20000000-0000-4000-8000-00000000000b', 'other@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now());

-- An access token outlives its login's revocation until `exp`, but client functions (here
-- wallet_open) refuse it. The token's session_id is the login's family id.
select hazina.session_create('20000000-0000-4000-8000-00000000000b', encode(sha256('act-b'), 'hex'), 3600);
select family_id as act_family from public.auth_sessions where refresh_token_hash = encode(sha256('act-b'), 'hex') \gset
select set_config('request.jwt.claims', json_build_object('sub', '20000000-0000-4000-8000-00000000000b', 'role', 'authenticated',
                                                          'session_id', :'act_family')::text, true);
set local role authenticated;
select is(public.wallet_open('KES') ->> 'currency', 'KES', 'a live login acts (opens a wallet)');
reset role;
select hazina.session_revoke('20000000-0000-4000-8000-00000000000b', :'act_family');
set local role authenticated;
select throws_ok($$select public.wallet_open('KES')$$, 'P0001', 'unauthenticated',
                 'once its login is revoked, the same token cannot act');
select set_config('request.jwt.claims', json_build_object('sub', '20000000-0000-4000-8000-00000000000b', 'role', 'authenticated',
                                                          'session_id', gen_random_uuid())::text, true);
select is(public.wallet_open('KES') ->> 'currency', 'KES',
          'a login Hazina does not know (a Supabase Auth session) is not refused');
select set_config('request.jwt.claims', json_build_object('sub', '20000000-0000-4000-8000-00000000000b', 'role', 'authenticated')::text, true);
select is(public.wallet_open('KES') ->> 'currency', 'KES', 'nor is a token without session_id');
reset role;


-- ---------------------------------------------------------------- fixtures for the powers below
-- C pays P; X is an admin; F is a customer whose token claims admin.
insert into public.auth_users (id, email, role) values
  ('20000000-0000-4000-8000-00000000000c', 'payer@example.com', 'customer'),
  ('20000000-0000-4000-8000-00000000000d', 'payee@example.com', 'customer'),
  ('20000000-0000-4000-8000-0000000000ad', 'admin@example.com', 'admin'),
  ('20000000-0000-4000-8000-0000000000af', 'forger@example.com', 'customer');
insert into public.wallets (id, user_id, kind) values
  ('20000000-0000-4000-8000-0000000000c1', '20000000-0000-4000-8000-00000000000c', 'user'),
  ('20000000-0000-4000-8000-0000000000d1', '20000000-0000-4000-8000-00000000000d', 'user');
select pg_temp.fund('20000000-0000-4000-8000-0000000000c1', 100, 'caller-fund');
select (hazina.session_create('20000000-0000-4000-8000-00000000000c', encode(sha256('c-1'), 'hex'), 3600)).family_id as c_login \gset
select (hazina.session_create('20000000-0000-4000-8000-0000000000ad', encode(sha256('x-1'), 'hex'), 3600)).family_id as x_login \gset
select (hazina.session_create('20000000-0000-4000-8000-0000000000ad', encode(sha256('x-2'), 'hex'), 3600)).family_id as x_login2 \gset
select (hazina.session_create('20000000-0000-4000-8000-0000000000af', encode(sha256('f-1'), 'hex'), 3600)).family_id as f_login \gset
select hazina.transfer('caller-paid', '20000000-0000-4000-8000-0000000000c1', '20000000-0000-4000-8000-0000000000d1', 10, 'p2p_transfer')
       ->> 'transaction_id' as paid \gset

-- ---------------------------------------------------------------- a suspended user acts no more
select pg_temp.act_with_session('20000000-0000-4000-8000-00000000000c', :'c_login');
select is(public.transfer('20000000-0000-4000-8000-0000000000c1', '20000000-0000-4000-8000-0000000000d1', 1, 'c-t1') ->> 'amount',
          '1.0000', 'an active user with a live login moves money');
reset role;
update public.auth_users set status = 'disabled' where id = '20000000-0000-4000-8000-00000000000c';
select pg_temp.act_with_session('20000000-0000-4000-8000-00000000000c', :'c_login');
select throws_ok($$select public.transfer('20000000-0000-4000-8000-0000000000c1', '20000000-0000-4000-8000-0000000000d1', 1, 'c-t2')$$,
                 'P0001', 'account_disabled', 'a disabled user''s live token cannot move money');
select throws_ok($$select public.transfer_batch('[{"ref":"c-b1","from_wallet_id":"20000000-0000-4000-8000-0000000000c1","to_wallet_id":"20000000-0000-4000-8000-0000000000d1","amount":"1.00"}]')$$,
                 'P0001', 'account_disabled', 'nor pay in a batch');
select throws_ok($$select public.wallet_source_add('mpesa', '0712000111')$$, 'P0001', 'account_disabled',
                 'nor add a payment source');
select throws_ok($$select public.withdrawal_request(gen_random_uuid(), 1, 'KES', 'c-w1')$$, 'P0001', 'account_disabled',
                 'nor withdraw');
select throws_ok($$select public.funding_start(gen_random_uuid(), 1, 'KES', 'c-f1')$$, 'P0001', 'account_disabled',
                 'nor start a top-up');
select throws_ok($$select public.session_logout('global')$$, 'P0001', 'account_disabled',
                 'nor act on its logins');
select is((select count(*)::int from public.wallet_balances where wallet_id = '20000000-0000-4000-8000-0000000000c1'
           and balance = 89), 1, 'and no money moved (100 - 10 - 1; no fee configured here)');
reset role;
update public.auth_users set status = 'locked', locked_until = null where id = '20000000-0000-4000-8000-00000000000c';
select pg_temp.act_with_session('20000000-0000-4000-8000-00000000000c', :'c_login');
select throws_ok($$select public.transfer('20000000-0000-4000-8000-0000000000c1', '20000000-0000-4000-8000-0000000000d1', 1, 'c-t3')$$,
                 'P0001', 'account_disabled', 'an admin lock (locked with no end) stops acting too');
reset role;
-- A temporary lockout (failed passwords) stops password logins only: whoever guesses at
-- the password cannot freeze the owner's live logins.
update public.auth_users set status = 'locked', locked_until = now() + interval '15 minutes'
 where id = '20000000-0000-4000-8000-00000000000c';
select pg_temp.act_with_session('20000000-0000-4000-8000-00000000000c', :'c_login');
select is(public.transfer('20000000-0000-4000-8000-0000000000c1', '20000000-0000-4000-8000-0000000000d1', 1, 'c-t4') ->> 'amount',
          '1.0000', 'a temporary password lockout does not stop a live login');
reset role;
select pg_temp.act_as('20000000-0000-4000-8000-0000000000ee');
select throws_ok($$select public.wallet_open('KES')$$, 'P0001', 'unauthenticated', 'a token for a user that does not exist acts not');
reset role;

-- ---------------------------------------------------------------- an admin whose logins ended
select pg_temp.act_with_session('20000000-0000-4000-8000-0000000000ad', :'x_login', 'admin');
select ok(public.is_admin(), 'an active admin with a live login is an admin');
select is(public.ops_set_wallet_status('20000000-0000-4000-8000-0000000000d1', 'frozen') ->> 'status', 'frozen', 'and freezes a wallet');
select is(public.ops_set_wallet_status('20000000-0000-4000-8000-0000000000d1', 'active') ->> 'status', 'active', 'and unfreezes it');
select ok((select count(*) from public.audit_logs) > 0, 'and reads the audit log');
reset role;
select hazina.session_revoke_all('20000000-0000-4000-8000-0000000000ad', 'logout_global');
select pg_temp.act_with_session('20000000-0000-4000-8000-0000000000ad', :'x_login', 'admin');
select ok(not public.is_admin(), 'once every login of the admin ended, the token is no admin');
select throws_ok(format($$select public.ops_reverse_transaction('%s', 'x-r1', null, 'mistake')$$, :'paid'), 'P0001', 'unauthenticated',
                 'it cannot reverse a transaction');
select throws_ok($$select public.ops_set_wallet_status('20000000-0000-4000-8000-0000000000d1', 'frozen')$$, 'P0001', 'unauthenticated',
                 'nor freeze a wallet');
select throws_ok($$select public.ops_run_sweeps()$$, 'P0001', 'unauthenticated', 'nor run the sweeps');
select throws_ok($$select public.ops_reconciliation()$$, 'P0001', 'unauthenticated', 'nor reconcile');
select is((select count(*)::int from public.audit_logs), 0, 'nor read the audit log');
select pg_temp.act_with_session('20000000-0000-4000-8000-0000000000ad', :'x_login2', 'admin');
select throws_ok($$select public.ops_run_sweeps()$$, 'P0001', 'unauthenticated', 'nor can the token of its other ended login');
reset role;
select is((select count(*)::int from public.wallet_transactions where reverses_id = :'paid'), 0, 'nothing was reversed');
select is((select status::text from public.wallets where id = '20000000-0000-4000-8000-0000000000d1'), 'active', 'nothing was frozen');
-- A disabled admin with a brand-new login is no admin either.
select (hazina.session_create('20000000-0000-4000-8000-0000000000ad', encode(sha256('x-3'), 'hex'), 3600)).family_id as x_login3 \gset
update public.auth_users set status = 'disabled' where id = '20000000-0000-4000-8000-0000000000ad';
select pg_temp.act_with_session('20000000-0000-4000-8000-0000000000ad', :'x_login3', 'admin');
select ok(not public.is_admin(), 'a disabled admin is no admin');
select throws_ok($$select public.ops_run_sweeps()$$, 'P0001', 'account_disabled', 'and cannot run the sweeps');
select is((select count(*)::int from public.audit_logs), 0, 'nor read the audit log');
reset role;
update public.auth_users set status = 'active' where id = '20000000-0000-4000-8000-0000000000ad';
select pg_temp.act_with_session('20000000-0000-4000-8000-0000000000ad', :'x_login3', 'admin');
select ok(public.is_admin(), 're-enabled, its live login is an admin again');
reset role;

-- ---------------------------------------------------------------- admin is the database's word, not the token's
select pg_temp.act_with_session('20000000-0000-4000-8000-0000000000af', :'f_login', 'admin');
select ok(not public.is_admin(), 'a customer whose token claims admin (app_metadata.role) is no admin');
select is((select count(*)::int from public.audit_logs), 0, 'and reads no audit log');
select throws_ok($$select public.ops_run_sweeps()$$, 'P0001', 'forbidden', 'and runs no sweeps');
reset role;
select pg_temp.act_as(null, 'anon');
select throws_ok($$select public.is_admin()$$, '42501', null, 'anon cannot ask (it needs a signed-in user)');
reset role;
set local role service_role;
select ok(not public.is_admin(), 'service_role is no admin of the ops functions (it has no auth.uid())');
reset role;

-- ---------------------------------------------------------------- logout acts for a live login only
select (hazina.session_create('20000000-0000-4000-8000-00000000000d', encode(sha256('d-old'), 'hex'), 3600)).family_id as d_old \gset
select hazina.session_revoke('20000000-0000-4000-8000-00000000000d', :'d_old');
select (hazina.session_create('20000000-0000-4000-8000-00000000000d', encode(sha256('d-new'), 'hex'), 3600)).family_id as d_new \gset
select (hazina.session_create('20000000-0000-4000-8000-00000000000d', encode(sha256('d-other'), 'hex'), 3600)).family_id as d_other \gset
select pg_temp.act_with_session('20000000-0000-4000-8000-00000000000d', :'d_old');
select throws_ok($$select public.session_logout('global')$$, 'P0001', 'unauthenticated',
                 'a revoked token cannot log the owner out everywhere');
select throws_ok($$select public.session_logout('others')$$, 'P0001', 'unauthenticated', 'nor from the others');
select throws_ok(format($$select public.session_end('%s')$$, :'d_new'), 'P0001', 'unauthenticated',
                 'nor end the owner''s new login by id');
reset role;
-- The auth function links an OIDC identity as service_role for the caller its claims name.
set local role service_role;
select set_config('request.jwt.claims', json_build_object('sub', '20000000-0000-4000-8000-00000000000d', 'role', 'authenticated',
                                                          'session_id', :'d_old')::text, true);
select throws_ok($$select hazina.oauth_link(hazina.caller_id(), 'google', 'attacker-sub')$$, 'P0001', 'unauthenticated',
                 'nor link an attacker''s identity to the account (the OAuth link path)');
reset role;
select is((select count(*)::int from public.auth_sessions where family_id in (:'d_new', :'d_other') and revoked_at is null), 2,
          'the owner''s new logins survive');
select pg_temp.act_with_session('20000000-0000-4000-8000-00000000000d', :'d_new');
select is(public.session_logout('others'), 1, 'the live login logs out the others');
select is(public.session_logout('local'), 1, 'and then itself');
select throws_ok($$select public.session_logout('everywhere')$$, 'P0001', 'unauthenticated',
                 'and having logged out, acts no more');
reset role;

select * from finish();
rollback;
