-- Auth caller (database/migrations/*_auth_caller.sql): who may act through the client
-- functions. A token outlives its login's revocation until `exp`, but cannot act.
begin;
select plan(4);

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

select * from finish();
rollback;
