-- Auth tables and functions: each role's view of the tables (anon, another user, the owner,
-- service_role), secrets never readable by clients, and the state rules of the functions.
begin;
select plan(69);

-- Fixtures (as the migration owner). A = the owner, B = another user.
insert into public.auth_users (id, email, password_hash, email_verified_at) values
  ('20000000-0000-4000-8000-00000000000a', 'owner@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now()),
  ('20000000-0000-4000-8000-00000000000b', 'other@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now());
insert into public.auth_sessions (id, user_id, refresh_token_hash, family_id, expires_at) values
  ('21000000-0000-4000-8000-00000000000a', '20000000-0000-4000-8000-00000000000a', encode(sha256('fixture-a'), 'hex'),
   '21000000-0000-4000-8000-00000000000a', now() + interval '1 day'),
  ('21000000-0000-4000-8000-00000000000b', '20000000-0000-4000-8000-00000000000b', encode(sha256('fixture-b'), 'hex'),
   '21000000-0000-4000-8000-00000000000b', now() + interval '1 day');
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
select throws_ok($$select * from hazina.signup('x@example.com', 'h', null, null, 'customer')$$, '42501', null,
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

-- ---------------------------------------------------------------- sign-up (as service_role)
select results_eq($$select created from hazina.signup('New@Example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'New', '+254700000001', 'merchant')$$,
                  $$values (true)$$, 'sign-up creates a user');
select is((select role || '|' || email || '|' || (select provider from public.auth_accounts a where a.user_id = u.id)
           from public.auth_users u where email = 'new@example.com'),
          'merchant|new@example.com|credentials', 'lower-cased email, chosen role, and a credentials account');
select results_eq($$select created from hazina.signup('new@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b3RoZXI', null, null, 'customer')$$,
                  $$values (false)$$, 'signing up an existing email is not an error, and creates nothing');
select is((select password_hash from public.auth_users where email = 'new@example.com'),
          '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'a repeated sign-up does not change the password');
select throws_ok($$select * from hazina.signup('plain@example.com', 'hunter2-plaintext', null, null, 'customer')$$,
                 'P0001', 'invalid_argument', 'a plaintext password never reaches the table');
select throws_ok($$select * from hazina.signup('boss@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', null, null, 'admin')$$,
                 'P0001', 'invalid_argument', 'nobody signs up as admin');

-- ---------------------------------------------------------------- password login and lockout
select is((select outcome from hazina.password_login('20000000-0000-4000-8000-00000000000a', false, true, encode(sha256('l1'), 'hex'), 3600)),
          'invalid_credentials', 'a wrong password is refused');
select is((select failed_login_count from public.auth_users where email = 'owner@example.com'), 1, 'and counted');
select is((select string_agg(outcome, ',') from (
             select (hazina.password_login('20000000-0000-4000-8000-00000000000a', false, true, encode(sha256(('l' || n)::bytea), 'hex'), 3600)).outcome
             from generate_series(2, 5) n) attempts),
          'invalid_credentials,invalid_credentials,invalid_credentials,locked', 'the fifth failure locks the account');
select is((select status || '|' || (locked_until = now() + interval '15 minutes')::text from public.auth_users where email = 'owner@example.com'),
          'locked|true', 'locked for 15 minutes');
select is((select outcome from hazina.password_login('20000000-0000-4000-8000-00000000000a', true, true, encode(sha256('l6'), 'hex'), 3600)),
          'locked', 'the right password does not get in while locked');
select is((select count(*)::int from public.auth_sessions where user_id = '20000000-0000-4000-8000-00000000000a'), 1,
          'and no session was created');
update public.auth_users set locked_until = now() - interval '1 second' where email = 'owner@example.com';
select is((select outcome from hazina.password_login('20000000-0000-4000-8000-00000000000a', true, true, encode(sha256('l7'), 'hex'), 3600)),
          'ok', 'after the lock runs out the right password works');
select is((select status || '|' || failed_login_count from public.auth_users where email = 'owner@example.com'), 'active|0',
          'and the account is active with a fresh count');
select is((select outcome from hazina.password_login((select id from public.auth_users where email = 'new@example.com'), true, true,
                                                    encode(sha256('l8'), 'hex'), 3600)),
          'email_not_verified', 'an unverified email cannot sign in with a password when verification is required');
select is((select outcome from hazina.password_login('20000000-0000-4000-8000-00000000000f', true, true, encode(sha256('l9'), 'hex'), 3600)),
          'invalid_credentials', 'an unknown user id gets the generic outcome');

-- ---------------------------------------------------------------- refresh rotation and reuse detection
select is((select outcome || '|' || session_id from hazina.session_refresh(encode(sha256('fixture-a'), 'hex'), encode(sha256('fixture-a2'), 'hex'), 3600)),
          'ok|21000000-0000-4000-8000-00000000000a', 'a refresh rotates within the same session family');
select ok((select rotated_at is not null from public.auth_sessions where id = '21000000-0000-4000-8000-00000000000a'),
          'the presented token is marked rotated');
select is((select outcome from hazina.session_refresh(encode(sha256('fixture-a2'), 'hex'), encode(sha256('fixture-a3'), 'hex'), 3600)),
          'ok', 'the new token refreshes once');
select is((select outcome from hazina.session_refresh(encode(sha256('fixture-a'), 'hex'), encode(sha256('fixture-a4'), 'hex'), 3600)),
          'reused', 'presenting a rotated token again is reuse');
select is((select count(*)::int from public.auth_sessions
           where family_id = '21000000-0000-4000-8000-00000000000a' and revoked_reason = 'refresh_token_reused'), 3,
          'reuse revokes the whole family, the newest token included');
select is((select outcome from hazina.session_refresh(encode(sha256('fixture-a3'), 'hex'), encode(sha256('fixture-a5'), 'hex'), 3600)),
          'revoked', 'the family''s newest token no longer refreshes');
select is((select outcome from hazina.session_refresh(encode(sha256('never-issued'), 'hex'), encode(sha256('fixture-a6'), 'hex'), 3600)),
          'invalid', 'an unknown token is invalid');
update public.auth_sessions set expires_at = now() - interval '1 second' where id = '21000000-0000-4000-8000-00000000000b';
select is((select outcome from hazina.session_refresh(encode(sha256('fixture-b'), 'hex'), encode(sha256('fixture-b2'), 'hex'), 3600)),
          'expired', 'an expired token does not refresh');
select throws_ok($$select hazina.session_revoke('20000000-0000-4000-8000-00000000000a', '21000000-0000-4000-8000-00000000000b')$$,
                 'P0001', 'session_not_found', 'a user cannot revoke another user''s session');

-- ---------------------------------------------------------------- verification tokens
select is(hazina.verification_token_consume(encode(sha256('fixture-token-a'), 'hex'), 'email_verification')::text,
          '20000000-0000-4000-8000-00000000000a', 'a token is consumed once, for its user');
select throws_ok($$select hazina.verification_token_consume(encode(sha256('fixture-token-a'), 'hex'), 'email_verification')$$,
                 'P0001', 'verification_token_used', 'a consumed token cannot be used again');
select hazina.verification_token_issue('20000000-0000-4000-8000-00000000000a', 'password_reset', encode(sha256('reset-1'), 'hex'), 3600);
select throws_ok($$select hazina.email_verify_confirm(encode(sha256('reset-1'), 'hex'))$$,
                 'P0001', 'verification_token_invalid', 'a reset token cannot verify an email');
select hazina.verification_token_issue('20000000-0000-4000-8000-00000000000a', 'password_reset', encode(sha256('reset-2'), 'hex'), 3600);
select throws_ok($$select hazina.password_reset_confirm(encode(sha256('reset-1'), 'hex'), '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3')$$,
                 'P0001', 'verification_token_invalid', 'a newer reset token replaces the older one');
update public.auth_verification_token set expires_at = now() - interval '1 second' where token_hash = encode(sha256('reset-2'), 'hex');
select throws_ok($$select hazina.password_reset_confirm(encode(sha256('reset-2'), 'hex'), '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3')$$,
                 'P0001', 'verification_token_expired', 'an expired reset token is refused');

-- Reset: new hash, every session revoked, lock lifted.
select hazina.verification_token_issue('20000000-0000-4000-8000-00000000000a', 'password_reset', encode(sha256('reset-3'), 'hex'), 3600);
select hazina.session_create('20000000-0000-4000-8000-00000000000a', encode(sha256('live-a'), 'hex'), 3600);
update public.auth_users set status = 'locked', locked_until = now() + interval '10 minutes' where email = 'owner@example.com';
select hazina.password_reset_confirm(encode(sha256('reset-3'), 'hex'), '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3');
select is((select count(*)::int from public.auth_sessions where user_id = '20000000-0000-4000-8000-00000000000a' and revoked_at is null), 0,
          'a password reset revokes every session');
select is((select status || '|' || password_hash from public.auth_users where email = 'owner@example.com'),
          'active|$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3', 'and sets the new hash and lifts the lock');

-- ---------------------------------------------------------------- OAuth
select throws_ok($$select * from hazina.oauth_sign_in('google', 'sub-x', 'x@example.com', false, null, encode(sha256('o1'), 'hex'), 3600)$$,
                 'P0001', 'oauth_email_not_verified', 'an unverified provider email neither creates nor finds a user');
select is((select user_id from hazina.oauth_sign_in('google', 'sub-new-user', 'new@example.com', true, null, encode(sha256('o2'), 'hex'), 3600)),
          (select id from public.auth_users where email = 'new@example.com'),
          'a verified provider email finds the existing account');
select ok((select password_hash is null and email_verified_at is not null from public.auth_users where email = 'new@example.com'),
          'and takes it over from whoever pre-registered it: password removed, email verified');
select is((select count(*)::int from public.auth_accounts a join public.auth_users u on u.id = a.user_id
           where u.email = 'new@example.com' and a.provider = 'credentials'), 0,
          'the pre-registered credentials account is gone');
select throws_ok($$select hazina.oauth_link('20000000-0000-4000-8000-00000000000a', 'google', 'google-b')$$,
                 'P0001', 'oauth_account_in_use', 'an identity linked to one user cannot be linked to another');
reset role;

-- ---------------------------------------------------------------- a revoked login acts no more
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

select * from finish();
rollback;
