-- Auth tables (database/migrations/*_auth_tables.sql): each role's view of them (anon, another
-- user, the owner, service_role), and secrets never readable by clients.
begin;
select plan(28);

-- Fixtures (as the migration owner). A = the owner, B = another user, each signed in once.
\ir helpers.psql
select pg_temp.auth_owner_and_other();
insert into public.auth_accounts (user_id, provider, provider_account_id, access_token, id_token) values
  ('20000000-0000-4000-8000-00000000000a', 'google', 'google-a', 'provider-access-token-a', 'provider-id-token-a'),
  ('20000000-0000-4000-8000-00000000000b', 'google', 'google-b', 'provider-access-token-b', null);
insert into public.auth_verification_token (user_id, purpose, token_hash, expires_at) values
  ('20000000-0000-4000-8000-00000000000a', 'email_verification', encode(sha256('fixture-token-a'), 'hex'), now() + interval '1 day');

-- ---------------------------------------------------------------- anon
set local role anon;
select set_config('request.jwt.claims', '{"role":"anon"}', true);
select throws_ok($$select id from public.auth_users$$, '42501', null, 'anon cannot read auth_users');
select throws_ok($$select id from public.auth_sessions$$, '42501', null, 'anon cannot read auth_sessions');
select throws_ok($$select id from public.auth_accounts$$, '42501', null, 'anon cannot read auth_accounts');
select throws_ok($$select id from public.auth_verification_token$$, '42501', null, 'anon cannot read auth_verification_token');
select throws_ok($$insert into public.auth_users (email) values ('anon@example.com')$$, '42501', null, 'anon cannot create users');
select throws_ok($$select * from hazina.signup('x@example.com', 'h', null, null)$$, '42501', null,
                 'anon cannot call the sign-up function directly');
reset role;

-- ---------------------------------------------------------------- the owner
set local role authenticated;
select set_config('request.jwt.claims', '{"role":"authenticated","sub":"20000000-0000-4000-8000-00000000000a"}', true);
select results_eq($$select id::text, email from public.auth_users$$,
                  $$values ('20000000-0000-4000-8000-00000000000a', 'owner@example.com')$$,
                  'the owner reads exactly their own user row');
select throws_ok($$select password_hash from public.auth_users$$, '42501', null, 'the owner cannot read their password hash');
select throws_ok($$select * from public.auth_users$$, '42501', null, 'select * fails: the hash column is not granted');
select throws_ok($$select failed_login_count, locked_until from public.auth_users$$, '42501', null,
                 'the owner cannot read the lockout counters');
select results_eq($$select id::text from public.auth_sessions$$, $$values ('21000000-0000-4000-8000-00000000000a')$$,
                  'the owner reads exactly their own sessions');
select throws_ok($$select refresh_token_hash from public.auth_sessions$$, '42501', null,
                 'the owner cannot read refresh token hashes');
select results_eq($$select provider, provider_account_id from public.auth_accounts$$, $$values ('google', 'google-a')$$,
                  'the owner reads exactly their own accounts');
select throws_ok($$select access_token from public.auth_accounts$$, '42501', null, 'provider access tokens are not readable');
select throws_ok($$select id_token, refresh_token from public.auth_accounts$$, '42501', null, 'provider id/refresh tokens are not readable');
select throws_ok($$select id from public.auth_verification_token$$, '42501', null,
                 'the owner cannot read verification tokens');
select throws_ok($$update public.auth_users set role = 'admin' where id = auth.uid()$$, '42501', null,
                 'the owner cannot promote themselves');
select throws_ok($$update public.auth_users set email_verified_at = now() where id = auth.uid()$$, '42501', null,
                 'the owner cannot mark their email verified');
select throws_ok($$update public.auth_sessions set revoked_at = null$$, '42501', null, 'the owner cannot un-revoke sessions');
select throws_ok($$delete from public.auth_sessions$$, '42501', null, 'the owner cannot delete session rows');
select throws_ok($$insert into public.auth_accounts (user_id, provider, provider_account_id)
                   values (auth.uid(), 'google', 'someone-elses-sub')$$, '42501', null,
                 'the owner cannot link an identity directly');
select throws_ok($$select hazina.session_revoke_all('20000000-0000-4000-8000-00000000000b', 'x')$$, '42501', null,
                 'the owner cannot call internal auth functions');

-- ---------------------------------------------------------------- another user
select set_config('request.jwt.claims', '{"role":"authenticated","sub":"20000000-0000-4000-8000-00000000000b"}', true);
select is((select count(id)::int from public.auth_users where id = '20000000-0000-4000-8000-00000000000a'), 0,
          'another user does not see the owner''s user row');
select is((select count(id)::int from public.auth_sessions where user_id = '20000000-0000-4000-8000-00000000000a'), 0,
          'another user does not see the owner''s sessions');
select is((select count(id)::int from public.auth_accounts where user_id = '20000000-0000-4000-8000-00000000000a'), 0,
          'another user does not see the owner''s accounts');
reset role;

-- ---------------------------------------------------------------- service_role
set local role service_role;
select set_config('request.jwt.claims', '{"role":"service_role"}', true);
select is((select count(*)::int from public.auth_users where email in ('owner@example.com', 'other@example.com')), 2,
          'service_role reads every user');
select ok((select password_hash is not null from public.auth_users where email = 'owner@example.com'),
          'service_role can read the hash (the auth service verifies passwords)');
select is((select count(*)::int from public.auth_verification_token where user_id = '20000000-0000-4000-8000-00000000000a'), 1,
          'service_role reads verification tokens');
reset role;

select * from finish();
rollback;
