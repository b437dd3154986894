-- Auth OAuth (database/migrations/*_auth_oauth.sql): sign-in with a verified OIDC identity
-- (pre-account-takeover defence included) and linking, as service_role.
begin;
select plan(5);

-- Fixtures (as the migration owner). A and B; B's Google identity; new@example.com
-- pre-registered with a password and never verified.
insert into public.auth_users (id, email, password_hash, email_verified_at) values
  ('20000000-0000-4000-8000-00000000000a', 'owner@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now()),
  ('20000000-0000-4000-8000-00000000000b', 'other@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now());
insert into public.auth_accounts (user_id, provider, provider_account_id) values
  ('20000000-0000-4000-8000-00000000000b', 'google', 'google-b');
select created from hazina.signup('new@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', null, null);

set local role service_role;
select set_config('request.jwt.claims', '{"role":"service_role"}', true);

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

select * from finish();
rollback;
