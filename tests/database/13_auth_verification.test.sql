-- Auth verification (database/migrations/*_auth_verification.sql): single-use tokens for
-- email verification and password reset, as service_role.
begin;
select plan(7);

-- Fixtures (as the migration owner): users A and B; A holds an email verification token.
insert into public.auth_users (id, email, password_hash, email_verified_at) values
  ('20000000-0000-4000-8000-00000000000a', 'owner@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now()),
  ('20000000-0000-4000-8000-00000000000b', 'other@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now());
insert into public.auth_verification_token (user_id, purpose, token_hash, expires_at) values
  ('20000000-0000-4000-8000-00000000000a', 'email_verification', encode(sha256('fixture-token-a'), 'hex'), now() + interval '1 day');

set local role service_role;
select set_config('request.jwt.claims', '{"role":"service_role"}', true);

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

reset role;

select * from finish();
rollback;
