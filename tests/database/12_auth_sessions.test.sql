-- Auth sessions (database/migrations/*_auth_sessions.sql): sign-up, password login and
-- lockout, refresh rotation and reuse detection, revocation. Run as service_role, as the
-- auth function calls them.
begin;
select plan(25);

-- Fixtures (as the migration owner). A = the owner, B = another user, each signed in once.
\ir helpers.psql
select pg_temp.auth_owner_and_other();

set local role service_role;
select set_config('request.jwt.claims', '{"role":"service_role"}', true);

-- ---------------------------------------------------------------- sign-up (as service_role)
select results_eq($$select created from hazina.signup('New@Example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'New', '+254700000001')$$,
                  $$values (true)$$, 'sign-up creates a user');
select is((select role || '|' || email || '|' || (select provider from public.auth_accounts a where a.user_id = u.id)
           from public.auth_users u where email = 'new@example.com'),
          'customer|new@example.com|credentials', 'lower-cased email, a customer (every sign-up is), and a credentials account');
select results_eq($$select created from hazina.signup('new@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b3RoZXI', null, null)$$,
                  $$values (false)$$, 'signing up an existing email is not an error, and creates nothing');
select is((select password_hash from public.auth_users where email = 'new@example.com'),
          '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'a repeated sign-up does not change the password');
select throws_ok($$select * from hazina.signup('plain@example.com', 'hunter2-plaintext', null, null)$$,
                 'P0001', 'invalid_argument', 'a plaintext password never reaches the table');
select throws_ok($$select * from hazina.signup('boss@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', null, null, 'admin')$$,
                 '42883', null, 'there is no role to choose: nobody signs up as admin, or as merchant (an admin approves that)');

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

reset role;

select * from finish();
rollback;
