-- Deploying with Supabase Auth: auth.users rows are mirrored into public.auth_users.
-- auth.users here is a stand-in with the columns of Supabase's table that the bridge reads.
begin;
\ir helpers.psql
select plan(19);

select is(hazina.install_supabase_auth_mirror(), false, 'without auth.users the installer does nothing');

create table auth.users (
  id                  uuid primary key,
  email               text,
  email_confirmed_at  timestamptz,
  phone               text,
  raw_app_meta_data   jsonb,
  raw_user_meta_data  jsonb
);
select pg_temp.user_create('customer', '11000000-0000-4000-8000-0000000000ff', 'taken@example.com');
insert into auth.users values
  ('11000000-0000-4000-8000-000000000001', 'Early@Example.com', now(), null, '{}', '{"full_name": "Early Bird"}');

select is(hazina.install_supabase_auth_mirror(), true, 'with auth.users the installer installs the trigger');
select is((select email from public.auth_users where id = '11000000-0000-4000-8000-000000000001'), 'early@example.com',
  'users who signed up before the install are copied, email lower-cased');
select is(hazina.install_supabase_auth_mirror(), true, 'installing again is harmless');

-- A signup through Supabase Auth.
insert into auth.users values
  ('11000000-0000-4000-8000-000000000002', 'amina@example.com', null, '254712345678',
   '{"provider": "email", "role": "merchant"}', '{"name": "Amina"}');
select results_eq(
  $$select email, phone, name, role, email_verified_at is null from public.auth_users
     where id = '11000000-0000-4000-8000-000000000002'$$,
  $$values ('amina@example.com'::text, '+254712345678'::text, 'Amina'::text, 'customer'::text, true)$$,
  'a signup is mirrored with the same id: email, E.164 phone, name, a customer, not yet verified');
select results_eq(
  $$select business_name, status from public.merchant_applications where user_id = '11000000-0000-4000-8000-000000000002'$$,
  $$values ('Amina'::text, 'pending'::text)$$,
  'app_metadata role merchant does not make a merchant: it files a pending merchant application');

update auth.users set email_confirmed_at = now() where id = '11000000-0000-4000-8000-000000000002';
select isnt((select email_verified_at from public.auth_users where id = '11000000-0000-4000-8000-000000000002'), null,
  'confirming the email in Supabase verifies it in Hazina');
update auth.users set email = 'amina@shop.example.com' where id = '11000000-0000-4000-8000-000000000002';
select is((select email from public.auth_users where id = '11000000-0000-4000-8000-000000000002'), 'amina@shop.example.com',
  'an email change follows');
select is((select count(*)::int from public.merchant_applications where user_id = '11000000-0000-4000-8000-000000000002'), 1,
  'later Supabase updates file no second application');

-- Roles: nothing from Supabase makes an admin (or a merchant, above).
insert into auth.users values
  ('11000000-0000-4000-8000-000000000003', 'sneaky@example.com', null, null, '{}', '{"role": "admin"}'),
  ('11000000-0000-4000-8000-000000000004', 'boss@example.com', null, null, '{"role": "admin"}', '{}');
select is((select role from public.auth_users where id = '11000000-0000-4000-8000-000000000003'), 'customer',
  'a role in user_metadata (which users write themselves) is ignored');
select is((select role from public.auth_users where id = '11000000-0000-4000-8000-000000000004'), 'customer',
  'admin is never taken from Supabase metadata');
update public.auth_users set role = 'admin' where id = '11000000-0000-4000-8000-000000000001';
update auth.users set raw_app_meta_data = '{"provider": "email"}' where id = '11000000-0000-4000-8000-000000000001';
select is((select role from public.auth_users where id = '11000000-0000-4000-8000-000000000001'), 'admin',
  'a role granted in Hazina survives later Supabase updates');

-- Users Hazina cannot take as they are still get a row, and the signup still succeeds.
insert into auth.users values
  ('11000000-0000-4000-8000-000000000005', null, null, '+254700000005', '{}', '{}'),
  ('11000000-0000-4000-8000-000000000006', 'Taken@example.com', now(), '12', '{}', '{}');
select is((select email || ' ' || phone from public.auth_users where id = '11000000-0000-4000-8000-000000000005'),
  'supabase-11000000-0000-4000-8000-000000000005@users.invalid +254700000005',
  'a phone-only user gets a placeholder email');
select is((select email from public.auth_users where id = '11000000-0000-4000-8000-000000000006'),
  'supabase-11000000-0000-4000-8000-000000000006@users.invalid',
  'an email another Hazina user holds is not taken: placeholder instead');
select is((select phone from public.auth_users where id = '11000000-0000-4000-8000-000000000006'), null,
  'a phone that is not E.164 is dropped');
select is((select count(*)::int from auth.users), 6, 'every signup went through');

-- The mirrored user is a Hazina user: under RLS, as PostgREST runs it, they open a wallet.
select pg_temp.act_as('11000000-0000-4000-8000-000000000002');
select is(public.wallet_open('KES') ->> 'currency', 'KES', 'a mirrored user opens a wallet under their own claims');
reset role;

-- A deleted Supabase user is disabled, their rows kept.
delete from auth.users where id = '11000000-0000-4000-8000-000000000002';
select is((select status from public.auth_users where id = '11000000-0000-4000-8000-000000000002'), 'disabled',
  'deleting the Supabase user disables the Hazina user');
select is((select count(*)::int from public.wallets where user_id = '11000000-0000-4000-8000-000000000002'), 1,
  'and keeps their wallet');

select * from finish();
rollback;
